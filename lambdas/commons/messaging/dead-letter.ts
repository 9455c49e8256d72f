/**
 * The one way a consumer dead-letters an SQS record by hand, with the reason: what it does with a
 * message no retry can mend (not JSON, not the expected shape), or on its last allowed attempt, so
 * that the DLQ holds the reason beside the body (`npm run dlq -- list` shows it).
 *
 * The dead letter must always be accepted by SQS, or the message would loop instead (the record
 * fails, comes back, fails to dead-letter again, and SQS's redrive finally moves it without any
 * reason). So:
 * - every attribute value is SQS text (lone surrogates and refused control characters become
 *   U+FFFD) and bounded; empty values are left out (SQS refuses them);
 * - the copy, counted as SQS counts it (body + each attribute's name, type and value, in UTF-8
 *   bytes), fits `DEAD_LETTER_MAX_BYTES`: a body too large for it is put behind the claim check
 *   when the consumer has a claim-check store (the reference then travels, and a redrive resolves it
 *   like any claim-checked event), else cut, with `bodyTruncated`, `bodyOriginalBytes` and
 *   `bodySha256` attributes saying so. The reason is always kept.
 */
import { createHash } from 'node:crypto';
import { type MessageAttributeValue, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { sqsClient } from '../clients/sqs.js';
import { logger } from '../powertools.js';
import type { ClaimCheckMessage, ClaimCheckStore } from './claim-check.js';
import { toSqsText, truncateUtf8 } from './well-formed.js';

/**
 * The size a dead letter (body and attributes) must fit. SQS accepts up to 1 MiB per message since
 * August 2025 (a queue's MaximumMessageSize may be set up to 1,048,576 bytes), but a queue may still
 * be configured lower and SNS, which feeds our queues, stops at 256 KiB: 256 KiB is the bound every
 * queue of the platform accepts, whatever its setting.
 */
export const DEAD_LETTER_MAX_BYTES = 256 * 1024;

/** A reason longer than this (in UTF-8 bytes) is cut: a reason says why, it does not carry data. */
export const MAX_REASON_BYTES = 2048;
/** Any other attribute value is cut at this many bytes (ids, ARNs: far below). */
const MAX_ATTRIBUTE_BYTES = 512;
/** SQS refuses an empty body: what a dead letter of an empty message carries instead. */
export const EMPTY_BODY_PLACEHOLDER = '(empty body)';

export type StringAttributes = Record<string, { DataType: 'String' | 'Number'; StringValue: string }>;

/** SQS's count of a message's size: the body plus each attribute's name, data type and value. */
export function sqsMessageSize(body: string, attributes: Record<string, MessageAttributeValue> = {}): number {
  let bytes = Buffer.byteLength(body, 'utf8');
  for (const [name, value] of Object.entries(attributes)) {
    bytes += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value.DataType ?? '', 'utf8');
    if (value.StringValue !== undefined) bytes += Buffer.byteLength(value.StringValue, 'utf8');
    if (value.BinaryValue !== undefined) bytes += value.BinaryValue.byteLength;
  }
  return bytes;
}

export interface DeadLetterInput {
  /** The message's body, untouched when it fits. */
  readonly body: string;
  /** Why: always kept (cut at MAX_REASON_BYTES). */
  readonly reason: string;
  readonly sourceMessageId?: string;
  /** The source queue's ARN. */
  readonly sourceQueue?: string;
  readonly correlationId?: string;
}

export interface DeadLetterMessage {
  readonly MessageBody: string;
  readonly MessageAttributes: StringAttributes;
}

const text = (value: string, maxBytes: number): string => truncateUtf8(toSqsText(value), maxBytes);

/** The reason and provenance attributes of a dead letter; empty values are left out. */
function provenance(input: DeadLetterInput): StringAttributes {
  const attributes: StringAttributes = {
    reason: { DataType: 'String', StringValue: text(input.reason, MAX_REASON_BYTES) || '(no reason given)' },
  };
  const optional: [string, string | undefined][] = [
    ['sourceMessageId', input.sourceMessageId],
    ['sourceQueue', input.sourceQueue],
    ['correlationId', input.correlationId],
  ];
  for (const [name, value] of optional) {
    const safe = value === undefined ? '' : text(value, MAX_ATTRIBUTE_BYTES);
    if (safe !== '') attributes[name] = { DataType: 'String', StringValue: safe };
  }
  return attributes;
}

const sha256 = (body: string): string => createHash('sha256').update(body, 'utf8').digest('hex');

/**
 * The dead letter of `input`, cut to fit `maxBytes` when it must (pure): the body keeps as much of
 * its beginning as fits beside the attributes, which then say it was cut, how large it was and its
 * SHA-256 (of the original UTF-8 bytes).
 */
export function deadLetterMessage(
  input: DeadLetterInput,
  maxBytes = DEAD_LETTER_MAX_BYTES,
): DeadLetterMessage {
  const attributes = provenance(input);
  const safeBody = toSqsText(input.body);
  if (safeBody === '') {
    return {
      MessageBody: EMPTY_BODY_PLACEHOLDER,
      MessageAttributes: { ...attributes, bodyEmpty: { DataType: 'String', StringValue: 'true' } },
    };
  }
  if (sqsMessageSize(safeBody, attributes) <= maxBytes) {
    return { MessageBody: safeBody, MessageAttributes: attributes };
  }
  const marked: StringAttributes = {
    ...attributes,
    bodyTruncated: { DataType: 'String', StringValue: 'true' },
    bodyOriginalBytes: { DataType: 'Number', StringValue: String(Buffer.byteLength(input.body, 'utf8')) },
    bodySha256: { DataType: 'String', StringValue: sha256(input.body) },
  };
  const budget = maxBytes - sqsMessageSize('', marked);
  const cut = truncateUtf8(safeBody, budget);
  return { MessageBody: cut === '' ? EMPTY_BODY_PLACEHOLDER : cut, MessageAttributes: marked };
}

/**
 * The dead letter of `input` with its body behind the claim check when it does not fit; undefined
 * when it fits anyway (nothing to claim-check) or the store refused the body (the caller then cuts).
 */
async function claimChecked(
  input: DeadLetterInput,
  store: ClaimCheckStore,
  maxBytes: number,
): Promise<DeadLetterMessage | undefined> {
  const plain = deadLetterMessage(input, maxBytes);
  if (plain.MessageAttributes.bodyTruncated === undefined) return undefined;
  const digest = sha256(input.body);
  try {
    // Under the claim-check prefix (`events/`), named by content: a second dead letter of the
    // same body writes the same object.
    const ref = await store.put(`events/dead-letters/${digest}.json`, input.body);
    const reference: ClaimCheckMessage = {
      claimCheck: ref,
      eventId: input.sourceMessageId ?? digest,
      type: 'dead-letter',
      bytes: Buffer.byteLength(input.body, 'utf8'),
    };
    const attributes = provenance(input);
    return {
      MessageBody: JSON.stringify(reference),
      MessageAttributes: {
        ...attributes,
        bodyClaimChecked: { DataType: 'String', StringValue: text(`s3://${ref.bucket}/${ref.key}`, 1024) },
        bodySha256: { DataType: 'String', StringValue: digest },
      },
    };
  } catch (error) {
    logger.warn('Dead letter body not claim-checked; it is cut instead', { error: error as Error });
    return undefined;
  }
}

export interface DeadLetterOptions {
  readonly correlationId?: string;
  /** Where a body too large for the dead letter is kept whole (the consumer's claim-check store). */
  readonly claimCheck?: ClaimCheckStore;
  /** @default DEAD_LETTER_MAX_BYTES */
  readonly maxBytes?: number;
}

/** Sends the dead letter of `input` (see `deadLetterMessage`) to the queue at `deadLetterQueueUrl`. */
export async function sendDeadLetter(
  deadLetterQueueUrl: string,
  input: DeadLetterInput,
  options: Omit<DeadLetterOptions, 'correlationId'> = {},
): Promise<void> {
  const maxBytes = options.maxBytes ?? DEAD_LETTER_MAX_BYTES;
  const message =
    (options.claimCheck ? await claimChecked(input, options.claimCheck, maxBytes) : undefined) ??
    deadLetterMessage(input, maxBytes);
  await sqsClient().send(new SendMessageCommand({ QueueUrl: deadLetterQueueUrl, ...message }));
}

/** Dead-letters an SQS record: its body, the reason, its message id and source queue. */
export async function sendToDeadLetterQueue(
  deadLetterQueueUrl: string,
  record: Pick<SQSRecord, 'body' | 'messageId' | 'eventSourceARN'>,
  reason: string,
  options: DeadLetterOptions = {},
): Promise<void> {
  await sendDeadLetter(
    deadLetterQueueUrl,
    {
      body: record.body,
      reason,
      sourceMessageId: record.messageId,
      sourceQueue: record.eventSourceARN,
      ...(options.correlationId !== undefined ? { correlationId: options.correlationId } : {}),
    },
    options,
  );
}

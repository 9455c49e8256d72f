/**
 * Stock-check responder (request-reply): answers "what did inventory decide for this order?" on
 * the request's reply queue, with the request's correlation id, as soon as the reservation is
 * recorded on the order (INVENTORY_RESERVED, REJECTED, or a later status), or with PENDING when the
 * request's deadline passes first.
 *
 * Nothing of a request is trusted. A request that cannot be read (body not JSON, not
 * `{orderId, deadline}`, no usable `correlationId`), or whose `replyTo` is not the allowed reply
 * queue (`REPLY_QUEUE_URL`; without it, an SQS queue URL of the request queue's account and
 * region, so that a request can never make us send to an arbitrary URL), is dead-lettered at once
 * with a reason naming each field and why. So is a reply the reply queue refuses for good (it does
 * not exist, we may not send to it). Other failures are retried; on the last attempt the queue
 * allows (`MAX_RECEIVE_COUNT`) the request is dead-lettered with the last error.
 *
 * The request's end-to-end correlation id (`x-correlation-id` attribute, beside request-reply's own
 * `correlationId`) is on every log line of the request and on the reply. Metrics: BatchSize,
 * EventsConsumed (requests handled), EventsFailed (dead-lettered or failed), EventsProduced
 * (replies), ProcessingTime.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { sqsClient } from '../../commons/clients/sqs.js';
import { formatIssues } from '../../commons/domain/validation-issues.js';
import { requiredEnv } from '../../commons/env.js';
import { sendToDeadLetterQueue } from '../../commons/messaging/dead-letter.js';
import {
  ORIGIN_CORRELATION_ATTRIBUTE,
  type ReplyQueuePolicy,
  readRequestAttributes,
  sendReply,
  undeliverableReplyReason,
} from '../../commons/messaging/request-reply.js';
import { maxReceiveCountFromEnv } from '../../commons/messaging/sqs-event-consumer.js';
import { isWellFormed } from '../../commons/messaging/well-formed.js';
import { isCorrelationId, withCorrelation } from '../../commons/observability/correlation.js';
import { countEvents, instrumentedInvocation } from '../../commons/observability/invocation.js';
import { logger } from '../../commons/powertools.js';
import { orderCommandsFromEnv } from '../../orders/application/order-commands-from-env.js';

const orders = orderCommandsFromEnv();
const deadLetterQueueUrl = requiredEnv('DEAD_LETTER_QUEUE_URL');
const maxReceiveCount = maxReceiveCountFromEnv();
const processor = new BatchProcessor(EventType.SQS);
const requestSchema = z.strictObject({
  orderId: z
    .string()
    .min(1)
    .max(128)
    .refine(isWellFormed, 'must be well-formed Unicode (it holds a lone UTF-16 surrogate)'),
  /** Epoch ms after which the requester no longer waits. */
  deadline: z.number().int(),
});

/** Where replies may go: see `checkReplyTo`. */
const replyPolicy = (record: SQSRecord): ReplyQueuePolicy => {
  const endpoint = process.env.AWS_ENDPOINT_URL_SQS ?? process.env.AWS_ENDPOINT_URL;
  return {
    requestQueueArn: record.eventSourceARN,
    ...(process.env.REPLY_QUEUE_URL ? { allowedReplyQueueUrl: process.env.REPLY_QUEUE_URL } : {}),
    ...(endpoint ? { endpoint } : {}),
  };
};

/** Why the body is not a stock-check request, or the request. */
function readBody(
  body: string,
): { ok: true; request: z.infer<typeof requestSchema> } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    return { ok: false, reason: `body is not JSON: ${(error as Error).message}` };
  }
  const parsed = requestSchema.safeParse(json);
  if (!parsed.success)
    return { ok: false, reason: `body is not a stock-check request: ${formatIssues(parsed.error)}` };
  return { ok: true, request: parsed.data };
}

async function deadLetter(record: SQSRecord, reason: string, originCorrelationId: string | undefined) {
  logger.error('Stock-check request dead-lettered', { reason, messageId: record.messageId });
  countEvents('EventsFailed');
  await sendToDeadLetterQueue(deadLetterQueueUrl, record, reason, {
    ...(originCorrelationId ? { correlationId: originCorrelationId } : {}),
  });
}

export interface StockCheckReply {
  readonly orderId: string;
  readonly status: string;
  readonly reservationId?: string;
  readonly reason?: string;
}

async function handleRequest(
  record: SQSRecord,
  context: Context,
  originCorrelationId: string | undefined,
): Promise<void> {
  const body = readBody(record.body);
  const attributes = readRequestAttributes(record.messageAttributes, replyPolicy(record));
  const reasons = [...(body.ok ? [] : [body.reason]), ...(attributes.ok ? [] : attributes.reasons)];
  if (!body.ok || !attributes.ok) {
    return deadLetter(record, `not a stock-check request: ${reasons.join('; ')}`, originCorrelationId);
  }
  const { request } = body;
  const { correlationId, replyTo } = attributes;
  countEvents('EventsConsumed');
  if (Date.now() > request.deadline) return; // nobody waits any more
  const stopAt = Math.min(request.deadline, Date.now() + context.getRemainingTimeInMillis() - 1000);
  let state = await orders.load(request.orderId);
  while (state.status === 'PENDING' && Date.now() < stopAt) {
    await new Promise((r) => setTimeout(r, 100));
    state = await orders.load(request.orderId);
  }
  const reply: StockCheckReply = {
    orderId: request.orderId,
    status: state.status,
    ...(state.reservationId ? { reservationId: state.reservationId } : {}),
    ...(state.status === 'REJECTED' && state.reason ? { reason: state.reason } : {}),
  };
  try {
    await sendReply(
      sqsClient(),
      replyTo,
      correlationId,
      reply,
      originCorrelationId ? { originCorrelationId } : {},
    );
  } catch (error) {
    const undeliverable = undeliverableReplyReason(error, replyTo);
    if (undeliverable === undefined) throw error;
    return deadLetter(record, `reply not delivered: ${undeliverable}`, originCorrelationId);
  }
  countEvents('EventsProduced');
  logger.debug('Stock check answered', { orderId: request.orderId, status: reply.status });
}

async function recordHandler(record: SQSRecord, context: Context): Promise<void> {
  const origin = record.messageAttributes[ORIGIN_CORRELATION_ATTRIBUTE]?.stringValue;
  const originCorrelationId = isCorrelationId(origin) ? origin : undefined;
  try {
    await withCorrelation(originCorrelationId, () => handleRequest(record, context, originCorrelationId));
  } catch (error) {
    const attempt = Number(record.attributes.ApproximateReceiveCount ?? '1');
    if (attempt >= maxReceiveCount) {
      const { name, message } = error as Error;
      return deadLetter(
        record,
        `gave up after ${attempt} attempts: ${name}: ${message}`,
        originCorrelationId,
      );
    }
    countEvents('EventsFailed');
    throw error;
  }
}

export const handler = (event: SQSEvent, context: Context) =>
  instrumentedInvocation(context, { batchSize: event.Records.length }, () =>
    processPartialResponse(event, (record: SQSRecord) => recordHandler(record, context), processor, {
      context,
      // A batch whose records all failed is answered like any other: each comes back on its own.
      throwOnFullBatchFailure: false,
    }),
  );

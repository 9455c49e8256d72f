/**
 * The adapter of every fulfilment service: an SQS batch of events from the `order-events` topic
 * (raw delivery: each body is an envelope exactly as stored) handled record by record.
 *
 * - Partial batch failures (Powertools batch): only failed records come back.
 * - A claim-check reference (an event too large for SQS, stored in S3) is swapped for the event.
 * - A body that is not an envelope goes to the dead-letter queue at once, with the reason, and is
 *   deleted from the source: no retry storm for what no retry can mend. With `dataSchemas` (event
 *   type → zod schema of its `data`), an event of a type the consumer does not know, or whose
 *   `data` its schema refuses, is dead-lettered the same way (the reason names the fields); the
 *   handler gets the parsed `data`.
 * - Anything deterministic is poison: a `PoisonMessageError` or a `ZodError` from the handler is
 *   dead-lettered at once with its message. Any other error is taken for transient and retried.
 * - Idempotent per event: Powertools idempotency keyed by the envelope's eventId, so a redelivery
 *   causes no second effect.
 * - `RetryLaterError(seconds)` sets the message's visibility timeout (backoff, an open circuit)
 *   before the record is reported failed; the queue's maxReceiveCount bounds the retries.
 * - On the last attempt the queue allows (`MAX_RECEIVE_COUNT`), a failure dead-letters the message
 *   itself, with the last error as its reason, instead of leaving SQS's redrive to move it without
 *   one. The redrive policy stays the safety net for a function that crashes or times out.
 * - Dead letters go through `sendToDeadLetterQueue`: attributes made SQS-safe, the copy within the
 *   size SQS accepts (a body too large is claim-checked with the consumer's store, else cut).
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type * as z from 'zod';
import { dynamoDbClient } from '../clients/dynamodb.js';
import { sqsClient } from '../clients/sqs.js';
import { formatIssues } from '../domain/validation-issues.js';
import { requiredEnv } from '../env.js';
import type { EventEnvelope } from '../event-store/envelope.js';
import { readStoredRecord } from '../event-store/stored-record.js';
import { correlationIdOfSqsRecord, withCorrelation } from '../observability/correlation.js';
import { countEvents, instrumentedInvocation } from '../observability/invocation.js';
import { logger, metrics } from '../powertools.js';
import { fromTransport } from './claim-check.js';
import { claimCheckFromEnv } from './claim-check-from-env.js';
import { sendToDeadLetterQueue } from './dead-letter.js';
import { poisonReason } from './poison.js';

/** Ask for the message again after `delaySeconds` (0..43200). */
export class RetryLaterError extends Error {
  constructor(
    readonly delaySeconds: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RetryLaterError';
  }
}

export { PoisonMessageError, poisonReason } from './poison.js';

export interface EventContext {
  /** 1 on the first delivery, then the queue's ApproximateReceiveCount. */
  readonly attempt: number;
  readonly record: SQSRecord;
}

export type EventHandler = (event: EventEnvelope, context: EventContext) => Promise<void>;

/** Event type → the schema of its `data` (e.g. `orderEventDataSchemas`). */
export type EventDataSchemas = Readonly<Record<string, z.ZodType>>;

export interface SqsEventConsumerOptions {
  /** When given, only these types are handled, each with its `data` parsed by its schema. */
  readonly dataSchemas?: EventDataSchemas;
}

/**
 * The envelope with its `data` parsed by the schema of its type, or why it cannot be (pure).
 * Parsing, not checking: the handler gets what the schema returns (trimmed ids and the like).
 */
export function parseEventData(
  event: EventEnvelope,
  schemas: EventDataSchemas,
): { ok: true; event: EventEnvelope } | { ok: false; reason: string } {
  const schema = Object.hasOwn(schemas, event.type) ? schemas[event.type] : undefined;
  if (!schema) return { ok: false, reason: `unknown event type ${JSON.stringify(event.type)}` };
  const parsed = schema.safeParse(event.data);
  if (!parsed.success) {
    return { ok: false, reason: `data of ${event.type} is invalid: ${formatIssues(parsed.error)}` };
  }
  return { ok: true, event: { ...event, data: parsed.data } as EventEnvelope };
}

/** `MAX_RECEIVE_COUNT` when it is a positive integer; unbounded (SQS's redrive decides) otherwise. */
export function maxReceiveCountFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.MAX_RECEIVE_COUNT);
  return Number.isInteger(value) && value >= 1 ? value : Number.POSITIVE_INFINITY;
}

/** The Lambda handler of a consumer; `handle` sees only events its subscription lets through. */
export function sqsEventConsumer(handle: EventHandler, options: SqsEventConsumerOptions = {}) {
  const deadLetterQueueUrl = requiredEnv('DEAD_LETTER_QUEUE_URL');
  const maxReceiveCount = maxReceiveCountFromEnv();
  if (maxReceiveCount === Number.POSITIVE_INFINITY) {
    logger.warn('MAX_RECEIVE_COUNT is not set: a message failing every attempt leaves without a reason');
  }
  const processor = new BatchProcessor(EventType.SQS);
  const claimCheck = claimCheckFromEnv();
  const idempotencyConfig = new IdempotencyConfig({
    eventKeyJmesPath: 'eventId',
    expiresAfterSeconds: Number(process.env.IDEMPOTENCY_TTL_SECONDS ?? 24 * 3600),
  });
  const once = makeIdempotent(
    async (event: EventEnvelope, context: EventContext): Promise<{ eventId: string }> => {
      await handle(event, context);
      return { eventId: event.eventId };
    },
    {
      persistenceStore: new DynamoDBPersistenceLayer({
        tableName: requiredEnv('IDEMPOTENCY_TABLE_NAME'),
        awsSdkV3Client: dynamoDbClient(),
      }),
      config: idempotencyConfig,
    },
  );

  const deadLetter = async (record: SQSRecord, reason: string, correlationId?: string): Promise<void> => {
    logger.error('Message dead-lettered', { reason, messageId: record.messageId });
    metrics.addMetric('MessagesDeadLettered', MetricUnit.Count, 1);
    countEvents('EventsFailed');
    const correlation = correlationId ?? correlationIdOfSqsRecord(record);
    await sendToDeadLetterQueue(deadLetterQueueUrl, record, reason, {
      ...(correlation !== undefined ? { correlationId: correlation } : {}),
      ...(claimCheck.store ? { claimCheck: claimCheck.store } : {}),
    });
  };

  const handleRecord = async (record: SQSRecord): Promise<void> => {
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch (error) {
      return deadLetter(record, `body is not JSON: ${(error as Error).message}`);
    }
    try {
      body = await fromTransport(body, claimCheck.store);
    } catch (error) {
      // The claimed object is gone (expired) or not JSON: no retry brings it back. Anything else
      // (S3 unavailable, throttling) is retried.
      const name = (error as Error).name;
      if (name === 'NoSuchKey' || name === 'SyntaxError') {
        return deadLetter(record, `claim check cannot be resolved: ${(error as Error).message}`);
      }
      throw error;
    }
    const stored = readStoredRecord(body);
    if (stored.kind !== 'event') {
      return deadLetter(record, stored.kind === 'invalid' ? stored.reason : 'a snapshot is not an event');
    }
    let event = stored.envelope;
    if (options.dataSchemas) {
      const data = parseEventData(event, options.dataSchemas);
      if (!data.ok) return deadLetter(record, data.reason, event.correlationId);
      event = data.event;
    }
    const attempt = Number(record.attributes.ApproximateReceiveCount ?? '1');
    return withCorrelation(event.correlationId, () => handleEvent(record, event, attempt), {
      eventId: event.eventId,
      eventType: event.type,
    });
  };

  const handleEvent = async (record: SQSRecord, event: EventEnvelope, attempt: number): Promise<void> => {
    try {
      await once(event, { attempt, record });
      countEvents('EventsConsumed');
    } catch (error) {
      const poison = poisonReason(error);
      if (poison !== undefined) return deadLetter(record, poison, event.correlationId);
      if (attempt >= maxReceiveCount) {
        const { name, message } = error as Error;
        return deadLetter(
          record,
          `gave up after ${attempt} attempts: ${name}: ${message}`,
          event.correlationId,
        );
      }
      countEvents('EventsFailed');
      if (error instanceof RetryLaterError) {
        logger.warn('Retrying later', { delaySeconds: error.delaySeconds, reason: error.message, attempt });
        const queueUrl = queueUrlOf(record.eventSourceARN);
        await sqsClient()
          .send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: queueUrl,
              ReceiptHandle: record.receiptHandle,
              VisibilityTimeout: Math.min(43_200, Math.max(0, Math.round(error.delaySeconds))),
            }),
          )
          .catch((e: Error) => logger.warn('Visibility not changed', { error: e }));
      } else {
        logger.error('Event failed', error as Error);
      }
      throw error;
    }
  };

  // Until the body is read, the correlation id is the one of the message attributes (the outbox
  // sets it on SNS); the envelope's own then takes over.
  const recordHandler = (record: SQSRecord): Promise<void> =>
    withCorrelation(correlationIdOfSqsRecord(record), () => handleRecord(record));

  return (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    instrumentedInvocation(context, { batchSize: event.Records.length }, () => {
      idempotencyConfig.registerLambdaContext(context);
      return processPartialResponse(event, recordHandler, processor, {
        context,
        throwOnFullBatchFailure: false,
      });
    });
}

/** `arn:aws:sqs:<region>:<account>:<name>` → the queue URL (the SDK endpoint resolves the host). */
export function queueUrlOf(queueArn: string): string {
  const [, , , region, account, name] = queueArn.split(':');
  const endpoint = process.env.AWS_ENDPOINT_URL_SQS ?? process.env.AWS_ENDPOINT_URL;
  return endpoint
    ? `${endpoint.replace(/\/$/, '')}/${account}/${name}`
    : `https://sqs.${region}.amazonaws.com/${account}/${name}`;
}

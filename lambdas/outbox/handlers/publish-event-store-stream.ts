/**
 * The outbox relay: every event appended to the event store reaches the `order-events` topic
 * exactly as stored (the envelope as the message body), through the event store's stream: the
 * command handlers never make a second write. Message attributes carry eventType, schemaVersion,
 * correlationId and aggregateType for the subscriptions' filter policies.
 *
 * An event over the size limit is stored in S3 and sent as a reference (claim check); consumers
 * resolve it transparently (`sqsEventConsumer`).
 *
 * Records are published with PublishBatch (10 per call), in stream order. On the first failure the
 * handler reports that record and every later one as failed, so Lambda resumes the shard there
 * (stream checkpointing) and nothing is skipped; consumers are idempotent per eventId, so a
 * re-published record has no second effect. Unreadable items go to the failure queue with a reason.
 *
 * Correlation: the envelope's correlationId becomes the `correlationId` message attribute (and so
 * an SQS one under raw delivery), and is on the log lines about the record. Metrics: BatchSize
 * (stream records), EventsConsumed (events read), EventsProduced (published), EventsFailed
 * (dead-lettered, or left for the retry), ProcessingTime, EventsClaimChecked, OutboxDeadLettered.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { PublishBatchCommand, type PublishBatchRequestEntry } from '@aws-sdk/client-sns';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { snsClient } from '../../commons/clients/sns.js';
import { requiredEnv } from '../../commons/env.js';
import type { EventEnvelope } from '../../commons/event-store/envelope.js';
import { readStoredRecord } from '../../commons/event-store/stored-record.js';
import { toTransport } from '../../commons/messaging/claim-check.js';
import { claimCheckFromEnv } from '../../commons/messaging/claim-check-from-env.js';
import { sendDeadLetter } from '../../commons/messaging/dead-letter.js';
import { isCorrelationId, withCorrelation } from '../../commons/observability/correlation.js';
import { countEvents, instrumentedInvocation } from '../../commons/observability/invocation.js';
import { logger, metrics } from '../../commons/powertools.js';

const topicArn = requiredEnv('ORDER_EVENTS_TOPIC_ARN');
const claimCheck = claimCheckFromEnv();
const deadLetterQueueUrl = requiredEnv('DEAD_LETTER_QUEUE_URL');

/** Message attributes of an envelope: what subscriptions filter on. */
export function messageAttributesOf(envelope: EventEnvelope): PublishBatchRequestEntry['MessageAttributes'] {
  return {
    eventType: { DataType: 'String', StringValue: envelope.type },
    schemaVersion: { DataType: 'Number', StringValue: String(envelope.schemaVersion) },
    correlationId: { DataType: 'String', StringValue: envelope.correlationId },
    aggregateType: { DataType: 'String', StringValue: envelope.aggregateType },
  };
}

async function deadLetter(record: DynamoDBRecord, reason: string): Promise<void> {
  logger.error('Record dead-lettered', { reason, eventID: record.eventID });
  metrics.addMetric('OutboxDeadLettered', MetricUnit.Count, 1);
  countEvents('EventsFailed');
  // The one sender: the reason as an attribute too, SQS-safe, and a copy that fits SQS (a stream
  // record can carry an item of up to 400 KB: its body then goes behind the claim check).
  await sendDeadLetter(
    deadLetterQueueUrl,
    {
      body: JSON.stringify({ reason, record }),
      reason,
      ...(record.eventID ? { sourceMessageId: record.eventID } : {}),
      ...(record.eventSourceARN ? { sourceQueue: record.eventSourceARN } : {}),
    },
    claimCheck.store ? { claimCheck: claimCheck.store } : {},
  );
}

/** The correlation id of an item the stream carries, when it has a valid one (even if not an envelope). */
const correlationIdOfItem = (item: unknown): string | undefined => {
  const id = (item as { correlationId?: unknown } | undefined)?.correlationId;
  return isCorrelationId(id) ? id : undefined;
};

export const handler = (event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> =>
  instrumentedInvocation(context, { batchSize: event.Records.length }, () => relay(event));

interface Pending {
  readonly record: DynamoDBRecord;
  readonly entry: PublishBatchRequestEntry;
  readonly correlationId: string;
}

async function relay(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const pending: Pending[] = [];
  for (const record of event.Records) {
    if (record.eventName !== 'INSERT') continue;
    const image = record.dynamodb?.NewImage;
    let item: unknown;
    try {
      item = image ? unmarshall(image as Record<string, AttributeValue>) : undefined;
    } catch (error) {
      await deadLetter(record, `NewImage cannot be unmarshalled: ${(error as Error).message}`);
      continue;
    }
    const stored = readStoredRecord(item);
    if (stored.kind === 'snapshot') continue;
    if (stored.kind === 'invalid') {
      await withCorrelation(correlationIdOfItem(item), () => deadLetter(record, stored.reason));
      continue;
    }
    countEvents('EventsConsumed');
    const envelope = stored.envelope;
    // An event too large for SNS/SQS travels as a reference to its copy in S3 (claim check).
    const { message, claimChecked } = await withCorrelation(
      envelope.correlationId,
      () => toTransport(JSON.stringify(item), envelope, claimCheck.store, claimCheck.thresholdBytes),
      { eventId: envelope.eventId },
    );
    if (claimChecked) metrics.addMetric('EventsClaimChecked', MetricUnit.Count, 1);
    pending.push({
      record,
      correlationId: envelope.correlationId,
      entry: {
        Id: String(pending.length),
        Message: message,
        MessageAttributes: {
          ...messageAttributesOf(stored.envelope),
          ...(claimChecked ? { claimCheck: { DataType: 'String', StringValue: 'true' } } : {}),
        },
      },
    });
  }
  let published = 0;
  try {
    for (let i = 0; i < pending.length; i += 10) {
      const chunk = pending.slice(i, i + 10);
      const out = await snsClient().send(
        new PublishBatchCommand({
          TopicArn: topicArn,
          PublishBatchRequestEntries: chunk.map((p, n) => ({ ...p.entry, Id: String(n) })),
        }),
      );
      const failed = (out.Failed ?? []).map((f) => Number(f.Id)).sort((a, b) => a - b);
      if (failed.length > 0) {
        published += failed[0] as number;
        logger.warn('Publish failed', {
          failed: out.Failed,
          correlationIds: failed.map((n) => chunk[n]?.correlationId),
        });
        break;
      }
      published += chunk.length;
    }
  } catch (error) {
    logger.warn('Publish failed', {
      error: error as Error,
      correlationIds: pending.slice(published, published + 20).map((p) => p.correlationId),
    });
  }
  countEvents('EventsProduced', published);
  countEvents('EventsFailed', pending.length - published);
  // Resume the shard at the first record not published; everything after it comes again.
  const firstFailed = pending[published]?.record.dynamodb?.SequenceNumber;
  return { batchItemFailures: firstFailed ? [{ itemIdentifier: firstFailed }] : [] };
}

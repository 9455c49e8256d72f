/**
 * DynamoDB Streams consumer of the event store: feeds the orders and customers read models.
 *
 * Per record: the NewImage is unmarshalled and parsed as an envelope (zod, `readStoredRecord`);
 * snapshots and non-INSERT records are skipped; an item that is not an envelope, or
 * an event the projection cannot fold, is sent to the dead-letter queue with the reason (retrying
 * cannot mend it); a gap or a write conflict is a batch item failure, so Lambda retries from that
 * record (ReportBatchItemFailures) and, once retries are exhausted, the on-failure destination
 * gets the batch's coordinates.
 *
 * Every log line about a record carries its event's correlationId. Metrics: BatchSize,
 * EventsConsumed (projected), EventsFailed (dead-lettered or retried), ProcessingTime, and
 * Projection<Outcome>, ProjectionDeadLettered.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { documentClient } from '../../commons/clients/dynamodb.js';
import { requiredEnv } from '../../commons/env.js';
import { sendDeadLetter } from '../../commons/messaging/dead-letter.js';
import { isCorrelationId, withCorrelation } from '../../commons/observability/correlation.js';
import { countEvents, instrumentedInvocation } from '../../commons/observability/invocation.js';
import { logger, metrics } from '../../commons/powertools.js';
import { DynamoDbViewStore } from '../../commons/projection/dynamodb-view-store.js';
import { InvalidEventError } from '../../commons/projection/projection.js';
import { type ProjectionTarget, StreamProjector } from '../../commons/projection/stream-projector.js';
import { type CustomerView, customerViewProjection } from '../../customers/read-model/customer-view.js';
import { CUSTOMERS_VIEW_KEY } from '../../customers/read-model/table-schema.js';
import { type OrderView, orderViewProjection } from '../../orders/read-model/order-view.js';
import { ORDERS_VIEW_KEY } from '../../orders/read-model/table-schema.js';

const deadLetterQueueUrl = requiredEnv('DEAD_LETTER_QUEUE_URL');
const client = documentClient();
const targets: ProjectionTarget[] = [
  {
    projection: orderViewProjection,
    store: new DynamoDbViewStore<OrderView>({
      client,
      tableName: requiredEnv('ORDERS_VIEW_TABLE_NAME'),
      keyName: ORDERS_VIEW_KEY,
    }),
  } as ProjectionTarget,
  {
    projection: customerViewProjection,
    store: new DynamoDbViewStore<CustomerView>({
      client,
      tableName: requiredEnv('CUSTOMERS_VIEW_TABLE_NAME'),
      keyName: CUSTOMERS_VIEW_KEY,
    }),
  } as ProjectionTarget,
];
const projector = new StreamProjector({ targets });
const processor = new BatchProcessor(EventType.DynamoDBStreams);

async function deadLetter(record: DynamoDBRecord, reason: string): Promise<void> {
  logger.error('Record dead-lettered', { reason, eventID: record.eventID, keys: record.dynamodb?.Keys });
  metrics.addMetric('ProjectionDeadLettered', MetricUnit.Count, 1);
  countEvents('EventsFailed');
  // The one sender: SQS-safe attributes, and a copy that fits SQS (a stream record can carry an
  // item of up to 400 KB), so a dead letter never fails and never stalls the shard.
  await sendDeadLetter(deadLetterQueueUrl, {
    body: JSON.stringify({ reason, record }),
    reason,
    ...(record.eventID ? { sourceMessageId: record.eventID } : {}),
    ...(record.eventSourceARN ? { sourceQueue: record.eventSourceARN } : {}),
  });
}

async function recordHandler(record: DynamoDBRecord): Promise<void> {
  if (record.eventName !== 'INSERT') return;
  const image = record.dynamodb?.NewImage;
  if (!image) return deadLetter(record, 'stream record without a NewImage (is the stream NEW_IMAGE?)');
  let item: unknown;
  try {
    item = unmarshall(image as Record<string, AttributeValue>);
  } catch (error) {
    return deadLetter(record, `NewImage cannot be unmarshalled: ${(error as Error).message}`);
  }
  const correlationId = (item as { correlationId?: unknown } | undefined)?.correlationId;
  await withCorrelation(isCorrelationId(correlationId) ? correlationId : undefined, () =>
    project(record, item),
  );
}

async function project(record: DynamoDBRecord, item: unknown): Promise<void> {
  try {
    const outcome = await projector.project(item);
    metrics.addMetric(`Projection${outcome[0]?.toUpperCase()}${outcome.slice(1)}`, MetricUnit.Count, 1);
    countEvents('EventsConsumed');
  } catch (error) {
    if (error instanceof InvalidEventError) return deadLetter(record, error.message);
    logger.warn('Record will be retried', { error: error as Error, eventID: record.eventID });
    countEvents('EventsFailed');
    throw error;
  }
}

export const handler = (event: DynamoDBStreamEvent, context: Context) =>
  instrumentedInvocation(context, { batchSize: event.Records.length }, () =>
    processPartialResponse(event, recordHandler, processor, { context }),
  );

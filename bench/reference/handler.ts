/**
 * Reference handler for `npm run bench`: a plain, "usual" SQS batch handler built with the common
 * Powertools stack. The bench bundles it the usual way (esbuild, CJS, minified, `@aws-sdk/*` external)
 * and compares our Lambda bundles against it (bytes and cold module-init time).
 *
 * Keep it representative rather than clever: everything is created at module scope, as most handlers do.
 * It is not deployed anywhere.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';

const logger = new Logger();
const metrics = new Metrics();
const tracer = new Tracer();
const sns = tracer.captureAWSv3Client(new SNSClient({}));
const topicArn = process.env.TOPIC_ARN ?? '';

const OrderPlaced = z.object({
  orderId: z.string().min(1),
  customerId: z.string().min(1),
  placedAt: z.iso.datetime(),
  currency: z.string().length(3),
  items: z
    .array(
      z.object({
        sku: z.string().min(1),
        quantity: z.number().int().positive(),
        unitPrice: z.number().nonnegative(),
      }),
    )
    .min(1),
});
type OrderPlaced = z.infer<typeof OrderPlaced>;

const persistenceStore = new DynamoDBPersistenceLayer({
  tableName: process.env.IDEMPOTENCY_TABLE_NAME ?? 'idempotency',
});
const idempotencyConfig = new IdempotencyConfig({ eventKeyJmesPath: 'messageId' });
const processor = new BatchProcessor(EventType.SQS);

const publishOrder = async (order: OrderPlaced): Promise<void> => {
  await sns.send(
    new PublishCommand({
      TopicArn: topicArn,
      Message: JSON.stringify(order),
      MessageAttributes: { type: { DataType: 'String', StringValue: 'OrderPlaced' } },
    }),
  );
};

const processRecord = makeIdempotent(
  async (record: SQSRecord): Promise<string> => {
    const order = OrderPlaced.parse(JSON.parse(record.body));
    await publishOrder(order);
    logger.info('order published', { orderId: order.orderId });
    metrics.addMetric('OrderPublished', MetricUnit.Count, 1);
    return order.orderId;
  },
  { persistenceStore, config: idempotencyConfig },
);

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  logger.addContext(context);
  idempotencyConfig.registerLambdaContext(context);
  try {
    return await processPartialResponse(event, processRecord, processor, { context });
  } finally {
    metrics.publishStoredMetrics();
  }
};

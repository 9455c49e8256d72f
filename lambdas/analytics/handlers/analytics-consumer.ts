/**
 * Analytics service on the order events: counts every order event by type as CloudWatch metrics
 * (EMF), and bridges each completed payment to Kafka as a `purchase` activity of the customer
 * (keyed by the customer, like every activity), so the order flow feeds the windowed metrics.
 * The purchase carries the order event's id: one per payment, whatever the SQS redeliveries
 * (the consumer is idempotent per event). The order event's correlation id goes on as the record's
 * `correlationId` header; a purchase produced counts as `EventsProduced`.
 *
 * Each event's `data` is parsed with its type's schema (`orderEventDataSchemas`): an event whose
 * data is invalid, or of a type the order flow does not define, is dead-lettered at once with the
 * reason, never retried.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../commons/clients/dynamodb.js';
import { requiredEnv } from '../../commons/env.js';
import { kafkaConnectionFromEnv } from '../../commons/kafka/connection.js';
import { createProducer, produce } from '../../commons/kafka/producer.js';
import { RetryLaterError, sqsEventConsumer } from '../../commons/messaging/sqs-event-consumer.js';
import { kafkaHeadersWith } from '../../commons/observability/correlation.js';
import { countEvents } from '../../commons/observability/invocation.js';
import { metrics } from '../../commons/powertools.js';
import type { PaymentCompletedData } from '../../orders/domain/order-schemas.js';
import { orderEventDataSchemas } from '../../orders/domain/order-schemas.js';
import { ORDERS_VIEW_KEY } from '../../orders/read-model/table-schema.js';
import { ACTIVITY_SCHEMA_VERSION, type ActivityEvent, ANALYTICS_TOPICS } from '../domain/activity.js';

const db = documentClient();
const ordersTable = requiredEnv('ORDERS_VIEW_TABLE_NAME');
const producer = createProducer(kafkaConnectionFromEnv(), 'analytics-order-bridge');
const topic = process.env.USER_ACTIVITY_TOPIC ?? ANALYTICS_TOPICS.userActivity;

export const handler = sqsEventConsumer(
  async (event) => {
    const single = metrics.singleMetric();
    single.addDimension('eventType', event.type);
    single.addMetric('OrderEvents', MetricUnit.Count, 1);
    if (event.type !== 'PaymentCompleted') return;
    // Parsed by the consumer with PaymentCompleted's schema.
    const data = event.data as PaymentCompletedData;
    metrics.addMetric('Revenue', MetricUnit.Count, data.amount);
    const { Item } = await db.send(
      new GetCommand({ TableName: ordersTable, Key: { [ORDERS_VIEW_KEY]: event.aggregateId } }),
    );
    // The read model lags the event a little: ask again shortly.
    if (!Item) throw new RetryLaterError(2, `order ${event.aggregateId} not in the read model yet`);
    const purchase: ActivityEvent = {
      schemaVersion: ACTIVITY_SCHEMA_VERSION,
      eventId: event.eventId,
      type: 'purchase',
      userId: String(Item.customerId),
      occurredAt: event.occurredAt,
      orderId: event.aggregateId,
      amount: data.amount,
      currency: data.currency,
    };
    await produce(producer, [
      {
        topic,
        key: purchase.userId,
        value: JSON.stringify(purchase),
        headers: kafkaHeadersWith(event.correlationId, {
          eventType: 'purchase',
          schemaVersion: String(ACTIVITY_SCHEMA_VERSION),
        }),
      },
    ]);
    countEvents('EventsProduced');
  },
  { dataSchemas: orderEventDataSchemas },
);

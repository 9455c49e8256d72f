/**
 * Analytics service: counts every order event by type as CloudWatch metrics (EMF). Issue 6 adds
 * the Kafka bridge of purchase events on the same queue.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { sqsEventConsumer } from '../../commons/messaging/sqs-event-consumer.js';
import { metrics } from '../../commons/powertools.js';

export const handler = sqsEventConsumer(async (event) => {
  const single = metrics.singleMetric();
  single.addDimension('eventType', event.type);
  single.addMetric('OrderEvents', MetricUnit.Count, 1);
  if (event.type === 'PaymentCompleted') {
    const amount = (event.data as { amount?: unknown }).amount;
    if (typeof amount === 'number') metrics.addMetric('Revenue', MetricUnit.Count, amount);
  }
});

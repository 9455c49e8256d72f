/**
 * The alert notifier: alarm transitions (from CloudWatch) and health status changes (from the
 * scheduled health check) arrive on the alert topic, through a queue, as SNS notifications.
 *
 * Each is parsed into an alert; one that cannot be parsed goes to the dead-letter queue at once
 * with the reason. An alert is delivered to each channel (log, e-mail, chat) at most once: the
 * delivery to a channel is idempotent on `<channel>#<alert id>`, and the alert id is the same for
 * two deliveries of one state change (SNS and SQS deliver at least once). A channel that fails
 * fails the record (partial batch failure), and the retry skips the channels already done; on
 * the last attempt the queue allows (`MAX_RECEIVE_COUNT`) the alert is dead-lettered with the
 * channels' errors as its reason, rather than moved by SQS's redrive without one.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { dynamoDbClient } from '../../commons/clients/dynamodb.js';
import { requiredEnv } from '../../commons/env.js';
import { sendToDeadLetterQueue } from '../../commons/messaging/dead-letter.js';
import { maxReceiveCountFromEnv } from '../../commons/messaging/sqs-event-consumer.js';
import { logger, metrics } from '../../commons/powertools.js';
import {
  type AlertChannel,
  chatWebhookChannel,
  logChannel,
  sesChannel,
  tracedSes,
} from '../adapters/alert-channels.js';
import { type Alert, parseAlert } from '../domain/alerts.js';

const deadLetterQueueUrl = requiredEnv('DEAD_LETTER_QUEUE_URL');
const maxReceiveCount = maxReceiveCountFromEnv();
const emails = (process.env.ALERT_EMAILS ?? '').split(',').filter((e) => e.length > 0);
const from = process.env.ALERT_FROM;

const channels: Record<string, AlertChannel> = {
  log: logChannel,
  ...(emails.length > 0 && from ? { email: sesChannel(tracedSes(), from, emails) } : {}),
  ...(process.env.CHAT_WEBHOOK_SECRET_ARN
    ? { chat: chatWebhookChannel(process.env.CHAT_WEBHOOK_SECRET_ARN) }
    : {}),
};

const idempotencyConfig = new IdempotencyConfig({
  eventKeyJmesPath: 'key',
  expiresAfterSeconds: Number(process.env.IDEMPOTENCY_TTL_SECONDS ?? 24 * 3600),
});

const deliverOnce = makeIdempotent(
  async (delivery: { key: string; channel: string; alert: Alert }): Promise<{ key: string }> => {
    await (channels[delivery.channel] as AlertChannel)(delivery.alert);
    metrics.addMetric('AlertsDelivered', MetricUnit.Count, 1);
    return { key: delivery.key };
  },
  {
    persistenceStore: new DynamoDBPersistenceLayer({
      tableName: requiredEnv('IDEMPOTENCY_TABLE_NAME'),
      awsSdkV3Client: dynamoDbClient(),
    }),
    config: idempotencyConfig,
  },
);

/** What SNS puts in an SQS body (without raw delivery). */
const SnsNotificationSchema = z.object({
  Type: z.literal('Notification'),
  MessageId: z.string(),
  Message: z.string(),
  Subject: z.string().nullish(),
});

async function deadLetter(record: SQSRecord, reason: string): Promise<void> {
  logger.error('Alert dead-lettered', { reason, messageId: record.messageId });
  metrics.addMetric('AlertsDeadLettered', MetricUnit.Count, 1);
  await sendToDeadLetterQueue(deadLetterQueueUrl, record, reason);
}

async function handleRecord(record: SQSRecord): Promise<void> {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch (error) {
    return deadLetter(record, `body is not JSON: ${(error as Error).message}`);
  }
  const notification = SnsNotificationSchema.safeParse(body);
  if (!notification.success) {
    return deadLetter(record, `not an SNS notification: ${z.prettifyError(notification.error)}`);
  }
  const parsed = parseAlert(notification.data.Message, notification.data.Subject ?? undefined);
  if (!parsed.ok) return deadLetter(record, `not an alert: ${parsed.error}`);
  const { alert } = parsed;
  logger.appendKeys({ alertId: alert.id });
  try {
    const failures: string[] = [];
    for (const channel of Object.keys(channels)) {
      try {
        await deliverOnce({ key: `${channel}#${alert.id}`, channel, alert });
      } catch (error) {
        logger.warn('Alert not delivered', { channel, error: (error as Error).message });
        failures.push(`${channel}: ${(error as Error).message}`);
      }
    }
    if (failures.length > 0) {
      const reason = `alert ${alert.id} not delivered to ${failures.join('; ')}`;
      const attempt = Number(record.attributes.ApproximateReceiveCount ?? '1');
      if (attempt >= maxReceiveCount)
        return deadLetter(record, `gave up after ${attempt} attempts: ${reason}`);
      throw new Error(reason);
    }
  } finally {
    logger.removeKeys(['alertId']);
  }
}

const processor = new BatchProcessor(EventType.SQS);

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  logger.addContext(context);
  idempotencyConfig.registerLambdaContext(context);
  metrics.addMetric('BatchSize', MetricUnit.Count, event.Records.length);
  try {
    // A batch whose records all failed is answered like any other: they come back one by one.
    return await processPartialResponse(event, handleRecord, processor, {
      context,
      throwOnFullBatchFailure: false,
    });
  } finally {
    metrics.publishStoredMetrics();
  }
}

/**
 * The e-mail queue of a container: the Redis priority queue `notifications:emails`, the provider
 * (SES, or the recording test provider) behind its circuit breaker, and the "at most once" marker
 * in the operational-state table. Created once per container and shared by the notification
 * consumer (enqueue, then drain) and the scheduled dispatcher (drain).
 *
 * Environment: `OPERATIONAL_STATE_TABLE_NAME`, `EMAIL_PROVIDER` (`ses` | `test`), `EMAIL_FROM`,
 * `EMAIL_TEMPLATE_PREFIX`, `EMAIL_CONFIGURATION_SET`, `BREAKER_*`, `EMAIL_QUEUE_NAME`,
 * `EMAIL_QUEUE_VISIBILITY_SECONDS`, `EMAIL_QUEUE_MAX_ATTEMPTS`, and the Redis endpoint (`REDIS_*`).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { SESClient } from '@aws-sdk/client-ses';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../commons/clients/dynamodb.js';
import { requiredEnv } from '../../commons/env.js';
import { logger, metrics, tracer } from '../../commons/powertools.js';
import { redisFromEnv } from '../../commons/redis/connection.js';
import { RedisPriorityQueue } from '../../commons/redis/priority-queue.js';
import { CircuitBreaker } from '../../commons/resilience/circuit-breaker.js';
import {
  DynamoDbCircuitStateStore,
  OPERATIONAL_STATE_KEY,
} from '../../commons/resilience/dynamodb-circuit-state-store.js';
import { type DrainOptions, type DrainReport, drainQueue, type EmailTask } from '../domain/email-dispatch.js';
import { type EmailProvider, LoggingEmailProvider } from '../domain/emails.js';
import { SesEmailProvider } from './ses-email-provider.js';

const db = documentClient();
const stateTable = requiredEnv('OPERATIONAL_STATE_TABLE_NAME');
const providerName = process.env.EMAIL_PROVIDER ?? 'test';
const provider: EmailProvider =
  providerName === 'ses'
    ? new SesEmailProvider(tracer.captureAWSv3Client(new SESClient({})), {
        from: requiredEnv('EMAIL_FROM'),
        templatePrefix: requiredEnv('EMAIL_TEMPLATE_PREFIX'),
        configurationSet: process.env.EMAIL_CONFIGURATION_SET || undefined,
      })
    : new LoggingEmailProvider();
const breaker = new CircuitBreaker({
  name: 'email-provider',
  store: new DynamoDbCircuitStateStore(db, stateTable),
  failureThreshold: Number(process.env.BREAKER_FAILURE_THRESHOLD ?? 5),
  openMs: Number(process.env.BREAKER_OPEN_SECONDS ?? 30) * 1000,
});

let queue: Promise<RedisPriorityQueue<EmailTask>> | undefined;

/** The container's e-mail queue (its Redis connection opened on first use). */
export function emailQueue(): Promise<RedisPriorityQueue<EmailTask>> {
  queue ??= redisFromEnv().then(
    (redis) =>
      new RedisPriorityQueue<EmailTask>(redis, process.env.EMAIL_QUEUE_NAME ?? 'notifications:emails', {
        visibilityTimeoutMs: Number(process.env.EMAIL_QUEUE_VISIBILITY_SECONDS ?? 60) * 1000,
        maxAttempts: Number(process.env.EMAIL_QUEUE_MAX_ATTEMPTS ?? 8),
      }),
    (error: unknown) => {
      queue = undefined;
      throw error;
    },
  );
  return queue;
}

/**
 * Sends one queued e-mail at most once: a conditional `sending` marker is written first (a marker
 * already there means another delivery sent it, or is sending it), completed to `sent` after the
 * provider accepted it, and removed when the provider failed so that the retry may send it.
 */
export async function sendOnce(task: EmailTask): Promise<void> {
  const key = { [OPERATIONAL_STATE_KEY]: task.key };
  const { email } = task;
  try {
    await db.send(
      new PutCommand({
        TableName: stateTable,
        Item: { ...key, status: 'sending', to: email.to, subject: email.subject, eventId: task.eventId },
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': OPERATIONAL_STATE_KEY },
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) {
      logger.info('E-mail already sent for this event type', { key: task.key });
      return;
    }
    throw error;
  }
  try {
    const { messageId } = await breaker.call(() => provider.send(email));
    await db.send(
      new UpdateCommand({
        TableName: stateTable,
        Key: key,
        UpdateExpression: 'SET #status = :sent, messageId = :id, sentAt = :at, provider = :provider',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':sent': 'sent',
          ':id': messageId,
          ':at': new Date().toISOString(),
          ':provider': providerName,
        },
      }),
    );
    logger.info('E-mail sent', { type: email.template, messageId, correlationId: task.correlationId });
  } catch (error) {
    await db.send(new DeleteCommand({ TableName: stateTable, Key: key }));
    throw error;
  }
}

/** Drains the queue with `sendOnce`, logging what was done (never throws for one task's failure). */
export async function drainEmails(options: DrainOptions): Promise<DrainReport> {
  const report = await drainQueue(await emailQueue(), (task) => sendOnce(task), options);
  if (report.order.length > 0 || report.stoppedBy !== 'empty') {
    logger.info('E-mail queue drained', {
      sent: report.sent,
      retried: report.retried,
      deadLettered: report.deadLettered,
      stoppedBy: report.stoppedBy,
    });
  }
  metrics.addMetric('EmailsSent', MetricUnit.Count, report.sent);
  metrics.addMetric('EmailsRetried', MetricUnit.Count, report.retried);
  metrics.addMetric('EmailsDeadLettered', MetricUnit.Count, report.deadLettered);
  return report;
}

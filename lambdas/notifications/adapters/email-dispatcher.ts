/**
 * The e-mail outbox of a container (`application/email-outbox-service.ts`; the design is in
 * `domain/email-outbox.ts`) over its real parts: the durable markers in the operational-state
 * table, the Redis priority queue `notifications:emails` that schedules them, and the provider
 * (SES, or the recording test provider) behind its circuit breaker. Created once per container and
 * shared by the notification consumer (request, then drain) and the scheduled dispatcher (sweep,
 * then drain).
 *
 * Environment: `OPERATIONAL_STATE_TABLE_NAME`, `EMAIL_PROVIDER` (`ses` | `test`), `EMAIL_FROM`,
 * `EMAIL_TEMPLATE_PREFIX`, `EMAIL_CONFIGURATION_SET`, `BREAKER_*`, `EMAIL_QUEUE_NAME`,
 * `EMAIL_QUEUE_VISIBILITY_SECONDS`, `EMAIL_QUEUE_MAX_ATTEMPTS`, `EMAIL_CLAIM_STALE_SECONDS` (when a
 * sender's claim counts as dead: longer than any function lives; default 120),
 * `EMAIL_PENDING_INDEX_NAME` (the sparse index of owed e-mails; without it the sweep scans),
 * `EMAIL_SWEEP_AFTER_SECONDS` (how long an e-mail is owed before the sweep queues it again;
 * default 30), and the Redis endpoint (`REDIS_*`).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SESClient } from '@aws-sdk/client-ses';
import { documentClient } from '../../commons/clients/dynamodb.js';
import { requiredEnv } from '../../commons/env.js';
import { logger, metrics, tracer } from '../../commons/powertools.js';
import { redisFromEnv } from '../../commons/redis/connection.js';
import { RedisPriorityQueue } from '../../commons/redis/priority-queue.js';
import { CircuitBreaker } from '../../commons/resilience/circuit-breaker.js';
import { DynamoDbCircuitStateStore } from '../../commons/resilience/dynamodb-circuit-state-store.js';
import { EmailOutbox, type RequestOutcome } from '../application/email-outbox-service.js';
import type { DrainOptions, DrainReport, EmailTask } from '../domain/email-dispatch.js';
import type { EmailProvider } from '../domain/emails.js';
import { DynamoDbEmailMarkerStore } from './email-marker-store.js';
import { RecordingEmailProvider } from './recording-email-provider.js';
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
    : new RecordingEmailProvider(db, stateTable);
const breaker = new CircuitBreaker({
  name: 'email-provider',
  store: new DynamoDbCircuitStateStore(db, stateTable),
  failureThreshold: Number(process.env.BREAKER_FAILURE_THRESHOLD ?? 5),
  openMs: Number(process.env.BREAKER_OPEN_SECONDS ?? 30) * 1000,
});
const seconds = (value: string | undefined, fallback: number): number => {
  const n = Number(value);
  return (Number.isFinite(n) && n > 0 ? n : fallback) * 1000;
};

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

const outbox = new EmailOutbox({
  markers: new DynamoDbEmailMarkerStore(db, stateTable, {
    pendingIndexName: process.env.EMAIL_PENDING_INDEX_NAME || undefined,
  }),
  queue: emailQueue,
  send: (email) => breaker.call(() => provider.send(email)),
  staleAfterMs: seconds(process.env.EMAIL_CLAIM_STALE_SECONDS, 120),
  sweepAfterMs: seconds(process.env.EMAIL_SWEEP_AFTER_SECONDS, 30),
  log: {
    info: (message, extra) => logger.info(message, extra ?? {}),
    warn: (message, extra) => logger.warn(message, extra ?? {}),
    error: (message, extra) => logger.error(message, extra ?? {}),
  },
});

/** Records the e-mail as owed (durably), then queues it. */
export const requestEmail = (task: EmailTask): Promise<RequestOutcome> => outbox.request(task);

/** Queues again the e-mails owed that the queue lost or whose sender died. */
export async function sweepEmails(): Promise<number> {
  const swept = await outbox.sweep();
  metrics.addMetric('EmailsSwept', MetricUnit.Count, swept);
  return swept;
}

/** Drains the queue once per e-mail, logging what was done (never throws for one task's failure). */
export async function drainEmails(options: Omit<DrainOptions<EmailTask>, 'onGiveUp'>): Promise<DrainReport> {
  const report = await outbox.drain(options);
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

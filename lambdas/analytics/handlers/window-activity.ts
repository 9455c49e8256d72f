/**
 * The windowing function, on the MSK event source of `user_activity`: per partition, decodes each
 * record (an undecodable one goes to the dead-letter topic with its reason, the batch goes on),
 * applies enrichment and business rules, aggregates by event time in the configured tumbling and
 * hopping windows through the Redis window store (exactly once per record, whatever the
 * redeliveries), then delivers the partition's outbox: each closed window to the user's results
 * (served by GET /analytics/users/{userId}) and to `user_metrics`, late records to
 * `user_activity_late`, dead letters to `user_activity_dlt`.
 *
 * Only infrastructure failures (Redis, Kafka) fail the invocation: Lambda then retries the batch,
 * which the store recognises as already applied.
 *
 * Correlation: each record's `correlationId` header (set by the ingest API and the order bridge)
 * is logged with the record when it cannot be decoded, listed on the partition's batch log line,
 * and copied onto the record's late or dead letter. A window mixes many records: it carries none.
 * Metrics: BatchSize, EventsConsumed (applied), EventsFailed (dead letters), EventsProduced (outbox
 * messages delivered), ProcessingTime, with the windowing ones.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { requiredEnv } from '../../commons/env.js';
import { kafkaConnectionFromEnv } from '../../commons/kafka/connection.js';
import { createProducer, type OutgoingMessage, produce } from '../../commons/kafka/producer.js';
import { CORRELATION_ID, correlationIdOfKafkaRecord } from '../../commons/observability/correlation.js';
import { countEvents, instrumentedInvocation } from '../../commons/observability/invocation.js';
import { logger, metrics, tracer } from '../../commons/powertools.js';
import { redisFromEnv } from '../../commons/redis/connection.js';
import { publishUpdate } from '../../commons/redis/live-updates.js';
import {
  type BatchRecord,
  type OutboxEntry,
  RedisWindowStore,
  toStoredWindow,
} from '../adapters/redis-window-store.js';
import { ANALYTICS_TOPICS } from '../domain/activity.js';
import { decodeActivity } from '../domain/decode.js';
import { windowSpecsFromJson } from '../domain/window-config.js';

/**
 * The MSK event, leniently: Powertools' KafkaMskEventSchema requires every value, so one
 * tombstone would fail the whole batch; here a record without a value is dead-lettered alone.
 */
const kafkaEventSchema = z.object({
  eventSource: z.string().optional(),
  records: z.record(
    z.string(),
    z.array(
      z.object({
        topic: z.string(),
        partition: z.number().int(),
        offset: z.number().int(),
        // Read leniently too: what is not a string counts as absent, so one odd record is
        // dead-lettered alone (no value) instead of failing the partition's batch.
        timestamp: z.unknown().optional(),
        key: z.unknown().optional(),
        value: z.unknown().transform((v) => (typeof v === 'string' ? v : null)),
        /** `[{name: bytes}]`; read leniently (`correlationIdOfKafkaRecord`). */
        headers: z.unknown().optional(),
      }),
    ),
  ),
});

const specs = windowSpecsFromJson(requiredEnv('WINDOW_SPECS'));
const resultsPerUser = Number(process.env.RESULTS_PER_USER ?? 100);
const producer = createProducer(kafkaConnectionFromEnv(), 'analytics-windowing');
const topics = {
  metrics: process.env.USER_METRICS_TOPIC ?? ANALYTICS_TOPICS.userMetrics,
  late: process.env.LATE_EVENTS_TOPIC ?? ANALYTICS_TOPICS.lateEvents,
  dead: process.env.DEAD_LETTER_TOPIC ?? ANALYTICS_TOPICS.deadLetter,
};
let store: RedisWindowStore | undefined;

const fromBase64 = (value: string | null | undefined): string | null =>
  value === null || value === undefined ? null : Buffer.from(value, 'base64').toString('utf8');

/** Correlation ids of the records of the batch being handled, by offset. */
type CorrelationIds = ReadonlyMap<number, string>;

const withCorrelationHeader = (
  headers: Record<string, string>,
  correlationId: string | undefined,
): Record<string, string> => (correlationId ? { ...headers, [CORRELATION_ID]: correlationId } : headers);

function toMessage(
  entry: OutboxEntry,
  source: { topic: string; partition: number },
  correlationIds: CorrelationIds = new Map(),
): OutgoingMessage {
  switch (entry.kind) {
    case 'window':
      return {
        topic: topics.metrics,
        key: `${entry.key}|${entry.spec}|${entry.start}`,
        value: JSON.stringify({ userId: entry.key, ...toStoredWindow(entry) }),
        headers: { window: entry.spec },
      };
    case 'late':
      return {
        topic: topics.late,
        key: entry.record.fact.key,
        value: entry.value,
        headers: withCorrelationHeader(
          {
            reason: 'late',
            streamTime: new Date(entry.record.streamTime).toISOString(),
            missedWindows: JSON.stringify(entry.record.missed),
            sourceTopic: source.topic,
            sourcePartition: String(source.partition),
            sourceOffset: String(entry.offset),
          },
          correlationIds.get(entry.offset),
        ),
      };
    case 'dead':
      return {
        topic: topics.dead,
        key: `${source.topic}-${source.partition}-${entry.offset}`,
        value: entry.value ?? '',
        headers: withCorrelationHeader(
          {
            reason: entry.reason.slice(0, 1000),
            sourceTopic: source.topic,
            sourcePartition: String(source.partition),
            sourceOffset: String(entry.offset),
          },
          correlationIds.get(entry.offset),
        ),
      };
  }
}

/** The live channel of closed windows, for dashboards: best effort, a failure only logs. */
export const LIVE_WINDOWS_CHANNEL = process.env.LIVE_UPDATES_CHANNEL ?? 'analytics:windows';

async function publishLive(windows: readonly Extract<OutboxEntry, { kind: 'window' }>[]): Promise<void> {
  if (windows.length === 0) return;
  try {
    const redis = await redisFromEnv();
    for (const w of windows) {
      await publishUpdate(redis, LIVE_WINDOWS_CHANNEL, {
        type: 'window-closed',
        data: { userId: w.key, ...toStoredWindow(w) },
      });
    }
  } catch (error) {
    logger.warn('Live update not published', { error: error as Error });
  }
}

/** Delivers the partition's outbox until it is empty. */
async function deliver(
  windowStore: RedisWindowStore,
  topic: string,
  partition: number,
  correlationIds: CorrelationIds,
): Promise<number> {
  let delivered = 0;
  for (;;) {
    const entries = await windowStore.pending(topic, partition, 500);
    if (entries.length === 0) return delivered;
    const windows = entries.filter((e): e is Extract<OutboxEntry, { kind: 'window' }> => e.kind === 'window');
    await windowStore.storeResults(windows);
    await produce(
      producer,
      entries.map((e) => toMessage(e, { topic, partition }, correlationIds)),
    );
    await windowStore.acknowledge(topic, partition, entries.length);
    metrics.addMetric('WindowsEmitted', MetricUnit.Count, windows.length);
    await publishLive(windows);
    delivered += entries.length;
  }
}

/** At most this many distinct correlation ids are listed on a partition's log line. */
const LOGGED_CORRELATION_IDS = 20;

export const handler = async (event: unknown, context: Context): Promise<void> => {
  const parsed = kafkaEventSchema.parse(event);
  const records = Object.values(parsed.records);
  await instrumentedInvocation(
    context,
    { batchSize: records.reduce((n, r) => n + r.length, 0) },
    async () => {
      store ??= new RedisWindowStore(await redisFromEnv(), specs, { resultsPerUser });
      for (const partitionRecords of records) {
        await handlePartition(store, partitionRecords);
      }
    },
  );
};

type KafkaRecord = z.infer<typeof kafkaEventSchema>['records'][string][number];

async function handlePartition(
  windowStore: RedisWindowStore,
  records: readonly KafkaRecord[],
): Promise<void> {
  const first = records[0];
  if (!first) return;
  const correlationIds = new Map<number, string>();
  const batch: BatchRecord[] = [...records]
    .sort((a, b) => a.offset - b.offset)
    .map((r) => {
      const correlationId = correlationIdOfKafkaRecord(r);
      if (correlationId) correlationIds.set(r.offset, correlationId);
      const value = fromBase64(r.value);
      const decoded = decodeActivity(value);
      if (decoded.kind === 'dead') {
        logger.warn('Record cannot be decoded', {
          [CORRELATION_ID]: correlationId,
          topic: r.topic,
          partition: r.partition,
          offset: r.offset,
          reason: decoded.reason,
        });
      }
      return decoded.kind === 'fact'
        ? { offset: r.offset, fact: decoded.fact, value }
        : decoded.kind === 'excluded'
          ? { offset: r.offset, excluded: decoded.reason, value }
          : { offset: r.offset, deadReason: decoded.reason, value };
    });
  const outcome = await windowStore.applyBatch(first.topic, first.partition, batch);
  const delivered = await deliver(windowStore, first.topic, first.partition, correlationIds);
  logger.info('Partition batch', {
    topic: first.topic,
    partition: first.partition,
    ...outcome,
    delivered,
    correlationIds: [...new Set(correlationIds.values())].slice(0, LOGGED_CORRELATION_IDS),
  });
  countEvents('EventsConsumed', outcome.applied - outcome.dead);
  countEvents('EventsFailed', outcome.dead);
  countEvents('EventsProduced', delivered);
  metrics.addMetric('ActivityRecordsApplied', MetricUnit.Count, outcome.applied);
  metrics.addMetric('ActivityRecordsRedelivered', MetricUnit.Count, outcome.redelivered);
  metrics.addMetric('LateEvents', MetricUnit.Count, outcome.late);
  metrics.addMetric('DeadLetteredRecords', MetricUnit.Count, outcome.dead);
  metrics.addMetric('ExcludedEvents', MetricUnit.Count, outcome.excluded);
  tracer.putAnnotation('partition', `${first.topic}-${first.partition}`);
}

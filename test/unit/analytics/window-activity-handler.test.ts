/**
 * The windowing handler with Redis and Kafka faked: the `correlationId` header of each record,
 * as the ingest API and the order bridge produce it, is read back (logged with an undecodable
 * record, listed on the batch line, copied onto the record's dead or late letter), and the
 * invocation's metrics are emitted.
 */
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.POWERTOOLS_SERVICE_NAME = 'unit-windowing';
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'UnitNamespace';
  process.env.WINDOW_SPECS = JSON.stringify([
    { name: 'tumbling-60s', sizeMs: 60_000, advanceMs: 60_000, graceMs: 0 },
  ]);
});

type Entry = Record<string, unknown> & { kind: string; offset?: number };
const fake = vi.hoisted(() => ({
  produced: [] as { topic: string; key: string; headers?: Record<string, string> }[],
  batches: [] as { offset: number; deadReason?: string }[][],
  pending: [] as Entry[],
}));
vi.mock('../../../lambdas/commons/kafka/connection.js', () => ({ kafkaConnectionFromEnv: () => ({}) }));
vi.mock('../../../lambdas/commons/kafka/producer.js', () => ({
  createProducer: () => ({}),
  produce: async (_producer: unknown, messages: (typeof fake.produced)[number][]) => {
    fake.produced.push(...messages);
  },
}));
vi.mock('../../../lambdas/commons/redis/connection.js', () => ({ redisFromEnv: async () => ({}) }));
vi.mock('../../../lambdas/commons/redis/live-updates.js', () => ({ publishUpdate: async () => undefined }));
vi.mock('../../../lambdas/analytics/domain/window-config.js', () => ({
  windowSpecsFromJson: (json: string) => JSON.parse(json),
}));
vi.mock('../../../lambdas/analytics/adapters/redis-window-store.js', () => ({
  toStoredWindow: (w: unknown) => w,
  RedisWindowStore: class {
    async applyBatch(_topic: string, _partition: number, batch: { offset: number; deadReason?: string }[]) {
      fake.batches.push(batch);
      const dead = batch.filter((r) => r.deadReason).length;
      return {
        applied: batch.length,
        redelivered: 0,
        late: 1,
        dead,
        excluded: 0,
        conflicts: 0,
        streamTime: 0,
      };
    }
    async pending() {
      const entries = fake.pending;
      fake.pending = [];
      return entries;
    }
    async storeResults() {}
    async acknowledge() {}
  },
}));

import { handler } from '../../../lambdas/analytics/handlers/window-activity.js';
import { kafkaHeadersWith } from '../../../lambdas/commons/observability/correlation.js';
import { type Captured, captureStdout } from '../commons/stdout-capture.js';

const context = { functionName: 'windowing', awsRequestId: 'aws-1' } as Context;
const b64 = (s: string) => Buffer.from(s).toString('base64');
/** A record as Lambda's MSK event source delivers it, headers from what the producers set. */
const record = (offset: number, value: string, correlationId: string) => ({
  topic: 'user_activity',
  partition: 0,
  offset,
  timestamp: 0,
  key: b64('u-1'),
  value: b64(value),
  headers: Object.entries(kafkaHeadersWith(correlationId, { eventType: 'page_view' })).map(([k, v]) => ({
    [k]: [...Buffer.from(v)],
  })),
});
const pageView = JSON.stringify({
  schemaVersion: 1,
  type: 'page_view',
  userId: 'u-1',
  occurredAt: '2026-01-01T00:00:00Z',
  page: '/home',
});

describe('window-activity handler', () => {
  let out: Captured;
  beforeEach(() => {
    out = captureStdout();
    fake.produced.length = 0;
    fake.batches.length = 0;
  });
  afterEach(() => out.restore());

  it('reads each record’s correlation id back and carries it onto its letters and logs', async () => {
    fake.pending = [
      { kind: 'dead', reason: 'the value is not JSON', offset: 11, value: 'broken' },
      {
        kind: 'late',
        offset: 10,
        value: pageView,
        record: { fact: { key: 'u-1' }, streamTime: 0, missed: [] },
      },
    ];
    await handler(
      {
        eventSource: 'aws:kafka',
        records: {
          'user_activity-0': [record(10, pageView, 'corr-ok'), record(11, 'broken', 'corr-broken')],
        },
      },
      context,
    );
    // an undecodable record is logged with its id
    const undecodable = out.logs().find((l) => l.message === 'Record cannot be decoded');
    expect(undecodable).toMatchObject({ correlationId: 'corr-broken', offset: 11 });
    // the batch line lists the ids
    const batch = out.logs().find((l) => l.message === 'Partition batch');
    expect(batch?.correlationIds).toEqual(['corr-ok', 'corr-broken']);
    // the dead and late letters keep the id of their record
    const byTopic = Object.fromEntries(fake.produced.map((m) => [m.topic, m.headers]));
    expect(byTopic.user_activity_dlt?.correlationId).toBe('corr-broken');
    expect(byTopic.user_activity_late?.correlationId).toBe('corr-ok');
    // metrics of the invocation
    expect(out.metric('BatchSize')).toEqual([2]);
    expect(out.metric('EventsConsumed')).toEqual([1]);
    expect(out.metric('EventsFailed')).toEqual([1]);
    expect(out.metric('EventsProduced')).toEqual([2]);
    expect(out.metric('ProcessingTime')).toHaveLength(1);
  });
});

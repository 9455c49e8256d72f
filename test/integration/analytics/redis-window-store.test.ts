/**
 * The Redis window store on the real local Redis: batches applied once, again (redelivery), in
 * other cuts, and by concurrent writers give exactly the closed windows of one in-memory pass of
 * the windowing core over the whole stream.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type BatchRecord,
  type OutboxEntry,
  RedisWindowStore,
} from '../../../lambdas/analytics/adapters/redis-window-store.js';
import {
  type ActivityFact,
  WindowedAggregator,
  type WindowSpec,
} from '../../../lambdas/analytics/domain/windowing.js';

const SPECS: WindowSpec[] = [
  { name: 'tumbling-10s', sizeMs: 10_000, advanceMs: 10_000, graceMs: 2_000 },
  { name: 'hopping-20s-5s', sizeMs: 20_000, advanceMs: 5_000, graceMs: 1_000 },
];
const TOPIC = 'user_activity';

let redis: Redis;
beforeAll(() => {
  redis = new Redis(inject('engines').redisUrl);
});
afterAll(async () => {
  await redis.quit();
});

/** A seeded stream: 8 users, mostly in order, some out of order within grace, some very late. */
function stream(seed: number, n: number): BatchRecord[] {
  let s = seed;
  const rand = () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const records: BatchRecord[] = [];
  let clock = 1_700_000_000_000;
  for (let i = 0; i < n; i++) {
    clock += Math.floor(rand() * 700);
    const jitter = rand() < 0.1 ? Math.floor(rand() * 30_000) : Math.floor(rand() * 1500);
    const types = ['page_view', 'page_view', 'add_to_cart', 'purchase'] as const;
    const type = types[Math.floor(rand() * types.length)] ?? 'page_view';
    const fact: ActivityFact = {
      key: `user-${Math.floor(rand() * 8)}`,
      eventTime: clock - jitter,
      type,
      ...(type === 'page_view' ? { page: `/p/${Math.floor(rand() * 5)}` } : {}),
      ...(type === 'purchase' ? { amount: 100 + Math.floor(rand() * 900) } : {}),
    };
    records.push(
      rand() < 0.03
        ? { offset: i, deadReason: 'value is not JSON', value: 'garbage' }
        : { offset: i, fact, value: JSON.stringify(fact) },
    );
  }
  return records;
}

/** The reference: one in-memory pass of the core, closed windows as the store reports them. */
function reference(records: readonly BatchRecord[]) {
  const aggregator = new WindowedAggregator(SPECS);
  let late = 0;
  for (const r of records) if (r.fact && aggregator.add(r.fact)) late++;
  const closed = aggregator.drainClosed().map((w) => ({
    spec: w.spec,
    key: w.key,
    start: w.start,
    end: w.end,
    events: w.metrics.events,
    pageViews: w.metrics.pageViews,
    uniquePages: w.metrics.uniquePages,
    addToCarts: w.metrics.addToCarts,
    purchases: w.metrics.purchases,
    totalSpent: w.metrics.totalSpent,
  }));
  return { closed, late, dead: records.filter((r) => !r.fact).length };
}

const sortWindows = <T extends { spec: string; key: string; start: number }>(ws: T[]) =>
  [...ws].sort((a, b) => `${a.spec}|${a.key}|${a.start}`.localeCompare(`${b.spec}|${b.key}|${b.start}`));

async function drainAll(store: RedisWindowStore, partition: number): Promise<OutboxEntry[]> {
  const all: OutboxEntry[] = [];
  for (;;) {
    const batch = await store.pending(TOPIC, partition, 500);
    if (batch.length === 0) return all;
    all.push(...batch);
    await store.acknowledge(TOPIC, partition, batch.length);
  }
}

const windowsOf = (entries: OutboxEntry[]) =>
  entries
    .filter((e): e is Extract<OutboxEntry, { kind: 'window' }> => e.kind === 'window')
    .map(({ kind, ...w }) => w);

describe('RedisWindowStore on the local Redis', () => {
  it('gives the closed windows of one pass, whatever the batch cuts, with every batch delivered twice', async () => {
    for (const seed of [1, 2, 3]) {
      // GIVEN a stream and a fresh store
      const records = stream(seed, 600);
      const store = new RedisWindowStore(redis, SPECS, { prefix: `t-${randomUUID()}` });
      // WHEN it is applied in random-size batches, each delivered twice, some overlapping the previous
      let i = 0;
      while (i < records.length) {
        const size = 1 + ((i * 7 + seed) % 60);
        const from = Math.max(0, i - (i % 3 === 0 ? 5 : 0));
        const batch = records.slice(from, i + size);
        await store.applyBatch(TOPIC, 0, batch);
        const again = await store.applyBatch(TOPIC, 0, batch);
        // THEN a redelivery applies nothing
        expect(again.applied).toBe(0);
        i += size;
      }
      // THEN the outbox holds exactly the reference's closed windows, late records and dead letters
      const expected = reference(records);
      const outbox = await drainAll(store, 0);
      expect(sortWindows(windowsOf(outbox)), `seed ${seed}`).toEqual(sortWindows(expected.closed));
      expect(outbox.filter((e) => e.kind === 'late')).toHaveLength(expected.late);
      expect(outbox.filter((e) => e.kind === 'dead')).toHaveLength(expected.dead);
      expect(expected.closed.length).toBeGreaterThan(20);
      expect(expected.late).toBeGreaterThan(0);
    }
  });

  it('counts once when concurrent invocations apply the same batches', async () => {
    const records = stream(42, 400);
    const store = new RedisWindowStore(redis, SPECS, { prefix: `t-${randomUUID()}` });
    const other = new Redis(inject('engines').redisUrl);
    try {
      const twin = new RedisWindowStore(other, SPECS, {
        prefix: (store as unknown as { prefix: string }).prefix,
      });
      for (let i = 0; i < records.length; i += 25) {
        const batch = records.slice(i, i + 25);
        const outcomes = await Promise.all([
          store.applyBatch(TOPIC, 3, batch),
          twin.applyBatch(TOPIC, 3, batch),
        ]);
        // Exactly one of the two applied each record
        expect(outcomes[0].applied + outcomes[1].applied).toBe(batch.length);
      }
    } finally {
      await other.quit();
    }
    expect(sortWindows(windowsOf(await drainAll(store, 3)))).toEqual(sortWindows(reference(records).closed));
  });

  it('goes on after a batch of dead letters only (no stream time yet)', async () => {
    const store = new RedisWindowStore(redis, SPECS, { prefix: `t-${randomUUID()}` });
    await store.applyBatch(TOPIC, 0, [{ offset: 0, deadReason: 'value is not JSON', value: '{' }]);
    const fact: ActivityFact = { key: 'ada', eventTime: 1_000, type: 'page_view', page: '/' };
    const outcome = await store.applyBatch(TOPIC, 0, [{ offset: 1, fact, value: '{}' }]);
    expect(outcome.applied).toBe(1);
    expect(outcome.streamTime).toBe(1_000);
  });

  it("keeps a user's closed windows once each, newest first, at most resultsPerUser", async () => {
    const store = new RedisWindowStore(redis, SPECS, { prefix: `t-${randomUUID()}`, resultsPerUser: 3 });
    const w = (start: number) => ({
      kind: 'window' as const,
      spec: 'tumbling-10s',
      key: 'ada',
      start,
      end: start + 10_000,
      events: 2,
      pageViews: 1,
      uniquePages: 1,
      addToCarts: 0,
      purchases: 1,
      totalSpent: 500,
    });
    await store.storeResults([w(0), w(10_000), w(20_000)]);
    await store.storeResults([w(20_000), w(30_000)]);
    const results = await store.resultsOf('ada');
    expect(results.map((r) => r.start)).toEqual([
      new Date(30_000).toISOString(),
      new Date(20_000).toISOString(),
      new Date(10_000).toISOString(),
    ]);
    expect(results[0]?.metrics.averageOrderValue).toBe(500);
  });
});

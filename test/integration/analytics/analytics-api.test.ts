/**
 * Analytics end to end on the local cloud: POST /events → the real local Kafka (`user_activity`)
 * → the MSK event source emulation (a consumer group, offsets committed after success) → the
 * windowing function → Redis → GET /analytics/users/{userId}, `user_metrics`, and the dead-letter
 * and late topics. Windows are shortened by configuration (2 s tumbling, 4 s hopping every 2 s,
 * 1 s grace) so that a run closes them in seconds.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { type Consumer, Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { subscribeUpdates } from '../../../lambdas/commons/redis/live-updates.js';
import { type RunningApp, startApp } from '../app.js';
import { eventually } from '../eventually.js';

const WINDOWS = { tumblingSeconds: 2, hoppingSizeSeconds: 4, hoppingAdvanceSeconds: 2, graceSeconds: 1 };

describe('analytics on the local cloud', { timeout: 180_000 }, () => {
  let app: RunningApp;
  let kafka: Kafka;
  const consumers: Consumer[] = [];
  const seen: Record<string, { key: string; value: string; headers: Record<string, string> }[]> = {};
  const run = randomUUID().slice(0, 8);

  /** Reads a topic from now on, into `seen[topic]`. */
  async function watch(topic: string): Promise<void> {
    const consumer = kafka.consumer({ groupId: `watch-${topic}-${run}` });
    consumers.push(consumer);
    seen[topic] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: false });
    let joined: () => void = () => undefined;
    const ready = new Promise<void>((r) => {
      joined = r;
    });
    consumer.on(consumer.events.GROUP_JOIN, () => joined());
    await consumer.run({
      eachMessage: async ({ message }: { message: KafkaMessage }) => {
        seen[topic]?.push({
          key: message.key?.toString() ?? '',
          value: message.value?.toString() ?? '',
          headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
        });
      },
    });
    await ready;
  }

  /** The first message of a topic (read from its beginning) that satisfies `wanted`. */
  async function find(
    topic: string,
    wanted: (m: { key: string; value: string; headers: Record<string, string> }) => boolean,
    timeoutMs = 30_000,
  ) {
    const consumer = kafka.consumer({ groupId: `find-${topic}-${randomUUID()}` });
    consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let found: ((m: { key: string; value: string; headers: Record<string, string> }) => void) | undefined;
    const result = new Promise<{ key: string; value: string; headers: Record<string, string> }>((resolve) => {
      found = resolve;
    });
    await consumer.run({
      eachMessage: async ({ message }: { message: KafkaMessage }) => {
        const m = {
          key: message.key?.toString() ?? '',
          value: message.value?.toString() ?? '',
          headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
        };
        if (wanted(m)) found?.(m);
      },
    });
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`no such message on ${topic} within ${timeoutMs} ms`)), timeoutMs),
    );
    try {
      return await Promise.race([result, timeout]);
    } finally {
      await consumer.disconnect();
    }
  }

  /**
   * Stream time is per partition and survives runs (it lives in Redis, as in production): every
   * test takes event times after everything any earlier test or run produced, 20 s apart, aligned
   * to the 2 s windows.
   */
  let clock = 0;
  const nextStart = (): number => {
    clock = Math.max(clock + 20_000, Math.ceil((Date.now() + 2000) / 2000) * 2000);
    return clock;
  };

  const live: { type: string; data: { userId: string; window: string } }[] = [];
  let unsubscribe: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    unsubscribe = await subscribeUpdates<{ userId: string; window: string }>(
      inject('engines').redisUrl,
      'analytics:windows',
      (update) => {
        live.push(update);
      },
    );
    const redis = new Redis(inject('engines').redisUrl);
    try {
      for (const key of await redis.keys('analytics:{user_activity:*}:meta')) {
        clock = Math.max(clock, Number((await redis.hget(key, 'streamTime')) ?? 0) + 10_000);
      }
    } finally {
      await redis.quit();
    }
    clock = Math.ceil(clock / 2000) * 2000;
    app = await startApp(`analytics-${run}`, { analytics: { windows: WINDOWS } });
    kafka = new Kafka({
      clientId: 'test',
      brokers: inject('engines').kafkaBrokers,
      logLevel: logLevel.NOTHING,
    });
    await Promise.all(['user_metrics', 'user_activity_late'].map(watch));
  }, 120_000);

  afterAll(async () => {
    await unsubscribe?.();
    await Promise.allSettled(consumers.map((c) => c.disconnect()));
    await app?.stop();
  });

  const at = (ms: number) => new Date(ms).toISOString();

  it('creates the topics at deploy with the configured partitions', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({
        topics: ['user_activity', 'user_metrics', 'user_activity_late', 'user_activity_dlt'],
      });
      expect(Object.fromEntries(topics.map((t) => [t.name, t.partitions.length]))).toEqual({
        user_activity: 3,
        user_metrics: 3,
        user_activity_late: 3,
        user_activity_dlt: 1,
      });
    } finally {
      await admin.disconnect();
    }
  });

  it('accepts the valid events of a batch, says why the others are refused, and serves closed windows', async () => {
    const user = `user-${run}`;
    // Events in the 2 s window that starts 2-4 s from now, then one that closes it (stream time
    // past end + grace).
    const start = nextStart();
    const common = { schemaVersion: 1, userId: user };
    // WHEN a batch with three valid events and two invalid ones is posted
    const posted = await app.call('POST', '/events', {
      events: [
        { ...common, type: 'page_view', page: '/Shoes/?ref=ad', occurredAt: at(start + 100) },
        { ...common, type: 'page_view', page: '/shoes', occurredAt: at(start + 200) },
        { ...common, type: 'purchase', amount: 4999, currency: 'EUR', occurredAt: at(start + 300) },
        { ...common, type: 'purchase', amount: -1, currency: 'EUR', occurredAt: at(start + 400) },
        { ...common, type: 'teleport', occurredAt: at(start + 500) },
      ],
    });
    // THEN the valid ones are accepted and the others rejected with their index and reason
    expect(posted.status).toBe(207);
    expect((posted.body.accepted as { index: number }[]).map((a) => a.index)).toEqual([0, 1, 2]);
    const rejected = posted.body.rejected as { index: number; errors: { path: string; message: string }[] }[];
    expect(rejected.map((r) => r.index)).toEqual([3, 4]);
    expect(rejected[0]?.errors[0]?.path).toBe('amount');
    expect(rejected[1]?.errors[0]?.message).toMatch(/type must be one of/);

    // AND once an event moves stream time past the window's end + grace, the window is served
    const closer = await app.call('POST', '/events', {
      events: [{ ...common, type: 'add_to_cart', sku: 'SKU-1', quantity: 1, occurredAt: at(start + 3500) }],
    });
    expect(closer.status).toBe(202);
    const reply = await app.read(
      `/analytics/users/${user}?window=tumbling-2s`,
      (r) => (r.body.windows as unknown[] | undefined)?.length === 1,
      60_000,
    );
    expect(reply.body.windows).toEqual([
      {
        window: 'tumbling-2s',
        start: at(start),
        end: at(start + 2000),
        metrics: {
          events: 3,
          pageViews: 2,
          uniquePages: 1,
          addToCarts: 0,
          purchases: 1,
          totalSpent: 4999,
          averageOrderValue: 4999,
        },
      },
    ]);
    // AND it was announced on the live channel (best effort)
    await eventually(
      async () =>
        live.some((u) => u.data.userId === user && u.data.window === 'tumbling-2s') ? true : undefined,
      20_000,
    );
    // AND the closed window went to user_metrics once, keyed by user, window and start
    const key = `${user}|tumbling-2s|${start}`;
    await eventually(async () => (seen.user_metrics?.some((m) => m.key === key) ? true : undefined), 20_000);
    expect(seen.user_metrics?.filter((m) => m.key === key)).toHaveLength(1);
  });

  it('sends an event that arrives after its window closed to the late topic, not into the window', async () => {
    const user = `late-${run}`;
    const start = nextStart();
    const common = { schemaVersion: 1, userId: user };
    await app.call('POST', '/events', {
      events: [
        { ...common, type: 'page_view', page: '/a', occurredAt: at(start + 100) },
        { ...common, type: 'page_view', page: '/b', occurredAt: at(start + 4000) },
      ],
    });
    // WHEN an event of the first window arrives after stream time passed its end + grace
    await app.call('POST', '/events', {
      events: [{ ...common, type: 'page_view', page: '/late', occurredAt: at(start + 500) }],
    });
    // THEN it reaches the late topic with the windows it missed
    const late = await eventually(
      async () => seen.user_activity_late?.find((m) => m.key === user && m.value.includes('/late')),
      30_000,
    );
    expect(JSON.parse(late.headers.missedWindows ?? '[]')).toContainEqual({
      spec: 'tumbling-2s',
      starts: [start],
    });
    // AND the first window counts only its on-time event
    type Window = { start: string; metrics: { pageViews: number } };
    const windowAt = (r: { body: Record<string, unknown> }) =>
      (r.body.windows as Window[] | undefined)?.find((w) => w.start === at(start));
    const reply = await app.read(`/analytics/users/${user}?window=tumbling-2s`, (r) => !!windowAt(r), 30_000);
    expect(windowAt(reply)?.metrics.pageViews).toBe(1);
  });

  it('sends a record that cannot be decoded to the dead-letter topic with the reason, and goes on', async () => {
    const user = `broken-${run}`;
    const producer = kafka.producer();
    await producer.connect();
    const broken = `{"not":"an event ${run}"`;
    await producer.send({ topic: 'user_activity', messages: [{ key: user, value: broken }] });
    await producer.disconnect();
    const dead = await find('user_activity_dlt', (m) => m.value === broken);
    expect(dead.headers.reason).toMatch(/^the value is not JSON/);
    expect(dead.headers.sourceTopic).toBe('user_activity');
    // AND the stream goes on: a later event of the same user is windowed
    const start = nextStart();
    await app.call('POST', '/events', {
      events: [
        { schemaVersion: 1, userId: user, type: 'page_view', page: '/x', occurredAt: at(start + 10) },
        { schemaVersion: 1, userId: user, type: 'page_view', page: '/y', occurredAt: at(start + 3500) },
      ],
    });
    const reply = await app.read(
      `/analytics/users/${user}?window=tumbling-2s`,
      (r) => (r.body.windows as { start: string }[] | undefined)?.some((w) => w.start === at(start)) === true,
      30_000,
    );
    expect(reply.status).toBe(200);
  });

  it('leaves the results unchanged when the same batch is delivered again', async () => {
    // GIVEN a Kafka event as Lambda delivers it, on a partition of its own
    const user = `redelivered-${run}`;
    const topic = `user_activity_redelivery_${run}`;
    const start = 1_700_000_000_000;
    const record = (offset: number, t: number, page: string) => ({
      topic,
      partition: 0,
      offset,
      timestamp: t,
      timestampType: 'CREATE_TIME',
      key: Buffer.from(user).toString('base64'),
      value: Buffer.from(
        JSON.stringify({ schemaVersion: 1, userId: user, type: 'page_view', page, occurredAt: at(t) }),
      ).toString('base64'),
      headers: [],
    });
    const event = {
      eventSource: 'aws:kafka',
      eventSourceArn: 'arn:aws:kafka:us-east-1:123456789012:cluster/test/local',
      records: {
        [`${topic}-0`]: [
          record(0, start + 100, '/a'),
          record(1, start + 200, '/b'),
          record(2, start + 9000, '/c'),
        ],
      },
    };
    const windowing = app.cloud.fn('Windowing');
    // WHEN it is delivered, then delivered again
    expect((await windowing.invoke(event)).ok).toBe(true);
    const first = await app.call('GET', `/analytics/users/${user}`);
    expect((await windowing.invoke(event)).ok).toBe(true);
    const second = await app.call('GET', `/analytics/users/${user}`);
    // THEN the results are those of one delivery
    expect(second.body).toEqual(first.body);
    const tumbling = (first.body.windows as { window: string; metrics: { pageViews: number } }[]).filter(
      (w) => w.window === 'tumbling-2s',
    );
    expect(tumbling).toHaveLength(1);
    expect(tumbling[0]?.metrics.pageViews).toBe(2);
  });

  it('refuses a batch with no valid event with 400 and the reason of each', async () => {
    const reply = await app.call('POST', '/events', {
      events: [{ schemaVersion: 2, userId: 'u', type: 'page_view', page: '/', occurredAt: at(Date.now()) }],
    });
    expect(reply.status).toBe(400);
    expect((reply.body.errors as { path: string }[]).map((e) => e.path)).toContain('events.0.schemaVersion');
  });
});

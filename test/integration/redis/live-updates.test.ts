/**
 * Live updates over Redis PUB/SUB on the real local Redis: delivered in order to connected
 * subscribers, missed by late ones (best effort, no retention), stopped by unsubscribe.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type LiveUpdate,
  publishUpdate,
  subscribeUpdates,
} from '../../../lambdas/commons/redis/live-updates.js';

interface WindowResult {
  userId: string;
  events: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Retries an assertion every 10 ms until it passes or 2 s have passed (then its error is thrown). */
async function eventually(assertion: () => void): Promise<void> {
  const deadline = Date.now() + 2_000;
  for (;;) {
    try {
      assertion();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(10);
    }
  }
}

let redis: Redis;
beforeAll(() => {
  redis = new Redis(inject('engines').redisUrl);
});
afterAll(async () => {
  await redis.quit();
});

describe('live updates', () => {
  it('a subscriber receives the published updates in order, as JSON with type and timestamp', async () => {
    const channel = `live-${randomUUID()}`;
    const received: LiveUpdate<WindowResult>[] = [];
    const unsubscribe = await subscribeUpdates<WindowResult>(inject('engines').redisUrl, channel, (u) =>
      received.push(u),
    );
    try {
      for (let i = 0; i < 100; i++) {
        const receivers = await publishUpdate(redis, channel, {
          type: 'window.closed',
          data: { userId: `user-${i % 3}`, events: i },
        });
        expect(receivers).toBe(1);
      }
      await eventually(() => expect(received).toHaveLength(100));
      expect(received.map((u) => u.data.events)).toEqual(Array.from({ length: 100 }, (_, i) => i));
      expect(received[0]?.type).toBe('window.closed');
      expect(Number.isNaN(Date.parse(received[0]?.timestamp ?? ''))).toBe(false);
      const fixed = '2025-01-01T00:00:00.000Z';
      await publishUpdate(redis, channel, { type: 't', data: null, timestamp: new Date(fixed) });
      await eventually(() => expect(received.at(-1)).toEqual({ type: 't', timestamp: fixed, data: null }));
    } finally {
      await unsubscribe();
    }
  });

  it('is best effort: a subscriber connected after a publish does not get it', async () => {
    const channel = `live-${randomUUID()}`;
    expect(await publishUpdate(redis, channel, { type: 'early', data: 1 })).toBe(0);
    const received: string[] = [];
    // A client (not a URL): the subscription gets a duplicate connection, the client stays usable.
    const unsubscribe = await subscribeUpdates(redis, channel, (u) => received.push(u.type));
    try {
      expect(await redis.ping()).toBe('PONG');
      await publishUpdate(redis, channel, { type: 'late', data: 2 });
      await eventually(() => expect(received).toEqual(['late']));
    } finally {
      await unsubscribe();
    }
  });

  it('unsubscribe stops delivery (and is idempotent); malformed messages go to onError', async () => {
    const channel = `live-${randomUUID()}`;
    const received: unknown[] = [];
    const errors: string[] = [];
    const unsubscribe = await subscribeUpdates(
      inject('engines').redisUrl,
      channel,
      (u) => received.push(u.data),
      { onError: (e) => errors.push(e.message) },
    );
    await redis.publish(channel, 'not json');
    await redis.publish(channel, JSON.stringify({ hello: 'world' }));
    await publishUpdate(redis, channel, { type: 'a', data: 1 });
    await eventually(() => expect(received).toEqual([1]));
    expect(errors).toHaveLength(2);
    await unsubscribe();
    await unsubscribe();
    expect(await publishUpdate(redis, channel, { type: 'b', data: 2 })).toBe(0);
    await sleep(50);
    expect(received).toEqual([1]);
  });
});

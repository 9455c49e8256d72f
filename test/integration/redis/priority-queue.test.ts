/**
 * The reliable priority queue on the real local Redis: exact order (priority, then FIFO), leases
 * that survive dead consumers (in process and a SIGKILLed child process), refused stale acks,
 * exactly-once taking under concurrent consumers, dead letters, peek/size/clear, dedupe and nack.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type Delivery,
  RedisPriorityQueue,
  type RedisPriorityQueueOptions,
} from '../../../lambdas/commons/redis/priority-queue.js';

interface Job {
  n: number;
}

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let redis: Redis;
const queues: RedisPriorityQueue<unknown>[] = [];
beforeAll(() => {
  redis = new Redis(inject('engines').redisUrl);
});
afterAll(async () => {
  for (const q of queues) await q.clear();
  await redis.quit();
});

function queue<T = Job>(options: RedisPriorityQueueOptions = {}, client = redis): RedisPriorityQueue<T> {
  const q = new RedisPriorityQueue<T>(client, `test-${randomUUID()}`, options);
  queues.push(q as RedisPriorityQueue<unknown>);
  return q;
}

async function drain<T>(q: RedisPriorityQueue<T>, consumer = 'c'): Promise<Delivery<T>[]> {
  const out: Delivery<T>[] = [];
  for (let d = await q.dequeue(consumer); d; d = await q.dequeue(consumer)) {
    out.push(d);
    expect(await q.ack(d)).toBe(true);
  }
  return out;
}

describe('RedisPriorityQueue', () => {
  it('delivers higher priorities first and FIFO within a priority (200 random tasks)', async () => {
    const q = queue();
    let s = 7;
    const rand = () => {
      s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
      return s / 2_147_483_648;
    };
    const reference: { n: number; priority: number }[] = [];
    for (let n = 0; n < 200; n++) {
      const priority = Math.floor(rand() * 7) - 3;
      reference.push({ n, priority });
      await q.enqueue({ n }, priority);
    }
    reference.sort((a, b) => b.priority - a.priority || a.n - b.n);
    expect((await q.peek(5)).map((t) => t.task.n)).toEqual(reference.slice(0, 5).map((r) => r.n));
    const taken = await drain(q);
    expect(taken.map((d) => [d.task.n, d.priority])).toEqual(reference.map((r) => [r.n, r.priority]));
    expect(taken.every((d) => d.attempts === 1)).toBe(true);
    expect(await q.size()).toEqual({ pending: 0, delayed: 0, inFlight: 0, deadLettered: 0 });
  });

  it('orders extreme priorities and ids with any characters', async () => {
    const q = queue<string>();
    await q.enqueue('low', -999_999_999_999_999, { id: 'a:b:c' });
    await q.enqueue('high', 999_999_999_999_999, { id: 'ü {x}' });
    await q.enqueue('zero', 0, { id: '0' });
    const taken = await drain(q);
    expect(taken.map((d) => [d.id, d.task, d.priority])).toEqual([
      ['ü {x}', 'high', 999_999_999_999_999],
      ['0', 'zero', 0],
      ['a:b:c', 'low', -999_999_999_999_999],
    ]);
    await expect(q.enqueue('x', 1.5)).rejects.toThrow(RangeError);
    await expect(q.enqueue('x', 1e15)).rejects.toThrow(RangeError);
  });

  it('redelivers the task of a consumer that died (attempts 2), then dead-letters after maxAttempts', async () => {
    const q = queue({ visibilityTimeoutMs: 300, maxAttempts: 3 });
    const id = await q.enqueue({ n: 1 }, 5);
    const first = await q.dequeue('dies-1');
    expect(first).toMatchObject({ id, task: { n: 1 }, priority: 5, attempts: 1, consumerId: 'dies-1' });
    expect(await q.dequeue('other')).toBeUndefined(); // leased, not visible
    expect(await q.size()).toMatchObject({ pending: 0, inFlight: 1 });
    await sleep(350);
    const second = await q.dequeue('dies-2');
    expect(second).toMatchObject({ id, task: { n: 1 }, attempts: 2, consumerId: 'dies-2' });
    await sleep(350);
    expect(await q.dequeue('dies-3')).toMatchObject({ id, attempts: 3 });
    await sleep(350);
    expect(await q.reclaim()).toBe(1);
    expect(await q.dequeue('late')).toBeUndefined();
    expect(await q.size()).toEqual({ pending: 0, delayed: 0, inFlight: 0, deadLettered: 1 });
    const [dead] = await q.deadLetters();
    expect(dead).toMatchObject({
      id,
      task: { n: 1 },
      priority: 5,
      attempts: 3,
      reason: 'lease expired 3 times',
    });
    expect(dead?.at).toBeGreaterThan(0);
  });

  it('refuses the ack of a consumer whose lease expired and was re-taken, keeping the new lease', async () => {
    const q = queue({ visibilityTimeoutMs: 300 });
    await q.enqueue({ n: 1 }, 0);
    const slow = await q.dequeue('slow');
    await sleep(350);
    const fresh = await q.dequeue('fresh');
    expect(fresh?.id).toBe(slow?.id);
    expect(fresh?.attempts).toBe(2);
    if (!slow || !fresh) throw new Error('no delivery');
    expect(await q.ack(slow)).toBe(false);
    expect(await q.nack(slow, { requeue: true })).toBe('refused');
    expect(await q.extend(slow, 10_000)).toBeUndefined();
    expect(await q.size()).toMatchObject({ pending: 0, inFlight: 1 });
    expect(await q.ack(fresh)).toBe(true);
    expect(await q.ack(fresh)).toBe(false);
    expect(await q.size()).toEqual({ pending: 0, delayed: 0, inFlight: 0, deadLettered: 0 });
  });

  it('an ack after the deadline succeeds while nobody has reclaimed the lease; extend keeps a lease', async () => {
    const q = queue({ visibilityTimeoutMs: 300 });
    await q.enqueue({ n: 1 }, 0);
    await q.enqueue({ n: 2 }, 0);
    const late = await q.dequeue('late');
    const extended = await q.dequeue('extends');
    if (!late || !extended) throw new Error('no delivery');
    const until = await q.extend(extended, 2_000);
    expect(until).toBeGreaterThan(extended.leaseUntil);
    await sleep(350);
    expect(await q.ack(late)).toBe(true); // expired, but not reclaimed: no second run needed
    expect(await q.reclaim()).toBe(0); // the extended lease is still valid
    expect(await q.dequeue('other')).toBeUndefined();
    expect(await q.ack(extended)).toBe(true);
  });

  it('8 consumers on separate connections drain 1,000 tasks, each taken exactly once', async () => {
    const url = inject('engines').redisUrl;
    const name = `test-${randomUUID()}`;
    const producer = new RedisPriorityQueue<Job>(redis, name);
    queues.push(producer as RedisPriorityQueue<unknown>);
    await Promise.all(Array.from({ length: 1000 }, (_, n) => producer.enqueue({ n }, n % 5)));
    const clients = Array.from({ length: 8 }, () => new Redis(url));
    try {
      const taken = await Promise.all(
        clients.map(async (client, c) => {
          const q = new RedisPriorityQueue<Job>(client, name);
          const mine: number[] = [];
          for (let d = await q.dequeue(`c${c}`); d; d = await q.dequeue(`c${c}`)) {
            mine.push(d.task.n);
            if (!(await q.ack(d))) throw new Error(`ack refused for ${d.id}`);
          }
          return mine;
        }),
      );
      const all = taken.flat();
      expect(all).toHaveLength(1000);
      expect(new Set(all).size).toBe(1000);
      expect(taken.filter((mine) => mine.length > 0).length).toBeGreaterThan(1);
      expect(await producer.size()).toEqual({ pending: 0, delayed: 0, inFlight: 0, deadLettered: 0 });
    } finally {
      await Promise.all(clients.map((c) => c.quit()));
    }
  });

  it('reclaims the task of a consumer process killed with SIGKILL before acking', async () => {
    const name = `test-${randomUUID()}`;
    const q = new RedisPriorityQueue<Job>(redis, name, { visibilityTimeoutMs: 300 });
    queues.push(q as RedisPriorityQueue<unknown>);
    const id = await q.enqueue({ n: 42 }, 1);
    const moduleUrl = new URL('../../../lambdas/commons/redis/priority-queue.ts', import.meta.url).href;
    const code = `
      import { Redis } from 'ioredis';
      import { RedisPriorityQueue } from ${JSON.stringify(moduleUrl)};
      const redis = new Redis(${JSON.stringify(inject('engines').redisUrl)});
      const q = new RedisPriorityQueue(redis, ${JSON.stringify(name)}, { visibilityTimeoutMs: 300 });
      const d = await q.dequeue('child');
      process.stdout.write(JSON.stringify(d ?? null) + '\\n');
      setInterval(() => {}, 1000); // "working" until killed
    `;
    // `node --import tsx`, not the tsx CLI: the CLI runs the script in a grandchild process that a
    // SIGKILL of the CLI would not reach.
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_, signal) => resolve(signal)),
    );
    const [line] = await Promise.race([
      createInterface({ input: child.stdout })
        [Symbol.asyncIterator]()
        .next()
        .then((r) => [r.value as string]),
      exited.then(() => {
        throw new Error('child exited before dequeuing');
      }),
    ]);
    const taken = JSON.parse(line ?? 'null') as Delivery<Job> | null;
    expect(taken).toMatchObject({ id, task: { n: 42 }, attempts: 1, consumerId: 'child' });
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(await q.size()).toMatchObject({ pending: 0, inFlight: 1 });
    const redelivered = await q.dequeue('test', { waitMs: 2_000, pollMs: 50 });
    expect(redelivered).toMatchObject({ id, task: { n: 42 }, attempts: 2 });
    if (!redelivered) throw new Error('not redelivered');
    expect(await q.ack(redelivered)).toBe(true);
    expect(await q.size()).toEqual({ pending: 0, delayed: 0, inFlight: 0, deadLettered: 0 });
  });

  it('peek, size and clear', async () => {
    const q = queue();
    expect(await q.peek()).toEqual([]);
    const a = await q.enqueue({ n: 1 }, 1);
    const b = await q.enqueue({ n: 2 }, 2);
    await q.enqueue({ n: 3 }, 1);
    expect(await q.peek()).toEqual([{ id: b, task: { n: 2 }, priority: 2, attempts: 0 }]);
    expect((await q.peek(10)).map((t) => t.task.n)).toEqual([2, 1, 3]);
    expect(await q.size()).toEqual({ pending: 3, delayed: 0, inFlight: 0, deadLettered: 0 });
    const d = await q.dequeue('c');
    expect(d?.id).toBe(b);
    expect((await q.peek(10)).map((t) => t.id)[0]).toBe(a);
    expect(await q.size()).toEqual({ pending: 2, delayed: 0, inFlight: 1, deadLettered: 0 });
    await q.clear();
    expect(await q.size()).toEqual({ pending: 0, delayed: 0, inFlight: 0, deadLettered: 0 });
    expect(await q.dequeue('c')).toBeUndefined();
    if (d) expect(await q.ack(d)).toBe(false);
  });

  it('dedupes an id while the task is pending or in flight, not after it is done', async () => {
    const q = queue();
    expect(await q.enqueue({ n: 1 }, 1, { id: 'order-1' })).toBe('order-1');
    expect(await q.enqueue({ n: 2 }, 9, { id: 'order-1' })).toBe('order-1');
    expect(await q.size()).toMatchObject({ pending: 1 });
    const d = await q.dequeue('c');
    expect(d).toMatchObject({ id: 'order-1', task: { n: 1 }, priority: 1 });
    await q.enqueue({ n: 3 }, 1, { id: 'order-1' });
    expect(await q.size()).toMatchObject({ pending: 0, inFlight: 1 });
    if (d) await q.ack(d);
    await q.enqueue({ n: 4 }, 1, { id: 'order-1' });
    expect(await q.dequeue('c')).toMatchObject({ id: 'order-1', task: { n: 4 }, attempts: 1 });
  });

  it('nack requeues at the original position, after a delay, or to the dead letters', async () => {
    const q = queue({ maxAttempts: 3 });
    await q.enqueue({ n: 1 }, 1);
    await q.enqueue({ n: 2 }, 1);
    await q.enqueue({ n: 3 }, 0);
    const first = await q.dequeue('c');
    if (!first) throw new Error('empty');
    expect(await q.nack(first, { requeue: true })).toBe('requeued');
    const again = await q.dequeue('c');
    expect(again).toMatchObject({ task: { n: 1 }, attempts: 2 }); // back ahead of n=2
    if (!again) throw new Error('empty');
    expect(await q.nack(again, { requeue: true, delayMs: 200 })).toBe('delayed');
    expect(await q.size()).toMatchObject({ pending: 3, delayed: 1, inFlight: 0 });
    const second = await q.dequeue('c');
    expect(second?.task).toEqual({ n: 2 });
    if (!second) throw new Error('empty');
    expect(await q.nack(second, { requeue: false, reason: 'invalid payload' })).toBe('dead-lettered');
    await sleep(250);
    const third = await q.dequeue('c');
    expect(third).toMatchObject({ task: { n: 1 }, attempts: 3 });
    if (!third) throw new Error('empty');
    expect(await q.nack(third, { requeue: true })).toBe('dead-lettered'); // maxAttempts reached
    expect((await q.dequeue('c'))?.task).toEqual({ n: 3 });
    expect((await q.deadLetters()).map((d) => [d.task, d.reason, d.attempts])).toEqual([
      [{ n: 2 }, 'invalid payload', 1],
      [{ n: 1 }, 'nacked after 3 attempts', 3],
    ]);
    expect(await q.size()).toEqual({ pending: 0, delayed: 0, inFlight: 1, deadLettered: 2 });
  });

  it('redrives dead letters oldest first, at their priority and id, with fresh attempts, losing none', async () => {
    // GIVEN two tasks dead-lettered (the low-priority one first) and one still pending
    const q = queue({ maxAttempts: 1 });
    await q.enqueue({ n: 1 }, 1, { id: 'low' });
    await q.enqueue({ n: 2 }, 5, { id: 'high' });
    const high = await q.dequeue('c');
    const low = await q.dequeue('c');
    if (!high || !low) throw new Error('empty');
    await q.nack(low, { requeue: false, reason: 'provider down' });
    await q.nack(high, { requeue: true }); // maxAttempts 1: dead-lettered
    await q.enqueue({ n: 3 }, 3, { id: 'pending' });
    expect((await q.deadLetters()).map((d) => d.id)).toEqual(['low', 'high']);

    // WHEN one is redriven, then the rest
    expect(await q.redriveDeadLetters(1)).toBe(1);
    expect((await q.deadLetters()).map((d) => d.id)).toEqual(['high']);
    expect(await q.redriveDeadLetters()).toBe(1);

    // THEN nothing is dead any more, and the queue delivers by priority with a fresh count
    expect(await q.size()).toEqual({ pending: 3, delayed: 0, inFlight: 0, deadLettered: 0 });
    const order = [];
    for (let d = await q.dequeue('c'); d; d = await q.dequeue('c')) {
      order.push([d.id, d.priority, d.attempts]);
      await q.ack(d);
    }
    expect(order).toEqual([
      ['high', 5, 1],
      ['pending', 3, 1],
      ['low', 1, 1],
    ]);
    expect(await q.redriveDeadLetters()).toBe(0);
  });

  it('keeps task bodies as they were enqueued (JSON round trip)', async () => {
    const q = queue<unknown>();
    const task = { empty: [], nested: { list: [1, 'two', null], big: 12_345_678_901_234 }, s: 'a/"b"' };
    await q.enqueue(task, 0);
    const d = await q.dequeue('c');
    expect(d?.task).toEqual(task);
    if (!d) throw new Error('empty');
    await q.nack(d, { requeue: false });
    expect((await q.deadLetters())[0]?.task).toEqual(task);
  });
});

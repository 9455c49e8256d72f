/**
 * The e-mail path's dispatch on the real local Redis priority queue: transactional e-mails go out
 * before bulk ones queued earlier, a failed send is retried after its backoff, an open circuit ends
 * the drain and keeps the e-mail, a dispatcher that dies holding e-mails loses none, and an e-mail
 * that never goes through is dead-lettered with its reason.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RedisPriorityQueue } from '../../../lambdas/commons/redis/priority-queue.js';
import {
  drainQueue,
  type EmailTask,
  emailKey,
  priorityOf,
} from '../../../lambdas/notifications/domain/email-dispatch.js';
import { type NotifyingEvent, renderEmail } from '../../../lambdas/notifications/domain/emails.js';

let redis: Redis;
const queues: RedisPriorityQueue<EmailTask>[] = [];
beforeAll(() => {
  redis = new Redis(inject('engines').redisUrl);
});
afterAll(async () => {
  for (const q of queues) await q.clear();
  await redis.quit();
});

function emailQueue(options: { visibilityTimeoutMs?: number; maxAttempts?: number } = {}) {
  const q = new RedisPriorityQueue<EmailTask>(redis, `emails-${randomUUID()}`, options);
  queues.push(q);
  return q;
}

const DATA: Record<NotifyingEvent, Record<string, unknown>> = {
  CustomerRegistered: { name: 'Ada', email: 'ada@example.com' },
  OrderPlaced: { total: 1250, currency: 'EUR' },
  InventoryRejected: { reason: 'out of stock' },
  PaymentCompleted: { amount: 1250, currency: 'EUR' },
  PaymentFailed: { reason: 'card declined' },
  OrderShipped: { shipmentId: 's-1' },
  OrderCancelled: { reason: 'customer' },
};

function task(type: NotifyingEvent, subject: string): EmailTask {
  const email = renderEmail(
    {
      eventId: randomUUID(),
      type,
      aggregateId: subject,
      version: 1,
      data: { orderId: subject, ...DATA[type] },
      occurredAt: new Date().toISOString(),
      correlationId: `c-${subject}`,
      schemaVersion: 1,
    } as Parameters<typeof renderEmail>[0],
    `${subject}@example.com`,
  );
  if (!email) throw new Error(`${type} renders no e-mail`);
  return { key: emailKey(subject, type), eventId: randomUUID(), correlationId: `c-${subject}`, email };
}

async function enqueue(q: RedisPriorityQueue<EmailTask>, t: EmailTask) {
  await q.enqueue(t, priorityOf(t.email.template), { id: t.key });
}

const always = () => true;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('e-mail dispatch through the Redis priority queue', () => {
  it('GIVEN 30 welcome (bulk) e-mails queued before 5 order e-mails WHEN drained THEN every transactional e-mail is sent before any bulk one', async () => {
    const q = emailQueue();
    for (let i = 0; i < 30; i++) await enqueue(q, task('CustomerRegistered', `customer-${i}`));
    const transactional: NotifyingEvent[] = [
      'OrderPlaced',
      'PaymentFailed',
      'OrderShipped',
      'PaymentCompleted',
      'OrderCancelled',
    ];
    for (const [i, type] of transactional.entries()) await enqueue(q, task(type, `order-${i}`));

    const sent: EmailTask[] = [];
    const report = await drainQueue(q, async (t) => void sent.push(t), {
      consumerId: 'd1',
      shouldContinue: always,
      concurrency: 1,
    });

    expect(report).toMatchObject({ sent: 35, retried: 0, deadLettered: 0, stoppedBy: 'empty' });
    expect(sent.slice(0, 5).map((t) => t.email.template)).toEqual(transactional);
    expect(sent.slice(5).every((t) => t.email.template === 'CustomerRegistered')).toBe(true);
    // FIFO within a priority.
    expect(sent.slice(5).map((t) => t.email.to)).toEqual(
      Array.from({ length: 30 }, (_, i) => `customer-${i}@example.com`),
    );
    expect(await q.size()).toEqual({ pending: 0, delayed: 0, inFlight: 0, deadLettered: 0 });
  });

  it('GIVEN rounds of 10 concurrent sends WHEN drained THEN no round holds a bulk e-mail while a transactional one waits', async () => {
    const q = emailQueue();
    for (let i = 0; i < 25; i++) await enqueue(q, task('CustomerRegistered', `c-${i}`));
    for (let i = 0; i < 15; i++) await enqueue(q, task('OrderPlaced', `o-${i}`));

    const report = await drainQueue(q, async () => {}, { consumerId: 'd1', shouldContinue: always });

    const templates = report.order.map((id) => id.split('#')[2]);
    expect(templates.slice(0, 15).every((t) => t === 'OrderPlaced')).toBe(true);
    expect(templates.slice(15).every((t) => t === 'CustomerRegistered')).toBe(true);
    expect(report.sent).toBe(40);
  });

  it('GIVEN the same e-mail queued twice (a redelivered event) THEN it is queued and sent once', async () => {
    const q = emailQueue();
    const t = task('OrderPlaced', 'o-dup');
    await enqueue(q, t);
    await enqueue(q, { ...t, eventId: randomUUID() });
    const sent: string[] = [];
    await drainQueue(q, async (x) => void sent.push(x.key), { consumerId: 'd1', shouldContinue: always });
    expect(sent).toEqual([t.key]);
  });

  it('GIVEN a send that fails once WHEN drained THEN it is put back with a backoff and sent by the next drain', async () => {
    const q = emailQueue();
    const t = task('PaymentFailed', 'o-flaky');
    await enqueue(q, t);
    let calls = 0;
    const flaky = async () => {
      calls++;
      if (calls === 1) throw new Error('SES throttled');
    };
    const first = await drainQueue(q, flaky, {
      consumerId: 'd1',
      shouldContinue: always,
      backoffMs: () => 300,
    });
    expect(first).toMatchObject({ sent: 0, retried: 1, stoppedBy: 'empty' });
    expect(await q.size()).toMatchObject({ pending: 1, delayed: 1 });

    await sleep(400);
    const second = await drainQueue(q, flaky, { consumerId: 'd1', shouldContinue: always });
    expect(second).toMatchObject({ sent: 1, retried: 0 });
    expect(calls).toBe(2);
  });

  it('GIVEN an open circuit WHEN drained THEN the drain stops, the e-mail waits out the circuit and nothing else is tried', async () => {
    const q = emailQueue();
    for (let i = 0; i < 3; i++) await enqueue(q, task('OrderPlaced', `o-open-${i}`));
    let calls = 0;
    const open = async () => {
      calls++;
      throw Object.assign(new Error('circuit email-provider is open'), { retryAfterMs: 5_000 });
    };
    const report = await drainQueue(q, open, { consumerId: 'd1', shouldContinue: always, concurrency: 1 });
    expect(report).toMatchObject({ stoppedBy: 'circuit-open', retried: 1, sent: 0 });
    expect(calls).toBe(1);
    expect(await q.size()).toMatchObject({ pending: 3, delayed: 1, inFlight: 0 });
  });

  it('GIVEN a dispatcher that dies holding e-mails WHEN their lease expires THEN another dispatcher sends them, in priority order', async () => {
    const q = emailQueue({ visibilityTimeoutMs: 300 });
    await enqueue(q, task('CustomerRegistered', 'c-held'));
    await enqueue(q, task('OrderPlaced', 'o-held'));
    // The first dispatcher takes both and dies before acking either.
    expect((await q.dequeue('dead'))?.id).toBe(emailKey('o-held', 'OrderPlaced'));
    expect((await q.dequeue('dead'))?.id).toBe(emailKey('c-held', 'CustomerRegistered'));
    expect(await q.dequeue('d2')).toBeUndefined();

    await sleep(400);
    const sent: string[] = [];
    await drainQueue(q, async (t) => void sent.push(t.key), {
      consumerId: 'd2',
      shouldContinue: always,
      concurrency: 1,
    });
    expect(sent).toEqual([emailKey('o-held', 'OrderPlaced'), emailKey('c-held', 'CustomerRegistered')]);
  });

  it('GIVEN an e-mail that always fails WHEN its last attempt fails THEN it is dead-lettered with the error as its reason', async () => {
    const q = emailQueue({ maxAttempts: 2 });
    const t = task('OrderShipped', 'o-bad');
    await enqueue(q, t);
    const failing = async () => {
      throw new Error('MessageRejected: address blacklisted');
    };
    await drainQueue(q, failing, { consumerId: 'd1', shouldContinue: always, backoffMs: () => 1 });
    await sleep(20);
    const last = await drainQueue(q, failing, { consumerId: 'd1', shouldContinue: always });
    expect(last.deadLettered).toBe(1);
    const [dead] = await q.deadLetters();
    expect(dead).toMatchObject({
      id: t.key,
      reason: 'gave up after 2 attempts: Error: MessageRejected: address blacklisted',
    });
    expect(dead?.task.email.to).toBe('o-bad@example.com');
  });

  it('GIVEN no time left THEN the drain takes nothing', async () => {
    const q = emailQueue();
    await enqueue(q, task('OrderPlaced', 'o-late'));
    const report = await drainQueue(q, async () => {}, { consumerId: 'd1', shouldContinue: () => false });
    expect(report).toMatchObject({ stoppedBy: 'time', sent: 0 });
    expect(await q.size()).toMatchObject({ pending: 1 });
  });
});

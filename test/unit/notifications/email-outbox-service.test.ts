/**
 * The e-mail outbox end to end over in-memory parts: every way an e-mail could go missing or be
 * sent twice (redelivered events, a redelivered task, a consumer that dies between queueing and
 * sending, a sender that dies holding its claim, a queue that loses everything, a failing
 * provider, a dead letter) ends with exactly one e-mail, counted at the provider.
 */
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../lambdas/commons/domain/decider.js';
import {
  type EmailMarkerStore,
  EmailOutbox,
  type EmailQueue,
} from '../../../lambdas/notifications/application/email-outbox-service.js';
import {
  type EmailTask,
  emailKey,
  type TaskDelivery,
} from '../../../lambdas/notifications/domain/email-dispatch.js';
import {
  type EmailMarker,
  type EmailMarkerCommand,
  emailMarkerDecider,
  initialEmailMarker,
} from '../../../lambdas/notifications/domain/email-outbox.js';
import type { Email } from '../../../lambdas/notifications/domain/emails.js';

class MemoryMarkers implements EmailMarkerStore {
  readonly markers = new Map<string, EmailMarker>();
  async execute(key: string, command: (marker: EmailMarker) => EmailMarkerCommand) {
    const current = this.markers.get(key) ?? initialEmailMarker;
    const events = emailMarkerDecider.decide(current, command(current));
    const marker = events.reduce(emailMarkerDecider.evolve, current);
    this.markers.set(key, marker);
    return { events, marker };
  }
  async owed(olderThan: number, limit: number): Promise<EmailTask[]> {
    return [...this.markers.values()]
      .filter(
        (m) => (m.status === 'queued' || m.status === 'sending') && (m.pendingSince ?? Infinity) < olderThan,
      )
      .flatMap((m) => (m.task ? [m.task] : []))
      .slice(0, limit);
  }
}

/**
 * A queue that can lose everything (a Redis restart without persistence); a nack's delay runs on
 * the test's clock; leases expire only when the test says so.
 */
class MemoryQueue implements EmailQueue {
  readonly maxAttempts = 5;
  private tasks = new Map<
    string,
    { task: EmailTask; attempts: number; lease: string | null; dead: boolean; readyAt: number }
  >();
  private seq = 0;
  private readonly clock: () => number;
  constructor(clock: () => number) {
    this.clock = clock;
  }
  async enqueue(task: EmailTask, _priority: number, { id }: { id: string }) {
    if (!this.tasks.has(id)) this.tasks.set(id, { task, attempts: 0, lease: null, dead: false, readyAt: 0 });
    return id;
  }
  async dequeue(consumerId: string): Promise<TaskDelivery<EmailTask> | undefined> {
    for (const [id, t] of this.tasks) {
      if (t.lease === null && !t.dead && t.readyAt <= this.clock()) {
        t.attempts++;
        t.lease = `${consumerId}:${++this.seq}`;
        return { id, task: t.task, priority: 10, attempts: t.attempts, leaseToken: t.lease };
      }
    }
    return undefined;
  }
  async ack({ id, leaseToken }: { id: string; leaseToken: string }) {
    if (this.tasks.get(id)?.lease !== leaseToken) return false;
    this.tasks.delete(id);
    return true;
  }
  async nack(
    { id, leaseToken }: { id: string; leaseToken: string },
    { requeue, delayMs = 0 }: { requeue: boolean; delayMs?: number },
  ) {
    const t = this.tasks.get(id);
    if (t?.lease !== leaseToken) return 'refused';
    t.lease = null;
    t.readyAt = this.clock() + delayMs;
    if (!requeue || t.attempts >= this.maxAttempts) {
      t.dead = true;
      return 'dead-lettered';
    }
    return 'requeued';
  }
  /** The sender died: its lease expires and the task is delivered again. */
  expireLeases() {
    for (const t of this.tasks.values()) t.lease = null;
  }
  lose() {
    this.tasks.clear();
  }
  get size() {
    return [...this.tasks.values()].filter((t) => !t.dead).length;
  }
}

function world(options: { failSends?: number } = {}) {
  let now = 1_000_000;
  const markers = new MemoryMarkers();
  const queue = new MemoryQueue(() => now);
  const outbox_: Email[] = [];
  let failures = options.failSends ?? 0;
  const outbox = new EmailOutbox({
    markers,
    queue: async () => queue,
    send: async (email) => {
      if (failures > 0) {
        failures--;
        throw new Error('provider throttled');
      }
      outbox_.push(email);
      return { messageId: `m${outbox_.length}` };
    },
    staleAfterMs: 120_000,
    sweepAfterMs: 30_000,
    now: () => now,
    recordBackoffMs: () => 0,
  });
  const drain = () => outbox.drain({ consumerId: 'd', shouldContinue: () => true, backoffMs: () => 1000 });
  return {
    markers,
    queue,
    outbox,
    drain,
    sent: outbox_,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const task = (orderId: string, eventId = `ev-${orderId}`): EmailTask => ({
  key: emailKey(orderId, 'OrderPlaced'),
  eventId,
  email: {
    to: `${orderId}@x.y`,
    template: 'OrderPlaced',
    data: { orderId },
    subject: `Order ${orderId} received`,
    text: '',
  },
});

describe('e-mail outbox', () => {
  it('GIVEN an event delivered three times (fresh event ids too) THEN one e-mail', async () => {
    const w = world();
    expect(await w.outbox.request(task('o1'))).toBe('requested');
    expect(await w.outbox.request(task('o1', 'other-id'))).toBe('owed');
    await w.drain();
    expect(await w.outbox.request(task('o1'))).toBe('already-sent');
    await w.drain();
    expect(w.sent.map((e) => e.subject)).toEqual(['Order o1 received']);
    expect(w.queue.size).toBe(0);
  });

  it('GIVEN a consumer that dies between queueing and sending THEN the dispatcher sends the e-mail, once', async () => {
    const w = world();
    await w.outbox.request(task('o2'));
    // (no drain: the consumer died) … the event is redelivered, then the dispatcher drains
    await w.outbox.request(task('o2'));
    await w.drain();
    await w.drain();
    expect(w.sent).toHaveLength(1);
  });

  it('GIVEN a queue that lost everything (Redis restarted) THEN the sweep queues the owed e-mail again and it is sent once', async () => {
    const w = world();
    await w.outbox.request(task('o3'));
    w.queue.lose();
    await w.drain();
    expect(w.sent).toHaveLength(0);
    expect(await w.outbox.sweep()).toBe(0); // not owed for long enough yet
    w.advance(31_000);
    expect(await w.outbox.sweep()).toBe(1);
    await w.drain();
    w.advance(31_000);
    expect(await w.outbox.sweep()).toBe(0); // sent: no longer owed
    expect(w.sent).toHaveLength(1);
  });

  it('GIVEN a queue that is down when the event comes THEN the request still succeeds (owed) and the sweep sends it later', async () => {
    const w = world();
    const down = new EmailOutbox({
      markers: w.markers,
      queue: async () => {
        throw new Error('ECONNREFUSED');
      },
      send: async () => ({ messageId: 'x' }),
      staleAfterMs: 120_000,
      sweepAfterMs: 30_000,
    });
    expect(await down.request(task('o4'))).toBe('requested');
    expect(w.markers.markers.get(emailKey('o4', 'OrderPlaced'))?.status).toBe('queued');
  });

  it('GIVEN a sender that dies after claiming THEN a second sender waits for the claim to go stale, then sends once', async () => {
    const w = world();
    await w.outbox.request(task('o5'));
    const held = await w.queue.dequeue('dying');
    if (!held) throw new Error('no task');
    // It claims, then dies before the provider is called.
    await w.markers.execute(held.task.key, () => ({
      type: 'Claim',
      task: held.task,
      token: held.leaseToken,
      now: 1_000_000,
      staleAfterMs: 120_000,
    }));
    w.queue.expireLeases();
    const early = await w.drain();
    expect(early).toMatchObject({ sent: 0, retried: 1, deadLettered: 0 });
    expect(w.sent).toHaveLength(0);
    w.advance(121_000);
    await w.drain();
    expect(w.sent).toHaveLength(1);
    expect(w.markers.markers.get(held.task.key)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('GIVEN a task delivered twice concurrently (a lease expired while its sender was slow) THEN one e-mail', async () => {
    const w = world();
    await w.outbox.request(task('o6'));
    const first = await w.queue.dequeue('slow');
    if (!first) throw new Error('no task');
    w.queue.expireLeases();
    const second = await w.queue.dequeue('fast');
    if (!second) throw new Error('no task');
    await Promise.allSettled([w.outbox.sendOnce(first.task, first), w.outbox.sendOnce(second.task, second)]);
    expect(w.sent).toHaveLength(1);
  });

  it('GIVEN a provider that fails twice THEN the claim is given back each time and the e-mail is sent once', async () => {
    const w = world({ failSends: 2 });
    await w.outbox.request(task('o7'));
    for (let i = 0; i < 3; i++) {
      await w.drain();
      w.advance(1000);
    }
    expect(w.sent).toHaveLength(1);
    expect(w.markers.markers.get(emailKey('o7', 'OrderPlaced'))).toMatchObject({
      status: 'sent',
      attempts: 3,
    });
  });

  it('GIVEN an e-mail that keeps failing until dead-lettered THEN it is given up: not swept again, a redelivered event queues nothing', async () => {
    const w = world({ failSends: 100 });
    await w.outbox.request(task('o8'));
    for (let i = 0; i < 6; i++) {
      await w.drain();
      w.advance(1000);
    }
    expect(w.markers.markers.get(emailKey('o8', 'OrderPlaced'))?.status).toBe('failed');
    w.advance(60_000);
    expect(await w.outbox.sweep()).toBe(0);
    expect(await w.outbox.request(task('o8'))).toBe('gave-up');
    expect(w.sent).toHaveLength(0);
  });

  it('GIVEN a marker store that refuses with an unexpected error THEN the request fails (the event is retried, not acknowledged)', async () => {
    const w = world();
    const broken = new EmailOutbox({
      markers: {
        execute: async () => {
          throw new Error('DynamoDB unavailable');
        },
        owed: async () => [],
      },
      queue: async () => w.queue,
      send: async () => ({ messageId: 'x' }),
      staleAfterMs: 1,
      sweepAfterMs: 1,
    });
    await expect(broken.request(task('o9'))).rejects.toThrow('DynamoDB unavailable');
    await expect(broken.request(task('o9'))).rejects.not.toBeInstanceOf(DomainError);
    expect(w.queue.size).toBe(0);
  });
});

/**
 * E-mails go out through a priority task queue, so that transactional e-mails (an order received,
 * a payment failed) pass bulk ones (a welcome) whenever a backlog builds up: after a burst of
 * registrations, an order confirmation waits for no welcome mail.
 *
 * The notification consumer renders an e-mail and enqueues it (its dedupe key as task id, so a
 * redelivered event does not queue it twice); `drainQueue` then sends what is queued, highest
 * priority first, a round of up to `concurrency` tasks at a time (the tasks of a round are sent
 * concurrently, which lets the SES adapter coalesce them into bulk calls). It runs at the end of
 * each consumer invocation and on a schedule, which also takes over the tasks of a dispatcher that
 * died (their lease expires and the queue delivers them again).
 *
 * Failure policy, per task: an error with `retryAfterMs` (an open circuit) puts the task back after
 * that delay and ends the drain (the other tasks would meet the same open circuit); an error with
 * `deferMs` (another sender is on this very e-mail) puts it back after that delay and the drain
 * goes on; any other error puts it back after a backoff; on its last attempt (`maxAttempts`) it is
 * dead-lettered with the error as its reason, and `onGiveUp` is told (the durable marker records
 * it, see `email-outbox.ts`). Pure: the queue is an interface (the Redis queue implements it).
 */
import { type Email, NOTIFYING_EVENTS, type NotifyingEvent } from './emails.js';

/** Queue priority of each e-mail class: higher goes first. */
export const EMAIL_PRIORITY = { transactional: 10, bulk: 1 } as const;

export const priorityOf = (type: NotifyingEvent): number => EMAIL_PRIORITY[NOTIFYING_EVENTS[type]];

/** What the queue carries: a rendered e-mail and the key that makes it "exactly once". */
export interface EmailTask {
  /** `email#<subject>#<event type>`: the dedupe key, the marker's key and the task id in the queue. */
  readonly key: string;
  readonly eventId: string;
  readonly correlationId?: string;
  readonly email: Email;
}

/** The e-mail's dedupe key: one e-mail per (subject, event type). */
export const emailKey = (subjectId: string, type: NotifyingEvent): string => `email#${subjectId}#${type}`;

/** What `drainQueue` needs of a delivery. */
export interface TaskDelivery<T> {
  readonly id: string;
  readonly task: T;
  readonly priority: number;
  readonly attempts: number;
  readonly leaseToken: string;
}

/** The operations of a reliable queue that `drainQueue` uses (see RedisPriorityQueue). */
export interface TaskQueue<T> {
  readonly maxAttempts: number;
  dequeue(consumerId: string): Promise<TaskDelivery<T> | undefined>;
  ack(lease: { id: string; leaseToken: string }): Promise<boolean>;
  nack(
    lease: { id: string; leaseToken: string },
    options: { requeue: boolean; delayMs?: number; reason?: string },
  ): Promise<string>;
}

export interface DrainOptions<T = unknown> {
  readonly consumerId: string;
  /** Asked before each round: false ends the drain (the invocation's time is running out). */
  readonly shouldContinue: () => boolean;
  /** Tasks taken per round, sent concurrently. @default 10 */
  readonly concurrency?: number;
  /** Rounds at most (a bound for one invocation). @default 100 */
  readonly maxRounds?: number;
  /** Backoff before the next attempt of a failed task. @default 1 s × 2^(attempt-1), at most 60 s */
  readonly backoffMs?: (attempt: number) => number;
  /** Told about a task dead-lettered after its last attempt (after the queue took it). */
  readonly onGiveUp?: (task: T, delivery: TaskDelivery<T>, reason: string) => Promise<void>;
}

export interface DrainReport {
  readonly sent: number;
  readonly retried: number;
  readonly deadLettered: number;
  /** Ids in the order they were handled (priority order, round by round). */
  readonly order: readonly string[];
  /** Why the drain ended. */
  readonly stoppedBy: 'empty' | 'time' | 'circuit-open' | 'max-rounds';
}

const retryAfterOf = (error: unknown): number | undefined => {
  const value = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
};

const deferOf = (error: unknown): number | undefined => {
  const value = (error as { deferMs?: unknown } | null)?.deferMs;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
};

const describe = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

export const defaultBackoffMs = (attempt: number): number => Math.min(60_000, 1000 * 2 ** (attempt - 1));

/**
 * Sends queued tasks with `send`, highest priority first, until the queue is empty, the time is up
 * or a circuit is open. `send` must be idempotent: a task can be delivered twice (a lease that
 * expired while its dispatcher was still sending).
 */
export async function drainQueue<T>(
  queue: TaskQueue<T>,
  send: (task: T, delivery: TaskDelivery<T>) => Promise<void>,
  options: DrainOptions<T>,
): Promise<DrainReport> {
  const concurrency = options.concurrency ?? 10;
  const maxRounds = options.maxRounds ?? 100;
  const backoff = options.backoffMs ?? defaultBackoffMs;
  let sent = 0;
  let retried = 0;
  let deadLettered = 0;
  const order: string[] = [];

  for (let round = 0; round < maxRounds; round++) {
    if (!options.shouldContinue()) return { sent, retried, deadLettered, order, stoppedBy: 'time' };
    const deliveries: TaskDelivery<T>[] = [];
    while (deliveries.length < concurrency) {
      const delivery = await queue.dequeue(options.consumerId);
      if (!delivery) break;
      deliveries.push(delivery);
    }
    if (deliveries.length === 0) return { sent, retried, deadLettered, order, stoppedBy: 'empty' };
    order.push(...deliveries.map((d) => d.id));

    let circuitOpen = false;
    await Promise.all(
      deliveries.map(async (delivery) => {
        try {
          await send(delivery.task, delivery);
          await queue.ack(delivery);
          sent++;
        } catch (error) {
          const retryAfterMs = retryAfterOf(error);
          if (retryAfterMs !== undefined) circuitOpen = true;
          if (delivery.attempts >= queue.maxAttempts) {
            const reason = `gave up after ${delivery.attempts} attempts: ${describe(error)}`;
            const outcome = await queue.nack(delivery, { requeue: false, reason });
            if (outcome === 'dead-lettered') {
              await options.onGiveUp?.(delivery.task, delivery, reason);
            }
            deadLettered++;
          } else {
            await queue.nack(delivery, {
              requeue: true,
              delayMs: retryAfterMs ?? deferOf(error) ?? backoff(delivery.attempts),
            });
            retried++;
          }
        }
      }),
    );
    if (circuitOpen) return { sent, retried, deadLettered, order, stoppedBy: 'circuit-open' };
  }
  return { sent, retried, deadLettered, order, stoppedBy: 'max-rounds' };
}

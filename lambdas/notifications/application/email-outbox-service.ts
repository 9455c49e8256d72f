/**
 * The e-mail outbox at work: request (the consumer), send once (whoever drains the queue), give up
 * (a dead-lettered task) and sweep (the scheduled dispatcher), over ports: the durable marker store,
 * the scheduling queue and the provider. The protocol and why it gives exactly one e-mail are in
 * `domain/email-outbox.ts`. Pure of AWS and Redis: adapters are given; tests give in-memory ones.
 */
import { DomainError } from '../../commons/domain/decider.js';
import {
  type DrainOptions,
  type DrainReport,
  drainQueue,
  type EmailTask,
  priorityOf,
  type TaskDelivery,
  type TaskQueue,
} from '../domain/email-dispatch.js';
import {
  EmailInProgressError,
  type EmailMarker,
  type EmailMarkerCommand,
  type EmailMarkerEvent,
} from '../domain/email-outbox.js';
import type { Email } from '../domain/emails.js';

/** Where markers live: decides a command on the stored marker and stores the outcome atomically. */
export interface EmailMarkerStore {
  execute(
    key: string,
    command: (marker: EmailMarker) => EmailMarkerCommand,
  ): Promise<{ events: readonly EmailMarkerEvent[]; marker: EmailMarker }>;
  /** E-mails owed since before `olderThan` (epoch ms), at most `limit`. */
  owed(olderThan: number, limit: number): Promise<EmailTask[]>;
}

/** The scheduling queue: a reliable priority queue that ignores an id it already holds. */
export interface EmailQueue extends TaskQueue<EmailTask> {
  enqueue(task: EmailTask, priority: number, options: { id: string }): Promise<string>;
}

type Log = (message: string, extra?: Record<string, unknown>) => void;

export interface EmailOutboxOptions {
  readonly markers: EmailMarkerStore;
  readonly queue: () => Promise<EmailQueue>;
  /** Sends through the provider (behind its circuit breaker). */
  readonly send: (email: Email) => Promise<{ messageId: string }>;
  /** A claim older than this belongs to a dead sender (longer than any function lives). */
  readonly staleAfterMs: number;
  /** An e-mail owed this long is queued again by the sweep. */
  readonly sweepAfterMs: number;
  readonly sweepLimit?: number;
  readonly now?: () => number;
  readonly log?: { readonly info: Log; readonly warn: Log; readonly error: Log };
  /** Pause between tries of recording a sent e-mail. @default 100 ms × 2^try */
  readonly recordBackoffMs?: (attempt: number) => number;
}

export type RequestOutcome = 'requested' | 'owed' | 'already-sent' | 'gave-up';

/** Another sender holds this e-mail: the drain puts it back until that claim is done or dead. */
export class DeferredError extends Error {
  constructor(
    message: string,
    readonly deferMs: number,
  ) {
    super(message);
    this.name = 'DeferredError';
  }
}

const silent: Log = () => undefined;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class EmailOutbox {
  private readonly now: () => number;
  private readonly log: NonNullable<EmailOutboxOptions['log']>;

  constructor(private readonly options: EmailOutboxOptions) {
    this.now = options.now ?? Date.now;
    this.log = options.log ?? { info: silent, warn: silent, error: silent };
  }

  /**
   * Records that `task`'s e-mail is owed (durably: call it before acknowledging the event), then
   * queues it. A queue that is down does not fail the request: the sweep queues it later.
   */
  async request(task: EmailTask): Promise<RequestOutcome> {
    let outcome: RequestOutcome;
    try {
      const { events } = await this.options.markers.execute(task.key, () => ({
        type: 'Request',
        task,
        now: this.now(),
      }));
      outcome = events.length > 0 ? 'requested' : 'owed';
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      this.log.info('Event ignored: no state change', {
        key: task.key,
        code: error.code,
        reason: error.message,
      });
      return error.code === 'ALREADY_SENT' ? 'already-sent' : 'gave-up';
    }
    try {
      await (await this.options.queue()).enqueue(task, priorityOf(task.email.template), { id: task.key });
    } catch (error) {
      this.log.warn('E-mail owed but not queued (queue unavailable): the sweep queues it', {
        key: task.key,
        error: String(error),
      });
    }
    return outcome;
  }

  /** Sends one queued e-mail unless it was sent: claim, send, record (see the outbox header). */
  readonly sendOnce = async (
    task: EmailTask,
    delivery: Pick<TaskDelivery<EmailTask>, 'leaseToken'>,
  ): Promise<void> => {
    const { markers } = this.options;
    const token = delivery.leaseToken;
    try {
      const { marker } = await markers.execute(task.key, () => ({
        type: 'Claim',
        task,
        token,
        now: this.now(),
        staleAfterMs: this.options.staleAfterMs,
      }));
      if (marker.attempts > 1) {
        this.log.warn('E-mail claimed again (its former sender failed or died)', {
          key: task.key,
          attempts: marker.attempts,
        });
      }
    } catch (error) {
      if (error instanceof EmailInProgressError) {
        throw new DeferredError(error.message, error.retryAfterMs + 1000);
      }
      if (error instanceof DomainError && error.code === 'ALREADY_SENT') {
        this.log.info('Event ignored: no state change', { key: task.key, code: error.code });
        return;
      }
      throw error;
    }
    let messageId: string;
    try {
      ({ messageId } = await this.options.send(task.email));
    } catch (error) {
      await markers
        .execute(task.key, () => ({ type: 'Abandon', token, reason: String(error) }))
        .catch((e: unknown) =>
          this.log.warn('Claim not given back: it goes stale instead', { key: task.key, error: String(e) }),
        );
      throw error;
    }
    // Sent: record it, trying hard (an e-mail sent but not recorded is sent again once its claim
    // goes stale).
    const backoff = this.options.recordBackoffMs ?? ((attempt: number) => 100 * 2 ** attempt);
    for (let attempt = 1; ; attempt++) {
      try {
        await markers.execute(task.key, () => ({ type: 'Complete', token, messageId, now: this.now() }));
        break;
      } catch (error) {
        if (attempt >= 4) {
          this.log.error('E-mail sent but not recorded: it may be sent again', { key: task.key, messageId });
          throw error;
        }
        await sleep(backoff(attempt));
      }
    }
    this.log.info('E-mail sent', { type: task.email.template, messageId, correlationId: task.correlationId });
  };

  /** Records a dead-lettered e-mail as given up: the sweep stops queueing it (a redrive claims it). */
  readonly giveUp = async (
    task: EmailTask,
    delivery: TaskDelivery<EmailTask>,
    reason: string,
  ): Promise<void> => {
    await this.options.markers
      .execute(task.key, () => ({ type: 'GiveUp', token: delivery.leaseToken, reason }))
      .catch((error: unknown) =>
        this.log.error('Give-up not recorded: the sweep queues it again', {
          key: task.key,
          error: String(error),
        }),
      );
  };

  /**
   * Queues again every e-mail owed for longer than `sweepAfterMs` (lost by the queue, or held by a
   * sender that died). The queue ignores the ids it holds, so nothing is queued twice.
   */
  async sweep(): Promise<number> {
    const owed = await this.options.markers.owed(
      this.now() - this.options.sweepAfterMs,
      this.options.sweepLimit ?? 500,
    );
    if (owed.length === 0) return 0;
    const queue = await this.options.queue();
    for (const task of owed) await queue.enqueue(task, priorityOf(task.email.template), { id: task.key });
    this.log.info('Owed e-mails queued again', { count: owed.length });
    return owed.length;
  }

  /** Sends what is queued, highest priority first (see `drainQueue`). */
  async drain(options: Omit<DrainOptions<EmailTask>, 'onGiveUp'>): Promise<DrainReport> {
    return drainQueue(await this.options.queue(), this.sendOnce, { ...options, onGiveUp: this.giveUp });
  }
}

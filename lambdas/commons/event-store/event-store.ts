/**
 * The event store port: append-only streams of envelopes per aggregate with optimistic
 * concurrency, plus snapshots. Adapters (DynamoDB, in-memory doubles in tests) implement it.
 */
import type { EventEnvelope } from './envelope.js';

export interface LoadOptions {
  /** First version to read (inclusive); defaults to 1. */
  readonly fromVersion?: number;
}

export interface LoadedEvents {
  /** Envelopes in version order, as stored (not upcast). */
  readonly events: readonly EventEnvelope[];
  /** Items the store read to answer (for cost assertions and benchmarks). */
  readonly itemsRead: number;
}

export interface Snapshot<S = unknown> {
  readonly aggregateId: string;
  readonly aggregateType: string;
  /** Version of the last event folded into `state`. */
  readonly version: number;
  /** Version of the state's shape; a snapshot of another shape is ignored (full replay). */
  readonly schemaVersion: number;
  readonly state: S;
  /** ISO-8601 instant the snapshot was taken. */
  readonly takenAt: string;
}

export interface LoadedSnapshot<S = unknown> {
  readonly snapshot: Snapshot<S> | undefined;
  readonly itemsRead: number;
}

export interface AppendResult {
  /** Version of the stream after the append. */
  readonly version: number;
}

export interface EventStore {
  load(aggregateId: string, options?: LoadOptions): Promise<LoadedEvents>;
  /**
   * Appends envelopes numbered `expectedVersion + 1 …` atomically (all or none). Throws
   * `ConcurrencyError` when any of those versions was already written by another writer.
   */
  append(
    aggregateId: string,
    expectedVersion: number,
    envelopes: readonly EventEnvelope[],
  ): Promise<AppendResult>;
  /** The latest snapshot of the aggregate, if any. */
  getSnapshot<S>(aggregateId: string): Promise<LoadedSnapshot<S>>;
  putSnapshot<S>(snapshot: Snapshot<S>): Promise<void>;
}

/** Another writer already appended at least one of the versions this append wanted. */
export class ConcurrencyError extends Error {
  constructor(
    readonly aggregateId: string,
    readonly expectedVersion: number,
    options?: { cause?: unknown },
  ) {
    super(
      `Concurrent write on aggregate ${aggregateId}: version ${expectedVersion + 1} already exists`,
      options,
    );
    this.name = 'ConcurrencyError';
  }
}

/** A stored item that is not a well-formed event or snapshot (written by something else). */
export class CorruptRecordError extends Error {
  constructor(
    readonly aggregateId: string,
    message: string,
  ) {
    super(message);
    this.name = 'CorruptRecordError';
  }
}

/** Checks what every adapter must refuse before touching storage. */
export function assertAppendable(
  aggregateId: string,
  expectedVersion: number,
  envelopes: readonly EventEnvelope[],
  maxEvents: number,
): void {
  if (!Number.isInteger(expectedVersion) || expectedVersion < 0) {
    throw new RangeError(`expectedVersion must be an integer >= 0, got ${expectedVersion}`);
  }
  if (envelopes.length === 0) throw new RangeError('Nothing to append');
  if (envelopes.length > maxEvents) {
    throw new RangeError(`At most ${maxEvents} events per append, got ${envelopes.length}`);
  }
  envelopes.forEach((envelope, index) => {
    if (envelope.aggregateId !== aggregateId) {
      throw new RangeError(
        `Envelope ${envelope.eventId} belongs to ${envelope.aggregateId}, not ${aggregateId}`,
      );
    }
    if (envelope.version !== expectedVersion + index + 1) {
      throw new RangeError(
        `Envelope ${envelope.eventId} has version ${envelope.version}, expected ${expectedVersion + index + 1}`,
      );
    }
  });
}

export interface RetryOptions {
  /** Total attempts including the first; default 5. */
  readonly attempts?: number;
  /** Backoff base: the cap before attempt n+1 is `baseDelayMs * 2^(n-1)`; default 10. */
  readonly baseDelayMs?: number;
  /** Upper bound of any one delay; default 1000. */
  readonly maxDelayMs?: number;
  /**
   * Full jitter (delay uniform in [0, cap)) when true (default) or a random source in [0, 1);
   * false sleeps exactly the cap.
   */
  readonly jitter?: boolean | (() => number);
  /** Injectable for tests; defaults to setTimeout. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly onRetry?: (error: ConcurrencyError, attempt: number, delayMs: number) => void;
}

export const DEFAULT_RETRY = { attempts: 5, baseDelayMs: 10, maxDelayMs: 1000 } as const;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn` (which should reload, decide and append) and reruns it only on `ConcurrencyError`,
 * with exponential backoff and full jitter, at most `attempts` times; then rethrows the last error.
 * Any other error is rethrown at once.
 */
export async function withOptimisticRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? DEFAULT_RETRY.attempts;
  const baseDelayMs = options.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs;
  const maxDelayMs = options.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs;
  const jitter = options.jitter ?? true;
  const random = typeof jitter === 'function' ? jitter : Math.random;
  const sleep = options.sleep ?? defaultSleep;
  if (!Number.isInteger(attempts) || attempts < 1) {
    throw new RangeError(`attempts must be an integer >= 1, got ${attempts}`);
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (!(error instanceof ConcurrencyError) || attempt >= attempts) throw error;
      const cap = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      const delayMs = jitter === false ? cap : Math.floor(random() * cap);
      options.onRetry?.(error, attempt, delayMs);
      await sleep(delayMs);
    }
  }
}

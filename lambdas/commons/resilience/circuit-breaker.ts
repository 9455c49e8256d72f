/**
 * A circuit breaker whose state is shared by every instance of a function (a store such as a
 * DynamoDB item), so that a failing provider is given a rest by the whole fleet, not by one
 * container at a time.
 *
 *   CLOSED ──threshold consecutive failures──▶ OPEN ──openMs elapsed──▶ one probe (HALF-OPEN)
 *     ▲                                          ▲                          │
 *     └────────────── probe succeeds ────────────┼──── probe fails ─────────┘
 *
 * Only failures the caller classifies as the provider's fault count (`isFailure`); a business
 * refusal such as a card decline is a successful call. Pure of AWS: the store is a port.
 */

export interface CircuitState {
  /** Consecutive failures since the last success. */
  readonly failures: number;
  /** Epoch ms until which calls are refused; 0 when closed. */
  readonly openUntil: number;
  /** Epoch ms until which the current half-open probe holds the circuit; 0 when none. */
  readonly probeUntil: number;
}

export const CLOSED: CircuitState = { failures: 0, openUntil: 0, probeUntil: 0 };

export interface CircuitStateStore {
  get(name: string): Promise<CircuitState>;
  /** Adds one failure; opens the circuit until `openUntil` once `failures >= threshold`. Returns the new state. */
  recordFailure(name: string, threshold: number, openUntil: number): Promise<CircuitState>;
  /** Closes the circuit (failures 0, no probe). */
  recordSuccess(name: string): Promise<void>;
  /** Claims the single half-open probe if the circuit is open, its rest is over and no probe holds it. */
  claimProbe(name: string, now: number, probeUntil: number): Promise<boolean>;
}

export interface CircuitBreakerOptions {
  readonly name: string;
  readonly store: CircuitStateStore;
  /** Consecutive failures that open the circuit. @default 5 */
  readonly failureThreshold?: number;
  /** How long the circuit stays open before a probe. @default 30 000 */
  readonly openMs?: number;
  /** How long one probe may hold the half-open circuit. @default 10 000 */
  readonly probeMs?: number;
  /** Whether an error is the provider's fault (counts towards opening). @default every error */
  readonly isFailure?: (error: unknown) => boolean;
  readonly now?: () => number;
}

/** The call was not made: the circuit is open. Retry after `retryAfterMs`. */
export class CircuitOpenError extends Error {
  constructor(
    readonly circuit: string,
    readonly retryAfterMs: number,
  ) {
    super(`Circuit ${circuit} is open; retry in ${Math.ceil(retryAfterMs / 1000)} s`);
    this.name = 'CircuitOpenError';
  }
}

export class CircuitBreaker {
  readonly #o: Required<Omit<CircuitBreakerOptions, 'isFailure' | 'now'>> & {
    isFailure: (error: unknown) => boolean;
    now: () => number;
  };

  constructor(options: CircuitBreakerOptions) {
    // Field by field, so that an option given as `undefined` keeps its default.
    this.#o = {
      name: options.name,
      store: options.store,
      failureThreshold: options.failureThreshold ?? 5,
      openMs: options.openMs ?? 30_000,
      probeMs: options.probeMs ?? 10_000,
      isFailure: options.isFailure ?? (() => true),
      now: options.now ?? Date.now,
    };
  }

  /** Runs `fn` unless the circuit is open; records its outcome in the shared state. */
  async call<T>(fn: () => Promise<T>): Promise<T> {
    const { name, store, now } = this.#o;
    const state = await store.get(name);
    const t = now();
    let probing = false;
    if (state.openUntil > 0) {
      if (t < state.openUntil) throw new CircuitOpenError(name, state.openUntil - t);
      probing = await store.claimProbe(name, t, t + this.#o.probeMs);
      if (!probing) throw new CircuitOpenError(name, Math.max(1000, state.probeUntil - t));
    }
    let result: T;
    try {
      result = await fn();
    } catch (error) {
      if (this.#o.isFailure(error)) {
        // A failed probe reopens at once; otherwise the count decides.
        const threshold = probing ? 1 : this.#o.failureThreshold;
        await store.recordFailure(name, threshold, now() + this.#o.openMs);
      } else if (probing || state.failures > 0) {
        await store.recordSuccess(name);
      }
      throw error;
    }
    if (probing || state.failures > 0) await store.recordSuccess(name);
    return result;
  }
}

/** A `CircuitStateStore` in memory: for tests and single-process use. */
export class InMemoryCircuitStateStore implements CircuitStateStore {
  readonly states = new Map<string, CircuitState>();

  async get(name: string): Promise<CircuitState> {
    return this.states.get(name) ?? CLOSED;
  }

  async recordFailure(name: string, threshold: number, openUntil: number): Promise<CircuitState> {
    // Read and write in the same tick: atomic, as the DynamoDB adapter's conditional updates are.
    const current = this.states.get(name) ?? CLOSED;
    const failures = current.failures + 1;
    const next: CircuitState =
      failures >= threshold ? { failures, openUntil, probeUntil: 0 } : { ...current, failures };
    this.states.set(name, next);
    return next;
  }

  async recordSuccess(name: string): Promise<void> {
    this.states.set(name, CLOSED);
  }

  async claimProbe(name: string, now: number, probeUntil: number): Promise<boolean> {
    const current = this.states.get(name) ?? CLOSED;
    if (current.openUntil === 0 || now < current.openUntil || current.probeUntil > now) return false;
    this.states.set(name, { ...current, probeUntil });
    return true;
  }
}

import { describe, expect, it } from 'vitest';
import {
  CircuitBreaker,
  type CircuitBreakerOptions,
  CircuitOpenError,
  type CircuitState,
  CLOSED,
  InMemoryCircuitStateStore,
} from '../../../lambdas/commons/resilience/circuit-breaker.js';
import { PaymentDeclinedError } from '../../../lambdas/payments/domain/payment-provider.js';

const NAME = 'payment-provider';
const THRESHOLD = 3;
const OPEN_MS = 30_000;
const PROBE_MS = 10_000;
const T0 = 1_700_000_000_000;

/** A clock the test moves by hand. */
class Clock {
  t = T0;
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/**
 * The in-memory store with each operation a single synchronous read-modify-write, so that two
 * concurrent claims cannot both win (the contract the DynamoDB store meets with conditions).
 */
class AtomicCircuitStateStore extends InMemoryCircuitStateStore {
  override async recordFailure(name: string, threshold: number, openUntil: number): Promise<CircuitState> {
    const current = this.states.get(name) ?? CLOSED;
    const failures = current.failures + 1;
    const next = failures >= threshold ? { failures, openUntil, probeUntil: 0 } : { ...current, failures };
    this.states.set(name, next);
    return next;
  }

  override async claimProbe(name: string, now: number, probeUntil: number): Promise<boolean> {
    const current = this.states.get(name) ?? CLOSED;
    if (current.openUntil === 0 || now < current.openUntil || current.probeUntil > now) return false;
    this.states.set(name, { ...current, probeUntil });
    return true;
  }
}

function setup(overrides: Partial<CircuitBreakerOptions> = {}) {
  const clock = new Clock();
  const store = new InMemoryCircuitStateStore();
  const options: CircuitBreakerOptions = {
    name: NAME,
    store,
    failureThreshold: THRESHOLD,
    openMs: OPEN_MS,
    probeMs: PROBE_MS,
    isFailure: (error) => !(error instanceof PaymentDeclinedError),
    now: clock.now,
    ...overrides,
  };
  return { clock, store, options, breaker: new CircuitBreaker(options) };
}

const ok =
  <T>(value: T) =>
  async () =>
    value;
const boom = async (): Promise<never> => {
  throw new Error('provider down');
};
const decline = async (): Promise<never> => {
  throw new PaymentDeclinedError('card declined');
};

/** Fails `n` calls through the breaker (each rejecting with the provider's error). */
async function failTimes(breaker: CircuitBreaker, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await expect(breaker.call(boom)).rejects.toThrow('provider down');
}

async function openError(promise: Promise<unknown>): Promise<CircuitOpenError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CircuitOpenError);
  return error as CircuitOpenError;
}

describe('CircuitBreaker', () => {
  it('passes calls through while closed and returns their result', async () => {
    // GIVEN a closed circuit
    const { breaker, store } = setup();
    // WHEN calls succeed
    const results = [await breaker.call(ok(1)), await breaker.call(ok('two'))];
    // THEN their results come back and the circuit stays closed
    expect(results).toEqual([1, 'two']);
    expect(await store.get(NAME)).toEqual({ failures: 0, openUntil: 0, probeUntil: 0 });
  });

  it('rethrows a failure while closed and counts it without opening below the threshold', async () => {
    // GIVEN a closed circuit
    const { breaker, store } = setup();
    // WHEN threshold - 1 calls fail
    await failTimes(breaker, THRESHOLD - 1);
    // THEN the failures are counted, the circuit is still closed and calls still run
    expect(await store.get(NAME)).toMatchObject({ failures: THRESHOLD - 1, openUntil: 0 });
    await expect(breaker.call(ok('still closed'))).resolves.toBe('still closed');
  });

  it('opens after failureThreshold consecutive failures, for openMs', async () => {
    // GIVEN a closed circuit
    const { breaker, store } = setup();
    // WHEN threshold calls fail in a row
    await failTimes(breaker, THRESHOLD);
    // THEN the circuit is open until now + openMs
    expect(await store.get(NAME)).toEqual({ failures: THRESHOLD, openUntil: T0 + OPEN_MS, probeUntil: 0 });
  });

  it('refuses calls while open with CircuitOpenError and the remaining rest as retryAfterMs', async () => {
    // GIVEN an open circuit, 12 s into its rest
    const { breaker, clock } = setup();
    await failTimes(breaker, THRESHOLD);
    clock.advance(12_000);
    let called = false;

    // WHEN a call is made
    const error = await openError(
      breaker.call(async () => {
        called = true;
      }),
    );

    // THEN the function is not run and the error says when to retry
    expect(called).toBe(false);
    expect(error.circuit).toBe(NAME);
    expect(error.retryAfterMs).toBe(OPEN_MS - 12_000);
    expect(error.message).toContain(NAME);
  });

  it('still refuses one millisecond before the rest is over', async () => {
    // GIVEN an open circuit
    const { breaker, clock } = setup();
    await failTimes(breaker, THRESHOLD);
    // WHEN a call is made 1 ms before openUntil
    clock.advance(OPEN_MS - 1);
    // THEN it is refused with 1 ms left
    expect((await openError(breaker.call(ok('x')))).retryAfterMs).toBe(1);
  });

  it('allows exactly one probe once openMs has elapsed', async () => {
    // GIVEN an open circuit whose rest is over
    const { breaker, clock, store } = setup();
    await failTimes(breaker, THRESHOLD);
    clock.advance(OPEN_MS);
    let release: (value: string) => void = () => {};
    const slow = new Promise<string>((resolve) => {
      release = resolve;
    });

    // WHEN one caller probes (and is still running) and a second caller arrives
    const probe = breaker.call(() => slow);
    await expect.poll(async () => (await store.get(NAME)).probeUntil).toBe(T0 + OPEN_MS + PROBE_MS);
    const second = await openError(breaker.call(ok('second')));

    // THEN the second caller is refused while the probe holds the circuit
    expect(second.retryAfterMs).toBeGreaterThan(0);
    release('probed');
    await expect(probe).resolves.toBe('probed');
  });

  it('lets only one of two concurrent callers probe; the other gets CircuitOpenError', async () => {
    // GIVEN an open circuit whose rest is over, over a store that claims the probe atomically
    // (as the DynamoDB store does with a conditional update)
    const { breaker, clock } = setup({ store: new AtomicCircuitStateStore() });
    await failTimes(breaker, THRESHOLD);
    clock.advance(OPEN_MS);
    let runs = 0;
    const fn = async () => {
      runs++;
      return 'probed';
    };

    // WHEN two callers arrive at the same time
    const outcomes = await Promise.allSettled([breaker.call(fn), breaker.call(fn)]);

    // THEN exactly one ran the function and the other was refused
    expect(runs).toBe(1);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const rejected = outcomes.filter((o) => o.status === 'rejected');
    expect(rejected).toHaveLength(1);
    const reason = (rejected[0] as PromiseRejectedResult).reason as CircuitOpenError;
    expect(reason).toBeInstanceOf(CircuitOpenError);
    expect(reason.retryAfterMs).toBeGreaterThan(0);
  });

  it('closes the circuit when the probe succeeds (failures back to 0)', async () => {
    // GIVEN an open circuit whose rest is over
    const { breaker, clock, store } = setup();
    await failTimes(breaker, THRESHOLD);
    clock.advance(OPEN_MS);
    // WHEN the probe succeeds
    await expect(breaker.call(ok('recovered'))).resolves.toBe('recovered');
    // THEN the circuit is closed and calls run again
    expect(await store.get(NAME)).toEqual({ failures: 0, openUntil: 0, probeUntil: 0 });
    await expect(breaker.call(ok('next'))).resolves.toBe('next');
  });

  it('needs a full threshold of failures to open again after closing', async () => {
    // GIVEN a circuit that opened and closed again after a successful probe
    const { breaker, clock, store } = setup();
    await failTimes(breaker, THRESHOLD);
    clock.advance(OPEN_MS);
    await breaker.call(ok('recovered'));
    // WHEN threshold - 1 calls fail
    await failTimes(breaker, THRESHOLD - 1);
    // THEN it is still closed
    expect((await store.get(NAME)).openUntil).toBe(0);
    await expect(breaker.call(ok('closed'))).resolves.toBe('closed');
  });

  it('re-opens for another openMs when the probe fails', async () => {
    // GIVEN an open circuit whose rest is over
    const { breaker, clock, store } = setup();
    await failTimes(breaker, THRESHOLD);
    clock.advance(OPEN_MS);
    const probeAt = clock.t;

    // WHEN the probe fails
    await expect(breaker.call(boom)).rejects.toThrow('provider down');

    // THEN the circuit is open for openMs from the probe, with no probe holding it
    expect(await store.get(NAME)).toMatchObject({ openUntil: probeAt + OPEN_MS, probeUntil: 0 });
    clock.advance(1000);
    expect((await openError(breaker.call(ok('x')))).retryAfterMs).toBe(OPEN_MS - 1000);
    // AND a new probe is allowed once that rest is over
    clock.advance(OPEN_MS - 1000);
    await expect(breaker.call(ok('recovered'))).resolves.toBe('recovered');
  });

  it('neither counts nor opens on errors isFailure rejects (a decline), and rethrows them', async () => {
    // GIVEN a closed circuit
    const { breaker, store } = setup();
    // WHEN many more than threshold calls are declined
    for (let i = 0; i < THRESHOLD * 2; i++) {
      await expect(breaker.call(decline)).rejects.toBeInstanceOf(PaymentDeclinedError);
    }
    // THEN nothing was counted and the circuit is closed
    expect(await store.get(NAME)).toEqual({ failures: 0, openUntil: 0, probeUntil: 0 });
    await expect(breaker.call(ok('closed'))).resolves.toBe('closed');
  });

  it('resets the failure count on a decline, which is a successful call to the provider', async () => {
    // GIVEN threshold - 1 failures
    const { breaker, store } = setup();
    await failTimes(breaker, THRESHOLD - 1);
    // WHEN a call is declined, then threshold - 1 calls fail again
    await expect(breaker.call(decline)).rejects.toBeInstanceOf(PaymentDeclinedError);
    expect((await store.get(NAME)).failures).toBe(0);
    await failTimes(breaker, THRESHOLD - 1);
    // THEN the failures were not consecutive, so the circuit is still closed
    expect(await store.get(NAME)).toMatchObject({ failures: THRESHOLD - 1, openUntil: 0 });
  });

  it('resets the failure count on a success', async () => {
    // GIVEN threshold - 1 failures
    const { breaker, store } = setup();
    await failTimes(breaker, THRESHOLD - 1);
    // WHEN a call succeeds, then threshold - 1 calls fail again
    await breaker.call(ok('fine'));
    expect((await store.get(NAME)).failures).toBe(0);
    await failTimes(breaker, THRESHOLD - 1);
    // THEN the circuit is still closed
    expect(await store.get(NAME)).toMatchObject({ failures: THRESHOLD - 1, openUntil: 0 });
    await expect(breaker.call(ok('closed'))).resolves.toBe('closed');
  });

  it('closes the circuit when the probe is declined (the provider answered)', async () => {
    // GIVEN an open circuit whose rest is over
    const { breaker, clock, store } = setup();
    await failTimes(breaker, THRESHOLD);
    clock.advance(OPEN_MS);
    // WHEN the probe is declined
    await expect(breaker.call(decline)).rejects.toBeInstanceOf(PaymentDeclinedError);
    // THEN the circuit is closed
    expect(await store.get(NAME)).toEqual({ failures: 0, openUntil: 0, probeUntil: 0 });
  });

  it('counts every error as a failure by default', async () => {
    // GIVEN a breaker without isFailure
    const store = new InMemoryCircuitStateStore();
    const plain = new CircuitBreaker({
      name: NAME,
      store,
      failureThreshold: THRESHOLD,
      now: () => T0,
    });
    // WHEN threshold calls are declined
    for (let i = 0; i < THRESHOLD; i++) {
      await expect(plain.call(decline)).rejects.toBeInstanceOf(PaymentDeclinedError);
    }
    // THEN the circuit is open
    expect((await store.get(NAME)).openUntil).toBe(T0 + 30_000);
    await expect(plain.call(ok('x'))).rejects.toBeInstanceOf(CircuitOpenError);
  });

  it('shares the state through the store: another instance sees the open circuit', async () => {
    // GIVEN two breakers (two containers) over the same store and name
    const { store, clock, options } = setup();
    const first = new CircuitBreaker(options);
    const second = new CircuitBreaker(options);

    // WHEN the first one opens the circuit
    await failTimes(first, THRESHOLD);

    // THEN the second one refuses without calling the provider
    let called = false;
    const error = await openError(
      second.call(async () => {
        called = true;
      }),
    );
    expect(called).toBe(false);
    expect(error.retryAfterMs).toBe(OPEN_MS);
    // AND a successful probe through the second one closes it for the first one too
    clock.advance(OPEN_MS);
    await expect(second.call(ok('probe'))).resolves.toBe('probe');
    await expect(first.call(ok('closed'))).resolves.toBe('closed');
    expect((await store.get(NAME)).failures).toBe(0);
  });

  it('counts failures across instances sharing the store', async () => {
    // GIVEN two breakers over the same store
    const { store, options } = setup();
    const a = new CircuitBreaker(options);
    const b = new CircuitBreaker(options);
    // WHEN their failures together reach the threshold
    await failTimes(a, THRESHOLD - 1);
    await failTimes(b, 1);
    // THEN the circuit is open for both
    expect((await store.get(NAME)).openUntil).toBe(T0 + OPEN_MS);
    await expect(a.call(ok('x'))).rejects.toBeInstanceOf(CircuitOpenError);
  });

  it('keeps circuits of different names apart', async () => {
    // GIVEN two breakers with different names over the same store
    const { store, options } = setup();
    const payments = new CircuitBreaker(options);
    const emails = new CircuitBreaker({ ...options, name: 'email-provider' });
    // WHEN one opens
    await failTimes(payments, THRESHOLD);
    // THEN the other is unaffected
    await expect(emails.call(ok('sent'))).resolves.toBe('sent');
    expect(await store.get('email-provider')).toEqual({ failures: 0, openUntil: 0, probeUntil: 0 });
  });
});

describe('InMemoryCircuitStateStore', () => {
  it('starts closed', async () => {
    await expect(new InMemoryCircuitStateStore().get('x')).resolves.toEqual({
      failures: 0,
      openUntil: 0,
      probeUntil: 0,
    });
  });

  it('opens at the threshold and closes on success', async () => {
    const store = new InMemoryCircuitStateStore();
    await expect(store.recordFailure('x', 2, 500)).resolves.toEqual({
      failures: 1,
      openUntil: 0,
      probeUntil: 0,
    });
    await expect(store.recordFailure('x', 2, 500)).resolves.toEqual({
      failures: 2,
      openUntil: 500,
      probeUntil: 0,
    });
    await store.recordSuccess('x');
    await expect(store.get('x')).resolves.toEqual({ failures: 0, openUntil: 0, probeUntil: 0 });
  });

  it('grants a probe only when open, rested and not already held', async () => {
    // GIVEN a circuit open until 1000
    const store = new InMemoryCircuitStateStore();
    await store.recordFailure('x', 1, 1000);
    // THEN no probe before the rest is over, one at 1000, none while it is held, one after it expires
    await expect(store.claimProbe('x', 999, 2000)).resolves.toBe(false);
    await expect(store.claimProbe('x', 1000, 2000)).resolves.toBe(true);
    await expect(store.claimProbe('x', 1500, 2500)).resolves.toBe(false);
    await expect(store.claimProbe('x', 2000, 3000)).resolves.toBe(true);
    // AND never on a closed circuit
    await expect(store.claimProbe('closed', 5000, 6000)).resolves.toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../lambdas/commons/domain/decider.js';
import { createEnvelope, type EventEnvelope } from '../../../lambdas/commons/event-store/envelope.js';
import { ConcurrencyError } from '../../../lambdas/commons/event-store/event-store.js';
import { InMemoryViewStore } from '../../../lambdas/commons/projection/in-memory-view-store.js';
import {
  applyToView,
  InvalidEventError,
  isRetryable,
  ProjectionGapError,
  type StoredView,
  ViewConflictError,
  type ViewProjection,
  type ViewStore,
} from '../../../lambdas/commons/projection/projection.js';

// ---- helpers ------------------------------------------------------------------------------------

// A tiny counting projection: sums `by` and records the versions it folded, in order.
type CounterEvent = { type: 'Incremented'; data: { by: number } };
interface CounterView {
  readonly total: number;
  readonly folded: readonly number[];
}
const counterProjection: ViewProjection<CounterView, CounterEvent> = {
  name: 'counters',
  aggregateType: 'Counter',
  project(current, event) {
    if (typeof event.data.by !== 'number') throw new InvalidEventError(`bad by in v${event.version}`);
    return {
      total: (current?.total ?? 0) + event.data.by,
      folded: [...(current?.folded ?? []), event.version],
    };
  },
};

const ID = 'cnt-1';

function incremented(version: number, by = 1, aggregateId = ID): EventEnvelope<CounterEvent> {
  return createEnvelope<CounterEvent>(
    { type: 'Incremented', data: { by } },
    {
      aggregateType: 'Counter',
      aggregateId,
      version,
      correlationId: 'corr-1',
      causationId: `cmd-${version}`,
      occurredAt: '2024-05-01T10:00:00.000Z',
    },
  );
}

/** A store already holding `view` at `version`. */
function storeAt(version: number, view: CounterView): InMemoryViewStore<CounterView> {
  const store = new InMemoryViewStore<CounterView>();
  store.views.set(ID, { view, version });
  return store;
}

/**
 * Wraps a store: before each of the first `conflicts` puts, `otherWriter` runs against the inner
 * store (another projector instance getting there first), then the put goes through and conflicts.
 */
class RacingViewStore<V> implements ViewStore<V> {
  gets = 0;
  puts = 0;
  constructor(
    readonly inner: InMemoryViewStore<V>,
    private readonly conflicts: number,
    private readonly otherWriter: (inner: InMemoryViewStore<V>, attempt: number) => void,
  ) {}

  async get(id: string): Promise<StoredView<V> | undefined> {
    this.gets++;
    return this.inner.get(id);
  }

  async put(id: string, view: V, version: number, expectedVersion: number): Promise<void> {
    this.puts++;
    if (this.puts <= this.conflicts) this.otherWriter(this.inner, this.puts);
    return this.inner.put(id, view, version, expectedVersion);
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

// ---- applyToView --------------------------------------------------------------------------------

describe('applyToView', () => {
  it('GIVEN an empty store WHEN version 1 arrives THEN it is applied and stored at version 1', async () => {
    // GIVEN
    const store = new InMemoryViewStore<CounterView>();

    // WHEN
    const outcome = await applyToView(counterProjection, store, incremented(1, 5));

    // THEN
    expect(outcome).toBe('applied');
    expect(store.views.get(ID)).toEqual({ view: { total: 5, folded: [1] }, version: 1 });
  });

  it('folds consecutive versions in order', async () => {
    // GIVEN an empty store
    const store = new InMemoryViewStore<CounterView>();

    // WHEN versions 1..3 arrive in order
    const outcomes = [];
    for (const [version, by] of [
      [1, 2],
      [2, 3],
      [3, 4],
    ] as const)
      outcomes.push(await applyToView(counterProjection, store, incremented(version, by)));

    // THEN each is applied once and the view reflects version 3
    expect(outcomes).toEqual(['applied', 'applied', 'applied']);
    expect(store.views.get(ID)).toEqual({ view: { total: 9, folded: [1, 2, 3] }, version: 3 });
  });

  it.each([
    [2, 'the same version'],
    [1, 'an older version'],
  ])(
    'GIVEN a view at version 2 WHEN version %i (%s) arrives again THEN it is a duplicate and the view is unchanged',
    async (version) => {
      // GIVEN
      const before: StoredView<CounterView> = { view: { total: 7, folded: [1, 2] }, version: 2 };
      const store = storeAt(before.version, before.view);

      // WHEN
      const outcome = await applyToView(counterProjection, store, incremented(version, 100));

      // THEN
      expect(outcome).toBe('duplicate');
      expect(store.views.get(ID)).toEqual(before);
    },
  );

  it('GIVEN a view at version 2 WHEN version 4 arrives THEN ProjectionGapError names both versions', async () => {
    // GIVEN
    const store = storeAt(2, { total: 2, folded: [1, 2] });

    // WHEN
    const error = await rejection(applyToView(counterProjection, store, incremented(4)));

    // THEN the gap is reported, is retryable and nothing was written
    expect(error).toBeInstanceOf(ProjectionGapError);
    const gap = error as ProjectionGapError;
    expect(gap).toMatchObject({
      name: 'ProjectionGapError',
      projection: 'counters',
      aggregateId: ID,
      viewVersion: 2,
      eventVersion: 4,
      retryable: true,
    });
    expect(gap.message).toBe('counters: view cnt-1 is at version 2; event version 4 must wait for 3');
    expect(store.views.get(ID)?.version).toBe(2);
  });

  it('GIVEN an empty store WHEN version 2 arrives THEN it is a gap from version 0', async () => {
    const store = new InMemoryViewStore<CounterView>();

    const error = await rejection(applyToView(counterProjection, store, incremented(2)));

    expect(error).toBeInstanceOf(ProjectionGapError);
    expect(error).toMatchObject({ viewVersion: 0, eventVersion: 2 });
    expect(store.views.size).toBe(0);
  });

  it('GIVEN another writer applies the same event first WHEN our write conflicts THEN the retry sees a duplicate', async () => {
    // GIVEN a view at 1, and another projector that writes version 2 just before our put
    const inner = storeAt(1, { total: 1, folded: [1] });
    const store = new RacingViewStore(inner, 1, (s) =>
      s.views.set(ID, { view: { total: 4, folded: [1, 2] }, version: 2 }),
    );

    // WHEN version 2 is applied
    const outcome = await applyToView(counterProjection, store, incremented(2, 3));

    // THEN our conflicting write was retried after a fresh read, which found the event already folded
    expect(outcome).toBe('duplicate');
    expect(store.gets).toBe(2);
    expect(store.puts).toBe(1);
    expect(inner.views.get(ID)).toEqual({ view: { total: 4, folded: [1, 2] }, version: 2 });
  });

  it('GIVEN another writer stores version 1 first WHEN our write of it conflicts THEN a duplicate, and version 2 builds on their view', async () => {
    // GIVEN an empty store, and another projector that stores version 1 just before our put of it
    const inner = new InMemoryViewStore<CounterView>();
    const store = new RacingViewStore(inner, 1, (s) =>
      s.views.set(ID, { view: { total: 10, folded: [1] }, version: 1 }),
    );

    // WHEN event 1 is applied
    const outcome = await applyToView(counterProjection, store, incremented(1, 10));

    // THEN it is a duplicate on retry, and event 2 afterwards applies on top of the other writer's view
    expect(outcome).toBe('duplicate');
    expect(await applyToView(counterProjection, store, incremented(2, 5))).toBe('applied');
    expect(inner.views.get(ID)).toEqual({ view: { total: 15, folded: [1, 2] }, version: 2 });
  });

  it('GIVEN a conflicting write that did not fold our version WHEN retried THEN the event is applied on the fresh view', async () => {
    // GIVEN a view at version 1 whose document another writer rewrites (same version) under a
    // store that refuses our first put as a conflict
    const inner = storeAt(1, { total: 1, folded: [1] });
    let refused = 0;
    const store: ViewStore<CounterView> = {
      get: (id) => inner.get(id),
      async put(id, view, version, expectedVersion) {
        if (refused === 0) {
          refused++;
          inner.views.set(ID, { view: { total: 50, folded: [1] }, version: 1 });
          throw new ViewConflictError(id, expectedVersion);
        }
        return inner.put(id, view, version, expectedVersion);
      },
    };

    // WHEN version 2 is applied
    const outcome = await applyToView(counterProjection, store, incremented(2, 5));

    // THEN the projection re-ran on the fresh document
    expect(outcome).toBe('applied');
    expect(refused).toBe(1);
    expect(inner.views.get(ID)).toEqual({ view: { total: 55, folded: [1, 2] }, version: 2 });
  });

  it('GIVEN a write that conflicts 3 times WHEN applying THEN the ViewConflictError propagates after 3 attempts', async () => {
    // GIVEN a store whose put always conflicts
    const inner = storeAt(1, { total: 1, folded: [1] });
    let puts = 0;
    const store: ViewStore<CounterView> = {
      get: (id) => inner.get(id),
      async put(id, _view, _version, expectedVersion) {
        puts++;
        throw new ViewConflictError(id, expectedVersion);
      },
    };

    // WHEN
    const error = await rejection(applyToView(counterProjection, store, incremented(2)));

    // THEN
    expect(error).toBeInstanceOf(ViewConflictError);
    expect(error).toMatchObject({ aggregateId: ID, expectedVersion: 1, retryable: true });
    expect((error as Error).message).toBe('View cnt-1 is no longer at version 1');
    expect(puts).toBe(3);
    expect(isRetryable(error)).toBe(true);
    expect(inner.views.get(ID)).toEqual({ view: { total: 1, folded: [1] }, version: 1 });
  });

  it('succeeds when the third attempt is the first that does not conflict', async () => {
    // GIVEN a store whose first two puts conflict
    const inner = new InMemoryViewStore<CounterView>();
    let puts = 0;
    const store: ViewStore<CounterView> = {
      get: (id) => inner.get(id),
      async put(id, view, version, expectedVersion) {
        puts++;
        if (puts <= 2) throw new ViewConflictError(id, expectedVersion);
        return inner.put(id, view, version, expectedVersion);
      },
    };

    // WHEN / THEN
    expect(await applyToView(counterProjection, store, incremented(1, 3))).toBe('applied');
    expect(puts).toBe(3);
    expect(inner.views.get(ID)).toEqual({ view: { total: 3, folded: [1] }, version: 1 });
  });

  it('does not retry an error from put that is not a conflict', async () => {
    // GIVEN a store failing with an I/O error
    let puts = 0;
    const failure = new Error('network down');
    const store: ViewStore<CounterView> = {
      get: async () => undefined,
      async put() {
        puts++;
        throw failure;
      },
    };

    // WHEN / THEN the same error propagates after one attempt
    expect(await rejection(applyToView(counterProjection, store, incremented(1)))).toBe(failure);
    expect(puts).toBe(1);
  });

  it('lets an InvalidEventError from the projection through and writes nothing', async () => {
    // GIVEN an event whose data the projection cannot fold
    const store = new InMemoryViewStore<CounterView>();
    const bad = { ...incremented(1), data: { by: 'one' } } as unknown as EventEnvelope<CounterEvent>;

    // WHEN
    const error = await rejection(applyToView(counterProjection, store, bad));

    // THEN
    expect(error).toBeInstanceOf(InvalidEventError);
    expect((error as Error).message).toBe('bad by in v1');
    expect(store.views.size).toBe(0);
  });

  it('keeps views of different aggregates apart', async () => {
    const store = new InMemoryViewStore<CounterView>();

    await applyToView(counterProjection, store, incremented(1, 1, 'a'));
    await applyToView(counterProjection, store, incremented(1, 2, 'b'));
    await applyToView(counterProjection, store, incremented(2, 3, 'a'));

    expect(store.views.get('a')).toEqual({ view: { total: 4, folded: [1, 2] }, version: 2 });
    expect(store.views.get('b')).toEqual({ view: { total: 2, folded: [1] }, version: 1 });
  });
});

// ---- InMemoryViewStore --------------------------------------------------------------------------

describe('InMemoryViewStore', () => {
  it('returns undefined for a view never written', async () => {
    expect(await new InMemoryViewStore<CounterView>().get('nope')).toBeUndefined();
  });

  it('writes when the stored version is the expected one (0 for no view) and refuses otherwise', async () => {
    // GIVEN an empty store
    const store = new InMemoryViewStore<string>();

    // WHEN the first write expects 0 and the second expects 1
    await store.put(ID, 'one', 1, 0);
    await store.put(ID, 'two', 2, 1);

    // THEN both land
    expect(await store.get(ID)).toEqual({ view: 'two', version: 2 });

    // AND a write with a stale expectation is refused with the id and the expectation
    const stale = await rejection(store.put(ID, 'stale', 2, 1));
    expect(stale).toBeInstanceOf(ViewConflictError);
    expect(stale).toMatchObject({ name: 'ViewConflictError', aggregateId: ID, expectedVersion: 1 });
    const fresh = await rejection(store.put('other', 'x', 1, 3));
    expect(fresh).toMatchObject({ aggregateId: 'other', expectedVersion: 3 });
    expect(await store.get(ID)).toEqual({ view: 'two', version: 2 });
    expect(await store.get('other')).toBeUndefined();
  });
});

// ---- errors -------------------------------------------------------------------------------------

describe('isRetryable', () => {
  it('is false only for InvalidEventError', () => {
    const invalid = new InvalidEventError('cannot fold');
    expect(invalid).toMatchObject({ name: 'InvalidEventError', message: 'cannot fold', retryable: false });
    expect(isRetryable(invalid)).toBe(false);

    expect(isRetryable(new ProjectionGapError('p', 'a', 1, 3))).toBe(true);
    expect(isRetryable(new ViewConflictError('a', 1))).toBe(true);
    expect(isRetryable(new ConcurrencyError('a', 1))).toBe(true);
    expect(isRetryable(new DomainError('X', 'x'))).toBe(true);
    expect(isRetryable(new Error('boom'))).toBe(true);
    expect(isRetryable('a string')).toBe(true);
    expect(isRetryable(undefined)).toBe(true);
  });

  it('is decided by class, not by a retryable field', () => {
    // GIVEN a plain error that claims not to be retryable
    const lookalike = Object.assign(new Error('x'), { name: 'InvalidEventError', retryable: false });

    // THEN only a real InvalidEventError is final
    expect(isRetryable(lookalike)).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { type Decider, DomainError } from '../../../lambdas/commons/domain/decider.js';
import { type EventEnvelope, Upcasters } from '../../../lambdas/commons/event-store/envelope.js';
import {
  type AppendResult,
  assertAppendable,
  ConcurrencyError,
  type EventStore,
  type LoadedEvents,
  type LoadedSnapshot,
  type LoadOptions,
  type Snapshot,
} from '../../../lambdas/commons/event-store/event-store.js';
import { AggregateRepository } from '../../../lambdas/commons/event-store/repository.js';

// A tiny counter aggregate.
type CounterEvent = { type: 'Incremented'; data: { by: number } };
type CounterCommand = { kind: 'increment'; by: number; times?: number } | { kind: 'noop' };
interface CounterState {
  readonly total: number;
  readonly increments: number;
}
const counter: Decider<CounterState, CounterCommand, CounterEvent> = {
  aggregateType: 'Counter',
  initialState: { total: 0, increments: 0 },
  decide(_state, command) {
    if (command.kind === 'noop') return [];
    if (command.by <= 0) throw new DomainError('INVALID', 'by must be positive');
    return Array.from({ length: command.times ?? 1 }, () => ({
      type: 'Incremented',
      data: { by: command.by },
    }));
  },
  evolve: (state, event) => ({ total: state.total + event.data.by, increments: state.increments + 1 }),
};

/** Test double of the EventStore port: in memory, same conflict rule as the real adapter. */
class FakeEventStore implements EventStore {
  readonly streams = new Map<string, EventEnvelope[]>();
  readonly snapshots = new Map<string, Snapshot[]>();
  appendCalls = 0;
  /** Runs before each append, e.g. to simulate a concurrent writer. */
  beforeAppend: ((aggregateId: string) => void) | undefined;

  async load(aggregateId: string, options: LoadOptions = {}): Promise<LoadedEvents> {
    const events = (this.streams.get(aggregateId) ?? []).filter(
      (e) => e.version >= (options.fromVersion ?? 1),
    );
    return { events, itemsRead: events.length };
  }

  async append(aggregateId: string, expectedVersion: number, envelopes: readonly EventEnvelope[]) {
    this.appendCalls++;
    this.beforeAppend?.(aggregateId);
    assertAppendable(aggregateId, expectedVersion, envelopes, 100);
    const stream = this.streams.get(aggregateId) ?? [];
    if (stream.length > expectedVersion) throw new ConcurrencyError(aggregateId, expectedVersion);
    this.streams.set(aggregateId, [...stream, ...envelopes]);
    return { version: expectedVersion + envelopes.length } satisfies AppendResult;
  }

  async getSnapshot<S>(aggregateId: string): Promise<LoadedSnapshot<S>> {
    const latest = this.snapshots.get(aggregateId)?.at(-1);
    return { snapshot: latest as Snapshot<S> | undefined, itemsRead: latest ? 1 : 0 };
  }

  async putSnapshot<S>(snapshot: Snapshot<S>): Promise<void> {
    this.snapshots.set(snapshot.aggregateId, [...(this.snapshots.get(snapshot.aggregateId) ?? []), snapshot]);
  }

  /** Another writer's event, appended behind the repository's back. */
  writeForeign(aggregateId: string): void {
    const stream = this.streams.get(aggregateId) ?? [];
    stream.push({
      eventId: `foreign-${stream.length + 1}`,
      type: 'Incremented',
      schemaVersion: 1,
      aggregateType: 'Counter',
      aggregateId,
      version: stream.length + 1,
      occurredAt: new Date().toISOString(),
      correlationId: 'other',
      causationId: 'other',
      data: { by: 100 },
    });
    this.streams.set(aggregateId, stream);
  }
}

const meta = { correlationId: 'corr-1', causationId: 'cmd-1' };
const noSleep = { sleep: async () => {} };

describe('AggregateRepository', () => {
  it('decides, envelopes and appends at the next versions', async () => {
    const store = new FakeEventStore();
    const repo = new AggregateRepository({ decider: counter, store, retry: noSleep });

    await repo.handle('c-1', { kind: 'increment', by: 2 }, meta);
    const result = await repo.handle('c-1', { kind: 'increment', by: 3, times: 2 }, meta);

    expect(result.version).toBe(3);
    expect(result.attempts).toBe(1);
    expect(result.events.map((e) => [e.version, e.type, e.data.by])).toEqual([
      [2, 'Incremented', 3],
      [3, 'Incremented', 3],
    ]);
    expect(result.events[0]).toMatchObject({ aggregateType: 'Counter', aggregateId: 'c-1', ...meta });
    expect((await repo.load('c-1')).state).toEqual({ total: 8, increments: 3 });
  });

  it('stores the command’s correlation id on every event and reports the appended ones', async () => {
    const store = new FakeEventStore();
    const appended: string[][] = [];
    const repo = new AggregateRepository({
      decider: counter,
      store,
      retry: noSleep,
      onAppended: (events) => appended.push(events.map((e) => e.correlationId)),
    });
    const metadata = { correlationId: 'corr-http-1', causationId: 'corr-http-1' };
    await repo.handle('c-9', { kind: 'increment', by: 1, times: 2 }, metadata);
    await repo.handle('c-9', { kind: 'noop' }, metadata);
    expect(appended).toEqual([['corr-http-1', 'corr-http-1']]);
    const stored = store.streams.get('c-9') ?? [];
    expect(stored.map((e) => e.correlationId)).toEqual(['corr-http-1', 'corr-http-1']);
  });

  it('appends nothing when the command causes no event', async () => {
    const store = new FakeEventStore();
    const repo = new AggregateRepository({ decider: counter, store });
    await expect(repo.handle('c-1', { kind: 'noop' }, meta)).resolves.toMatchObject({
      events: [],
      version: 0,
    });
    expect(store.appendCalls).toBe(0);
  });

  it('reloads and decides again after losing to a concurrent writer', async () => {
    // GIVEN another writer slips in one event before the first append
    const store = new FakeEventStore();
    let interfered = false;
    store.beforeAppend = (id) => {
      if (!interfered) store.writeForeign(id);
      interfered = true;
    };
    const repo = new AggregateRepository({ decider: counter, store, retry: noSleep });

    // WHEN a command is handled
    const result = await repo.handle('c-1', { kind: 'increment', by: 1 }, meta);

    // THEN the second attempt appends after the foreign event
    expect(result).toMatchObject({ version: 2, attempts: 2 });
    expect((await repo.load('c-1')).state).toEqual({ total: 101, increments: 2 });
  });

  it('gives up after the retry bound with the ConcurrencyError', async () => {
    const store = new FakeEventStore();
    store.beforeAppend = (id) => store.writeForeign(id);
    const repo = new AggregateRepository({ decider: counter, store, retry: { ...noSleep, attempts: 3 } });

    await expect(repo.handle('c-1', { kind: 'increment', by: 1 }, meta)).rejects.toMatchObject({
      name: 'ConcurrencyError',
      aggregateId: 'c-1',
      expectedVersion: 2,
    });
    expect(store.appendCalls).toBe(3);
  });

  it('does not retry a DomainError', async () => {
    const store = new FakeEventStore();
    const repo = new AggregateRepository({ decider: counter, store, retry: noSleep });
    await expect(repo.handle('c-1', { kind: 'increment', by: -1 }, meta)).rejects.toBeInstanceOf(DomainError);
    expect(store.appendCalls).toBe(0);
  });

  it('snapshots when crossing a multiple of N and loads from it reading at most N+1 items', async () => {
    const store = new FakeEventStore();
    const repo = new AggregateRepository({ decider: counter, store, snapshotEvery: 10 });

    // WHEN 35 events are appended in commands of 1 or 3 events (crossing 10, 20, 30 mid-command)
    let version = 0;
    while (version < 35) {
      const times = 35 - version >= 3 && version % 2 === 0 ? 3 : 1;
      version = (await repo.handle('c-1', { kind: 'increment', by: 1, times }, meta)).version;
    }

    // THEN a snapshot was taken at each crossing, and loading reads the last one plus the tail
    expect(store.snapshots.get('c-1')?.length).toBe(3);
    const loaded = await repo.load('c-1');
    expect(loaded.state).toEqual({ total: 35, increments: 35 });
    expect(loaded.version).toBe(35);
    expect(loaded.stats.itemsRead).toBeLessThanOrEqual(11);
    expect(loaded.stats.eventsReplayed).toBe(35 - (loaded.stats.snapshotVersion ?? 0));
  });

  it('ignores a snapshot of another state schema version', async () => {
    const store = new FakeEventStore();
    const v1 = new AggregateRepository({ decider: counter, store, snapshotEvery: 2 });
    await v1.handle('c-1', { kind: 'increment', by: 1, times: 3 }, meta);
    const v2 = new AggregateRepository({ decider: counter, store, snapshotEvery: 2, stateSchemaVersion: 2 });

    const loaded = await v2.load('c-1');
    expect(loaded.stats).toEqual({ itemsRead: 4, snapshotVersion: undefined, eventsReplayed: 3 });
    expect(loaded.state).toEqual({ total: 3, increments: 3 });
  });

  it('upcasts old events on load and writes new ones at the current schema version', async () => {
    // GIVEN an event stored at v1 as { amount } and an upcaster to v2 { by }
    const store = new FakeEventStore();
    store.writeForeign('c-1');
    const first = store.streams.get('c-1')?.[0];
    if (!first) throw new Error('no event');
    store.streams.set('c-1', [{ ...first, data: { amount: 7 } } as unknown as EventEnvelope]);
    const upcasters = new Upcasters().register('Incremented', 1, (d) => ({
      by: (d as { amount: number }).amount,
    }));
    const repo = new AggregateRepository({ decider: counter, store, upcasters });

    // THEN the state folds the upcast data and new events are stamped v2
    expect((await repo.load('c-1')).state).toEqual({ total: 7, increments: 1 });
    const result = await repo.handle('c-1', { kind: 'increment', by: 1 }, meta);
    expect(result.events[0]?.schemaVersion).toBe(2);
  });

  it('reports a failed snapshot without failing the committed command', async () => {
    const store = new FakeEventStore();
    store.putSnapshot = async () => {
      throw new Error('throttled');
    };
    const errors: unknown[] = [];
    const repo = new AggregateRepository({
      decider: counter,
      store,
      snapshotEvery: 1,
      onSnapshotError: (error) => errors.push(error),
    });
    await expect(repo.handle('c-1', { kind: 'increment', by: 1 }, meta)).resolves.toMatchObject({
      version: 1,
    });
    expect(errors).toHaveLength(1);
    expect(store.appendCalls).toBe(1);
  });
});

/**
 * The DynamoDB event store against the local emulator: optimistic concurrency under real
 * contention, atomic multi-event appends, snapshot-bounded loads. One fresh table per run.
 */
import { randomUUID } from 'node:crypto';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Decider, DomainError } from '../../../lambdas/commons/domain/decider.js';
import { DynamoDbEventStore } from '../../../lambdas/commons/event-store/dynamodb-event-store.js';
import {
  createEnvelope,
  type EventEnvelope,
  toDomainEvent,
} from '../../../lambdas/commons/event-store/envelope.js';
import { ConcurrencyError } from '../../../lambdas/commons/event-store/event-store.js';
import { AggregateRepository } from '../../../lambdas/commons/event-store/repository.js';
import { eventStoreTableInput } from '../../../lambdas/commons/event-store/table-schema.js';

// A tiny counter aggregate (the real aggregates live elsewhere).
type CounterEvent = { type: 'Incremented'; data: { by: number } };
type CounterCommand = { by: number; times?: number };
interface CounterState {
  readonly total: number;
  readonly increments: number;
}
const counter: Decider<CounterState, CounterCommand, CounterEvent> = {
  aggregateType: 'Counter',
  initialState: { total: 0, increments: 0 },
  decide(_state, command) {
    if (command.by <= 0) throw new DomainError('INVALID', 'by must be positive');
    return Array.from({ length: command.times ?? 1 }, () => ({
      type: 'Incremented',
      data: { by: command.by },
    }));
  },
  evolve: (state, event) => ({ total: state.total + event.data.by, increments: state.increments + 1 }),
};

const engines = inject('engines');
const client = new DynamoDBClient({
  endpoint: engines.awsEndpointUrl,
  region: process.env.AWS_REGION ?? 'us-east-1',
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
  },
});
const tableName = `it-event-store-${randomUUID()}`;
const store = new DynamoDbEventStore({ client, tableName });
const meta = { correlationId: 'corr-it', causationId: 'cmd-it' };

function events(
  aggregateId: string,
  fromVersion: number,
  count: number,
  by = 1,
): EventEnvelope<CounterEvent>[] {
  return Array.from({ length: count }, (_, i) =>
    createEnvelope<CounterEvent>(
      { type: 'Incremented', data: { by } },
      { aggregateType: 'Counter', aggregateId, version: fromVersion + i, ...meta },
    ),
  );
}

function replay(all: readonly EventEnvelope[]): CounterState {
  return all.reduce(
    (state, envelope) => counter.evolve(state, toDomainEvent(envelope as EventEnvelope<CounterEvent>)),
    counter.initialState,
  );
}

beforeAll(async () => {
  await client.send(new CreateTableCommand(eventStoreTableInput(tableName)));
  await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: tableName });
});

afterAll(async () => {
  await client.send(new DeleteTableCommand({ TableName: tableName }));
  client.destroy();
});

describe('DynamoDbEventStore', () => {
  it('lets exactly one of 20 concurrent appends at the same expected version win, for each version', async () => {
    const id = `counter-${randomUUID()}`;
    for (let expected = 0; expected < 3; expected++) {
      // GIVEN 20 writers that all read version `expected`
      const contenders = Array.from({ length: 20 }, () => events(id, expected + 1, 1));

      // WHEN they append at once
      const results = await Promise.allSettled(contenders.map((batch) => store.append(id, expected, batch)));

      // THEN one wins and the 19 others get a ConcurrencyError
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(19);
      for (const error of lost) expect(error).toBeInstanceOf(ConcurrencyError);
    }
    const { events: stored } = await store.load(id);
    expect(stored.map((e) => e.version)).toEqual([1, 2, 3]);
  });

  it('drives 20 concurrent commands through the repository to versions 1..20, no gap, no duplicate', async () => {
    const id = `counter-${randomUUID()}`;
    const repo = new AggregateRepository({
      decider: counter,
      store,
      snapshotEvery: 5,
      // 20 writers on ONE aggregate at once: the last one may lose up to 19 times.
      retry: { attempts: 40, baseDelayMs: 10, maxDelayMs: 250 },
    });

    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        repo.handle(id, { by: 1 }, { correlationId: `corr-${i}`, causationId: `cmd-${i}` }),
      ),
    );
    const elapsedMs = performance.now() - started;

    const { events: stored } = await store.load(id);
    expect(stored.map((e) => e.version)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(new Set(stored.map((e) => e.eventId)).size).toBe(20);
    expect(new Set(results.map((r) => r.version))).toEqual(new Set(stored.map((e) => e.version)));
    expect(stored.map((e) => e.causationId).sort()).toEqual(results.map((_, i) => `cmd-${i}`).sort());
    expect((await repo.load(id)).state).toEqual({ total: 20, increments: 20 });
    const attempts = results.map((r) => r.attempts);
    console.info(
      `20 concurrent commands: ${elapsedMs.toFixed(0)} ms, attempts total ${attempts.reduce((a, b) => a + b, 0)}, ` +
        `max ${Math.max(...attempts)}`,
    );
  });

  it('writes a 3-event command atomically: a conflicting transaction writes none of its events', async () => {
    // GIVEN a stream at version 1
    const id = `counter-${randomUUID()}`;
    await store.append(id, 0, events(id, 1, 1, 1));

    // WHEN a stale writer appends 3 events (versions 1..3) at expected version 0
    const stale = store.append(id, 0, events(id, 1, 3, 50));

    // THEN it fails, and neither version 2 nor 3 was written
    await expect(stale).rejects.toBeInstanceOf(ConcurrencyError);
    const { events: stored } = await store.load(id);
    expect(stored.map((e) => [e.version, e.data])).toEqual([[1, { by: 1 }]]);

    // AND a 3-event append at the right version writes all three
    await expect(store.append(id, 1, events(id, 2, 3, 2))).resolves.toEqual({ version: 4 });
    expect((await store.load(id)).events.map((e) => e.version)).toEqual([1, 2, 3, 4]);
  });

  it('stores the whole envelope as top-level attributes, data as a map', async () => {
    const id = `counter-${randomUUID()}`;
    const [envelope] = events(id, 1, 1, 7);
    if (!envelope) throw new Error('no envelope');
    await store.append(id, 0, [envelope]);

    const { Item } = await client.send(
      new GetItemCommand({ TableName: tableName, Key: { aggregateId: { S: id }, version: { N: '1' } } }),
    );
    expect(Item).toMatchObject({
      eventId: { S: envelope.eventId },
      type: { S: 'Incremented' },
      schemaVersion: { N: '1' },
      aggregateType: { S: 'Counter' },
      occurredAt: { S: envelope.occurredAt },
      correlationId: { S: meta.correlationId },
      causationId: { S: meta.causationId },
      recordType: { S: 'event' },
      data: { M: { by: { N: '7' } } },
    });
    expect((await store.load(id)).events).toEqual([envelope]);
  });

  it('with snapshotEvery=10, loads 35 events reading at most 11 items, same state as a full replay', async () => {
    const id = `counter-${randomUUID()}`;
    const repo = new AggregateRepository({ decider: counter, store, snapshotEvery: 10 });
    let version = 0;
    let by = 1;
    while (version < 35) {
      // commands of 1 and 3 events, so some cross a multiple of 10 mid-command
      const times = version % 4 === 0 && 35 - version >= 3 ? 3 : 1;
      version = (await repo.handle(id, { by: by++, times }, meta)).version;
    }

    const withSnapshot = await repo.load(id);
    const full = await store.load(id);
    const withoutSnapshot = await new AggregateRepository({ decider: counter, store, snapshotEvery: 0 }).load(
      id,
    );

    expect(withSnapshot.version).toBe(35);
    expect(withSnapshot.stats.snapshotVersion).toBeGreaterThanOrEqual(30);
    expect(withSnapshot.stats.itemsRead).toBeLessThanOrEqual(11);
    expect(withSnapshot.state).toEqual(replay(full.events));
    expect(withoutSnapshot.state).toEqual(withSnapshot.state);
    expect(full.itemsRead).toBe(35);
    expect(withoutSnapshot.stats.itemsRead).toBe(35);
    console.info(
      `35 events: ${withSnapshot.stats.itemsRead} items read with snapshot at v${withSnapshot.stats.snapshotVersion}, ` +
        `${withoutSnapshot.stats.itemsRead} without`,
    );
  });

  it('puts the aggregate id and expected version on the ConcurrencyError (single Put and transaction)', async () => {
    const id = `counter-${randomUUID()}`;
    await store.append(id, 0, events(id, 1, 2));

    const single = await store.append(id, 1, events(id, 2, 1)).catch((e: unknown) => e);
    const batch = await store.append(id, 1, events(id, 2, 2)).catch((e: unknown) => e);

    for (const error of [single, batch]) {
      expect(error).toBeInstanceOf(ConcurrencyError);
      expect(error).toMatchObject({ aggregateId: id, expectedVersion: 1 });
    }
  });
});

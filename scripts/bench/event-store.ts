import { randomUUID } from 'node:crypto';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Decider } from '../../lambdas/commons/domain/decider.js';
import { DynamoDbEventStore } from '../../lambdas/commons/event-store/dynamodb-event-store.js';
import { createEnvelope } from '../../lambdas/commons/event-store/envelope.js';
import { AggregateRepository } from '../../lambdas/commons/event-store/repository.js';
import { eventStoreTableInput } from '../../lambdas/commons/event-store/table-schema.js';
import { ensureEngines } from '../lib/engines.js';
import { round } from './stats.js';
import type { BenchSuite } from './types.js';

type Incremented = { type: 'Incremented'; data: { by: number } };
const counter: Decider<{ total: number }, { by: number }, Incremented> = {
  aggregateType: 'Counter',
  initialState: { total: 0 },
  decide: (_s, c) => [{ type: 'Incremented', data: { by: c.by } }],
  evolve: (s, e) => ({ total: s.total + e.data.by }),
};

const APPENDS = 200;
const LONG_STREAM = 10_000;
const SNAPSHOT_EVERY = 50;

/**
 * `eventStore.*` on the local DynamoDB emulator: single-event appends per second through the
 * repository (load, decide, conditional append), and loading a 10,000-event aggregate from its
 * latest snapshot against a full replay, in the same run.
 */
export const eventStoreSuite: BenchSuite = {
  name: 'eventStore',
  description: 'event store on the DynamoDB emulator: appends/s, 10k-event load with and without snapshot',
  async run(ctx) {
    const engines = await ensureEngines(['moto'], { log: (l) => ctx.log(`eventStore: ${l}`) });
    const client = new DynamoDBClient({
      endpoint: engines.awsEndpointUrl,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const tableName = `bench-event-store-${randomUUID()}`;
    await client.send(new CreateTableCommand(eventStoreTableInput(tableName)));
    await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: tableName });
    const store = new DynamoDbEventStore({ client, tableName });
    const documents = DynamoDBDocumentClient.from(client);
    const meta = { correlationId: 'bench', causationId: 'bench' };
    try {
      ctx.log(`eventStore: ${APPENDS} commands through the repository`);
      const repo = new AggregateRepository({ decider: counter, store, snapshotEvery: SNAPSHOT_EVERY });
      const t0 = performance.now();
      for (let i = 0; i < APPENDS; i++) await repo.handle(`agg-${i % 10}`, { by: 1 }, meta);
      const appendsPerSec = APPENDS / ((performance.now() - t0) / 1000);

      ctx.log(`eventStore: writing a ${LONG_STREAM}-event aggregate`);
      const id = `long-${randomUUID()}`;
      // Seeded with BatchWriteItem, the same items the store writes: the emulator's transactions
      // copy the whole table per call and do not survive 10,000 events (the measured path is load).
      for (let v = 0; v < LONG_STREAM; v += 25) {
        const items = Array.from({ length: 25 }, (_, i) => ({
          ...createEnvelope<Incremented>(
            { type: 'Incremented', data: { by: 1 } },
            { aggregateType: 'Counter', aggregateId: id, version: v + i + 1, ...meta },
          ),
          recordType: 'event',
        }));
        await documents.send(
          new BatchWriteCommand({
            RequestItems: { [tableName]: items.map((Item) => ({ PutRequest: { Item } })) },
          }),
        );
      }
      const full = new AggregateRepository({ decider: counter, store, snapshotEvery: 0 });
      const t1 = performance.now();
      const fullLoad = await full.load(id);
      const fullMs = performance.now() - t1;
      // The snapshot a repository would have written when the stream crossed its last multiple of N.
      await store.putSnapshot({
        aggregateId: id,
        aggregateType: 'Counter',
        version: LONG_STREAM - (LONG_STREAM % SNAPSHOT_EVERY || SNAPSHOT_EVERY) + SNAPSHOT_EVERY - 1,
        schemaVersion: 1,
        state: { total: LONG_STREAM - 1 },
        takenAt: new Date().toISOString(),
      });
      const t2 = performance.now();
      const snapLoad = await repo.load(id);
      const snapMs = performance.now() - t2;
      if (snapLoad.state.total !== fullLoad.state.total) {
        throw new Error(`snapshot load ${snapLoad.state.total} != full replay ${fullLoad.state.total}`);
      }
      return {
        appendsPerSec: { value: round(appendsPerSec, 1), unit: 'appends/s' },
        'load10k.itemsRead.snapshot': { value: snapLoad.stats.itemsRead, unit: 'items' },
        'load10k.itemsRead.full': { value: fullLoad.stats.itemsRead, unit: 'items' },
        'load10k.ms.snapshot': { value: round(snapMs, 1), unit: 'ms', baseline: round(fullMs, 1) },
        'load10k.speedupVsFullReplay': { value: round(fullMs / snapMs, 1), unit: 'x' },
      };
    } finally {
      await client.send(new DeleteTableCommand({ TableName: tableName })).catch(() => undefined);
    }
  },
};

/**
 * The read-model projection against DynamoDB on the local emulator: at-least-once, out-of-order
 * delivery converges to the read model of one clean pass, and a rebuild from the event store into
 * fresh tables gives the same read model again.
 */
import { randomUUID } from 'node:crypto';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDbEventStore } from '../../../lambdas/commons/event-store/dynamodb-event-store.js';
import type { EventEnvelope } from '../../../lambdas/commons/event-store/envelope.js';
import { AggregateRepository } from '../../../lambdas/commons/event-store/repository.js';
import { eventStoreTableInput } from '../../../lambdas/commons/event-store/table-schema.js';
import { DynamoDbViewStore } from '../../../lambdas/commons/projection/dynamodb-view-store.js';
import { InMemoryViewStore } from '../../../lambdas/commons/projection/in-memory-view-store.js';
import { ProjectionGapError } from '../../../lambdas/commons/projection/projection.js';
import { rebuildViews } from '../../../lambdas/commons/projection/rebuild.js';
import {
  type ProjectionTarget,
  StreamProjector,
} from '../../../lambdas/commons/projection/stream-projector.js';
import { type CustomerCommand, customerDecider } from '../../../lambdas/customers/domain/customer.js';
import {
  type CustomerView,
  customerViewProjection,
} from '../../../lambdas/customers/read-model/customer-view.js';
import { CUSTOMERS_VIEW_KEY } from '../../../lambdas/customers/read-model/table-schema.js';
import { orderDecider } from '../../../lambdas/orders/domain/order.js';
import { type OrderView, orderViewProjection } from '../../../lambdas/orders/read-model/order-view.js';
import { ORDERS_VIEW_KEY } from '../../../lambdas/orders/read-model/table-schema.js';

const engines = inject('engines');
const client = new DynamoDBClient({
  endpoint: engines.awsEndpointUrl,
  region: process.env.AWS_REGION ?? 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
const run = randomUUID().slice(0, 8);
const tables = {
  events: `it-proj-events-${run}`,
  orders: `it-proj-orders-${run}`,
  customers: `it-proj-customers-${run}`,
  rebuiltOrders: `it-proj-orders-rebuilt-${run}`,
  rebuiltCustomers: `it-proj-customers-rebuilt-${run}`,
};
const meta = { correlationId: 'corr-proj', causationId: 'cmd-proj' };

/** A seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function createKeyTable(name: string, key: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: name });
}

async function scanAll(name: string, key: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({ TableName: name, ExclusiveStartKey: start, ConsistentRead: true }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items.sort((a, b) => String(a[key]).localeCompare(String(b[key])));
}

function targetsFor(ordersTable: string, customersTable: string): ProjectionTarget[] {
  return [
    {
      projection: orderViewProjection,
      store: new DynamoDbViewStore<OrderView>({
        client: doc,
        tableName: ordersTable,
        keyName: ORDERS_VIEW_KEY,
      }),
    } as ProjectionTarget,
    {
      projection: customerViewProjection,
      store: new DynamoDbViewStore<CustomerView>({
        client: doc,
        tableName: customersTable,
        keyName: CUSTOMERS_VIEW_KEY,
      }),
    } as ProjectionTarget,
  ];
}

describe('the read-model projection on DynamoDB', () => {
  const store = new DynamoDbEventStore({ client, tableName: tables.events });
  const orders = new AggregateRepository({ decider: orderDecider, store, snapshotEvery: 3 });
  const customers = new AggregateRepository({ decider: customerDecider, store, snapshotEvery: 3 });
  /** Every appended event in append order: what one clean pass of the stream would deliver. */
  const history: EventEnvelope[] = [];

  beforeAll(async () => {
    await client.send(new CreateTableCommand(eventStoreTableInput(tables.events)));
    await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: tables.events });
    await Promise.all([
      createKeyTable(tables.orders, ORDERS_VIEW_KEY),
      createKeyTable(tables.customers, CUSTOMERS_VIEW_KEY),
      createKeyTable(tables.rebuiltOrders, ORDERS_VIEW_KEY),
      createKeyTable(tables.rebuiltCustomers, CUSTOMERS_VIEW_KEY),
    ]);
    // GIVEN orders and customers taken through their life cycles
    const rnd = random(42);
    for (let i = 0; i < 8; i++) {
      const orderId = `order-${run}-${i}`;
      const steps = [
        {
          type: 'PlaceOrder' as const,
          data: {
            orderId,
            customerId: `c-${i % 3}`,
            currency: 'EUR',
            items: [{ sku: `SKU-${i}`, quantity: 1 + i, unitPrice: 100 * (i + 1) }],
          },
        },
        { type: 'RecordInventoryReserved' as const, data: { reservationId: `r-${i}` } },
        {
          type: 'RecordPaymentCompleted' as const,
          data: { paymentId: `p-${i}`, amount: (1 + i) * 100 * (i + 1) },
        },
        { type: 'ShipOrder' as const, data: { shipmentId: `s-${i}`, carrier: 'DHL' } },
      ];
      const last = i % 4 === 0 ? 1 : 1 + Math.floor(rnd() * steps.length);
      for (const command of steps.slice(0, last)) {
        history.push(...(await orders.handle(orderId, command, meta)).events);
      }
      if (i % 4 === 0) {
        history.push(
          ...(await orders.handle(orderId, { type: 'CancelOrder', data: { reason: 'test' } }, meta)).events,
        );
      }
    }
    for (let i = 0; i < 5; i++) {
      const customerId = `customer-${run}-${i}`;
      const domain = i % 2 === 0 ? 'example.com' : 'example.org';
      const steps: CustomerCommand[] = [
        {
          type: 'RegisterCustomer',
          data: { customerId, email: `u${i}@${domain}`, name: `User ${i}` },
        },
        { type: 'ChangeEmail', data: { email: `new${i}@${domain}` } },
        { type: 'DeactivateCustomer', data: { reason: 'inactive' } },
        { type: 'ReactivateCustomer', data: {} },
        { type: 'DeactivateCustomer', data: {} },
      ];
      for (const command of steps.slice(0, 1 + i)) {
        history.push(...(await customers.handle(customerId, command, meta)).events);
      }
    }
  }, 120_000);

  afterAll(async () => {
    for (const name of Object.values(tables)) {
      await client.send(new DeleteTableCommand({ TableName: name })).catch(() => undefined);
    }
  });

  it('converges to one clean pass when every event comes 2 to 3 times, out of order across aggregates', async () => {
    // The clean pass: each event once, in append order, into memory.
    const cleanOrders = new InMemoryViewStore<OrderView>();
    const cleanCustomers = new InMemoryViewStore<CustomerView>();
    const clean = new StreamProjector({
      targets: [
        { projection: orderViewProjection, store: cleanOrders } as ProjectionTarget,
        { projection: customerViewProjection, store: cleanCustomers } as ProjectionTarget,
      ],
    });
    for (const event of history) await clean.project({ ...event, recordType: 'event' });

    // WHEN each event is delivered 2-3 times in a shuffled order, and a gap goes back to the queue
    // (what a retried stream batch does), with two projector instances working at once
    const rnd = random(7);
    const deliveries = history.flatMap((event) =>
      Array.from({ length: 2 + Math.floor(rnd() * 2) }, () => event),
    );
    for (let i = deliveries.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [deliveries[i], deliveries[j]] = [deliveries[j] as EventEnvelope, deliveries[i] as EventEnvelope];
    }
    const projector = new StreamProjector({ targets: targetsFor(tables.orders, tables.customers) });
    const outcomes = { applied: 0, duplicate: 0, gap: 0 };
    const worker = async () => {
      for (let next = deliveries.shift(); next; next = deliveries.shift()) {
        try {
          const outcome = await projector.project({ ...next, recordType: 'event' });
          if (outcome === 'applied') outcomes.applied++;
          else if (outcome === 'duplicate') outcomes.duplicate++;
        } catch (error) {
          if (!(error instanceof ProjectionGapError)) throw error;
          outcomes.gap++;
          deliveries.push(next);
        }
      }
    };
    await Promise.all([worker(), worker()]);

    // THEN every event was applied exactly once, the rest ignored, and the tables equal the clean pass
    expect(outcomes.applied).toBe(history.length);
    expect(outcomes.duplicate).toBeGreaterThanOrEqual(history.length);
    expect(outcomes.gap).toBeGreaterThan(0);
    const expectedOrders = [...cleanOrders.views.entries()]
      .map(([, { view, version }]) => ({ ...view, version }))
      .sort((a, b) => a.orderId.localeCompare(b.orderId));
    const expectedCustomers = [...cleanCustomers.views.entries()]
      .map(([, { view, version }]) => ({ ...view, version }))
      .sort((a, b) => a.customerId.localeCompare(b.customerId));
    expect(await scanAll(tables.orders, ORDERS_VIEW_KEY)).toEqual(expectedOrders);
    expect(await scanAll(tables.customers, CUSTOMERS_VIEW_KEY)).toEqual(expectedCustomers);
    expect(expectedOrders).toHaveLength(8);
    expect(expectedCustomers).toHaveLength(5);
  });

  it('rebuilds the same read model from the event store into fresh tables', async () => {
    // WHEN the event store is replayed (snapshots in the same table are skipped)
    const report = await rebuildViews({
      aggregateIds: store.scanAggregateIds(),
      loadEvents: async (id) => (await store.load(id)).events,
      targets: targetsFor(tables.rebuiltOrders, tables.rebuiltCustomers),
      concurrency: 4,
    });
    // THEN it saw every aggregate and event once and wrote what the live projection wrote
    expect(report).toEqual({ aggregates: 13, events: history.length, applied: history.length, invalid: [] });
    expect(await scanAll(tables.rebuiltOrders, ORDERS_VIEW_KEY)).toEqual(
      await scanAll(tables.orders, ORDERS_VIEW_KEY),
    );
    expect(await scanAll(tables.rebuiltCustomers, CUSTOMERS_VIEW_KEY)).toEqual(
      await scanAll(tables.customers, CUSTOMERS_VIEW_KEY),
    );
  });

  it('clears a view table before a rebuild into it', async () => {
    const views = new DynamoDbViewStore<OrderView>({
      client: doc,
      tableName: tables.rebuiltOrders,
      keyName: ORDERS_VIEW_KEY,
    });
    expect(await views.clear()).toBe(8);
    expect(await scanAll(tables.rebuiltOrders, ORDERS_VIEW_KEY)).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../../lambdas/commons/domain/decider.js';
import { createEnvelope, type EventEnvelope } from '../../../lambdas/commons/event-store/envelope.js';
import { CorruptRecordError } from '../../../lambdas/commons/event-store/event-store.js';
import { InMemoryViewStore } from '../../../lambdas/commons/projection/in-memory-view-store.js';
import type { StoredView } from '../../../lambdas/commons/projection/projection.js';
import { type RebuildOptions, rebuildViews } from '../../../lambdas/commons/projection/rebuild.js';
import type { ProjectionTarget } from '../../../lambdas/commons/projection/stream-projector.js';
import { type CustomerCommand, customerDecider } from '../../../lambdas/customers/domain/customer.js';
import {
  type CustomerView,
  customerViewProjection,
  projectCustomer,
} from '../../../lambdas/customers/read-model/customer-view.js';
import { type OrderCommand, orderDecider } from '../../../lambdas/orders/domain/order.js';
import {
  type OrderView,
  orderViewProjection,
  projectOrder,
} from '../../../lambdas/orders/read-model/order-view.js';

// ---- helpers ------------------------------------------------------------------------------------

/** Runs commands through a decider and envelopes the events, as the event store would hold them. */
function streamOf<S, C, E extends DomainEvent>(
  decider: {
    aggregateType: string;
    initialState: S;
    decide(s: S, c: C): readonly E[];
    evolve(s: S, e: E): S;
  },
  aggregateId: string,
  commands: readonly C[],
): EventEnvelope[] {
  let state = decider.initialState;
  const envelopes: EventEnvelope[] = [];
  for (const command of commands) {
    for (const event of decider.decide(state, command)) {
      state = decider.evolve(state, event);
      const version = envelopes.length + 1;
      envelopes.push(
        createEnvelope(event as DomainEvent, {
          aggregateType: decider.aggregateType,
          aggregateId,
          version,
          correlationId: `corr-${aggregateId}`,
          causationId: `cmd-${aggregateId}-${version}`,
          occurredAt: `2024-05-01T10:${String(version).padStart(2, '0')}:00.000Z`,
          eventId: `evt-${aggregateId}-${version}`,
        }),
      );
    }
  }
  return envelopes;
}

const orderCommands = (orderId: string, more: readonly OrderCommand[]): OrderCommand[] => [
  {
    type: 'PlaceOrder',
    data: {
      orderId,
      customerId: 'cus-1',
      items: [{ sku: 'SKU-A', quantity: 3, unitPrice: 100 }],
      currency: 'EUR',
    },
  },
  ...more,
];
const reserve: OrderCommand = { type: 'RecordInventoryReserved', data: { reservationId: 'res-1' } };
const pay: OrderCommand = { type: 'RecordPaymentCompleted', data: { paymentId: 'pay-1', amount: 300 } };
const ship: OrderCommand = { type: 'ShipOrder', data: { shipmentId: 'shp-1' } };
const cancel: OrderCommand = { type: 'CancelOrder', data: { reason: 'changed mind' } };

const registerCustomer = (customerId: string, email: string): CustomerCommand => ({
  type: 'RegisterCustomer',
  data: { customerId, email, name: `Name of ${customerId}` },
});

/** The event store of the tests: a few orders and customers. */
function eventStore(): Map<string, EventEnvelope[]> {
  return new Map([
    ['ord-1', streamOf(orderDecider, 'ord-1', orderCommands('ord-1', [reserve, pay, ship]))],
    ['ord-2', streamOf(orderDecider, 'ord-2', orderCommands('ord-2', [cancel]))],
    ['ord-3', streamOf(orderDecider, 'ord-3', orderCommands('ord-3', [reserve]))],
    [
      'cus-1',
      streamOf(customerDecider, 'cus-1', [
        registerCustomer('cus-1', 'Ada@Example.com'),
        { type: 'ChangeEmail', data: { email: 'ada@new.example' } },
        { type: 'DeactivateCustomer', data: { reason: 'asked' } },
      ]),
    ],
    ['cus-2', streamOf(customerDecider, 'cus-2', [registerCustomer('cus-2', 'bob@example.org')])],
  ]);
}

/** The stored view a stream folds to, computed without the rebuild. */
function folded<V>(project: (current: V | undefined, event: EventEnvelope) => V, events: EventEnvelope[]) {
  return {
    view: events.reduce<V | undefined>((view, event) => project(view, event), undefined),
    version: events.length,
  } as StoredView<V>;
}

async function* idsOf(ids: Iterable<string>): AsyncIterable<string> {
  for (const id of ids) yield id;
}

function targets() {
  const orders = new InMemoryViewStore<OrderView>();
  const customers = new InMemoryViewStore<CustomerView>();
  const list = [
    { projection: orderViewProjection, store: orders },
    { projection: customerViewProjection, store: customers },
  ] as ProjectionTarget[];
  return { orders, customers, list };
}

function optionsFor(store: Map<string, EventEnvelope[]>, list: readonly ProjectionTarget[]): RebuildOptions {
  return {
    aggregateIds: idsOf(store.keys()),
    loadEvents: async (id) => store.get(id) ?? [],
    targets: list,
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---- rebuildViews -------------------------------------------------------------------------------

describe('rebuildViews', () => {
  it('GIVEN orders and customers in the store WHEN rebuilt THEN each view equals folding its stream', async () => {
    // GIVEN
    const store = eventStore();
    const { orders, customers, list } = targets();
    const totalEvents = [...store.values()].reduce((n, events) => n + events.length, 0);

    // WHEN
    const report = await rebuildViews(optionsFor(store, list));

    // THEN
    expect(report).toEqual({ aggregates: 5, events: totalEvents, applied: totalEvents, invalid: [] });
    expect([...orders.views.keys()].sort()).toEqual(['ord-1', 'ord-2', 'ord-3']);
    expect([...customers.views.keys()].sort()).toEqual(['cus-1', 'cus-2']);
    for (const id of ['ord-1', 'ord-2', 'ord-3'])
      expect(orders.views.get(id)).toEqual(folded(projectOrder, store.get(id) ?? []));
    for (const id of ['cus-1', 'cus-2'])
      expect(customers.views.get(id)).toEqual(folded(projectCustomer, store.get(id) ?? []));

    // AND the folded views are what the commands meant
    expect(orders.views.get('ord-1')).toMatchObject({ version: 4, view: { status: 'SHIPPED', total: 300 } });
    expect(orders.views.get('ord-2')).toMatchObject({ version: 2, view: { status: 'CANCELLED' } });
    expect(customers.views.get('cus-1')).toMatchObject({
      version: 3,
      view: { emailDomain: 'new.example', status: 'INACTIVE', deactivationReason: 'asked' },
    });
  });

  it('GIVEN views already rebuilt WHEN rebuilt again THEN every event is a duplicate and nothing changes', async () => {
    // GIVEN
    const store = eventStore();
    const { orders, customers, list } = targets();
    await rebuildViews(optionsFor(store, list));
    const before = { orders: structuredClone(orders.views), customers: structuredClone(customers.views) };

    // WHEN
    const report = await rebuildViews(optionsFor(store, list));

    // THEN
    expect(report.applied).toBe(0);
    expect(report.aggregates).toBe(5);
    expect(report.invalid).toEqual([]);
    expect(orders.views).toEqual(before.orders);
    expect(customers.views).toEqual(before.customers);
  });

  it('reports progress after each replayed aggregate', async () => {
    const store = eventStore();
    const progress: number[] = [];

    await rebuildViews({
      ...optionsFor(store, targets().list),
      concurrency: 1,
      onProgress: (report) => progress.push(report.aggregates),
    });

    expect(progress).toEqual([1, 2, 3, 4, 5]);
  });

  it('GIVEN an invalid event WHEN rebuilt THEN it is reported and stops only that aggregate', async () => {
    // GIVEN ord-2's second event has data the projection cannot fold, and it has a third event after it
    const store = eventStore();
    const [placed, cancelled] = store.get('ord-2') ?? [];
    if (!placed || !cancelled) throw new Error('ord-2 must have two events');
    const broken = {
      ...cancelled,
      data: { orderId: 'ord-2', reason: '', previousStatus: 'PENDING' },
    } as EventEnvelope;
    const after = createEnvelope(
      { type: 'OrderNoted', data: {} },
      { aggregateType: 'Order', aggregateId: 'ord-2', version: 3, correlationId: 'c', causationId: 'k' },
    );
    store.set('ord-2', [placed, broken, after]);
    const { orders, customers, list } = targets();

    // WHEN
    const report = await rebuildViews(optionsFor(store, list));

    // THEN the invalid event is reported with its version and the field at fault
    expect(report.invalid).toEqual([
      {
        aggregateId: 'ord-2',
        version: 2,
        reason: expect.stringContaining('reason: reason must not be empty'),
      },
    ]);
    expect(report.invalid[0]?.reason).toMatch(/^OrderCancelled evt-ord-2-2 \(order ord-2 v2\)/);

    // AND ord-2 stops at version 1, its third event is never read
    expect(orders.views.get('ord-2')).toMatchObject({ version: 1, view: { status: 'PENDING' } });

    // AND every other aggregate is rebuilt in full
    for (const id of ['ord-1', 'ord-3'])
      expect(orders.views.get(id)).toEqual(folded(projectOrder, store.get(id) ?? []));
    for (const id of ['cus-1', 'cus-2'])
      expect(customers.views.get(id)).toEqual(folded(projectCustomer, store.get(id) ?? []));
    const others = ['ord-1', 'ord-3', 'cus-1', 'cus-2'].reduce(
      (n, id) => n + (store.get(id)?.length ?? 0),
      0,
    );
    expect(report).toMatchObject({ aggregates: 4, events: others + 2, applied: others + 1 });
  });

  it('GIVEN a stream with an unreadable item WHEN rebuilt THEN it is reported at version 0', async () => {
    // GIVEN loading ord-3 fails as a corrupt record
    const store = eventStore();
    const { orders, list } = targets();
    const options = optionsFor(store, list);

    // WHEN
    const report = await rebuildViews({
      ...options,
      loadEvents: async (id) => {
        if (id === 'ord-3') throw new CorruptRecordError(id, 'item ord-3#2 is not an event');
        return options.loadEvents(id);
      },
    });

    // THEN
    expect(report.invalid).toEqual([
      { aggregateId: 'ord-3', version: 0, reason: 'item ord-3#2 is not an event' },
    ]);
    expect(report.aggregates).toBe(4);
    expect(orders.views.has('ord-3')).toBe(false);
    expect(orders.views.get('ord-1')?.version).toBe(4);
  });

  it('lets any other failure end the rebuild', async () => {
    // GIVEN loading ord-2 fails with an I/O error (after a moment, as a network call would)
    const store = eventStore();
    const options = optionsFor(store, targets().list);
    const failure = new Error('table unavailable');

    // WHEN / THEN the rebuild rejects with that error instead of reporting it as invalid
    await expect(
      rebuildViews({
        ...options,
        loadEvents: async (id) => {
          if (id !== 'ord-2') return options.loadEvents(id);
          await sleep(2);
          throw failure;
        },
      }),
    ).rejects.toBe(failure);
  });

  it('skips aggregates no target projects', async () => {
    // GIVEN only the orders projection
    const store = eventStore();
    const orders = new InMemoryViewStore<OrderView>();

    // WHEN
    const report = await rebuildViews(
      optionsFor(store, [{ projection: orderViewProjection, store: orders }] as ProjectionTarget[]),
    );

    // THEN customer events were read but not applied
    const orderEvents = ['ord-1', 'ord-2', 'ord-3'].reduce((n, id) => n + (store.get(id)?.length ?? 0), 0);
    expect(report).toEqual({ aggregates: 5, events: orderEvents + 4, applied: orderEvents, invalid: [] });
  });

  describe('concurrency', () => {
    /** 12 single-event customers whose loads take a few ms each; counts loads in flight. */
    function slowStore() {
      const store = new Map<string, EventEnvelope[]>();
      for (let i = 1; i <= 12; i++) {
        const id = `cus-${i}`;
        store.set(id, streamOf(customerDecider, id, [registerCustomer(id, `c${i}@example.com`)]));
      }
      const counter = { inFlight: 0, max: 0, started: [] as string[] };
      const loadEvents = async (id: string) => {
        counter.inFlight++;
        counter.max = Math.max(counter.max, counter.inFlight);
        counter.started.push(id);
        await sleep(1 + (id.length % 3));
        counter.inFlight--;
        return store.get(id) ?? [];
      };
      return { store, counter, loadEvents };
    }

    it.each([1, 3, 5])('keeps at most %i loads in flight', async (concurrency) => {
      // GIVEN
      const { store, counter, loadEvents } = slowStore();
      const { customers, list } = targets();

      // WHEN
      const report = await rebuildViews({
        aggregateIds: idsOf(store.keys()),
        loadEvents,
        targets: list,
        concurrency,
      });

      // THEN the limit was reached but never exceeded, and every stream was replayed
      expect(counter.max).toBe(concurrency);
      expect(counter.inFlight).toBe(0);
      expect(report).toEqual({ aggregates: 12, events: 12, applied: 12, invalid: [] });
      expect(customers.views.size).toBe(12);
    });

    it('defaults to 8 loads in flight', async () => {
      const { store, counter, loadEvents } = slowStore();

      await rebuildViews({ aggregateIds: idsOf(store.keys()), loadEvents, targets: targets().list });

      expect(counter.max).toBe(8);
    });

    it('with concurrency 1 replays the aggregates in the order they are listed', async () => {
      const { store, counter, loadEvents } = slowStore();

      await rebuildViews({
        aggregateIds: idsOf(store.keys()),
        loadEvents,
        targets: targets().list,
        concurrency: 1,
      });

      expect(counter.started).toEqual([...store.keys()]);
    });
  });
});

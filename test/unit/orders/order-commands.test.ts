import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../lambdas/commons/domain/decider.js';
import type { EventEnvelope } from '../../../lambdas/commons/event-store/envelope.js';
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
import { OrderCommands } from '../../../lambdas/orders/application/order-commands.js';
import { type OrderCommand, orderDecider } from '../../../lambdas/orders/domain/order.js';

/** Test double of the EventStore port: in memory, same conflict rule as the real adapter. */
class FakeEventStore implements EventStore {
  readonly streams = new Map<string, EventEnvelope[]>();
  readonly snapshots = new Map<string, Snapshot[]>();
  appendCalls = 0;

  async load(aggregateId: string, options: LoadOptions = {}): Promise<LoadedEvents> {
    const events = (this.streams.get(aggregateId) ?? []).filter(
      (e) => e.version >= (options.fromVersion ?? 1),
    );
    return { events, itemsRead: events.length };
  }

  async append(aggregateId: string, expectedVersion: number, envelopes: readonly EventEnvelope[]) {
    this.appendCalls++;
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

  typesOf(aggregateId: string): string[] {
    return (this.streams.get(aggregateId) ?? []).map((e) => e.type);
  }
}

const ORDER_ID = 'ord-1';
const items = [
  { sku: 'SKU-A', quantity: 2, unitPrice: 1000 },
  { sku: 'SKU-B', quantity: 1, unitPrice: 500 },
];
const TOTAL = 2500;
const meta = { correlationId: 'corr-1', causationId: 'evt-1' };

const placeOrder: OrderCommand = {
  type: 'PlaceOrder',
  data: { orderId: ORDER_ID, customerId: 'cus-1', items, currency: 'EUR', paymentToken: 'tok_visa' },
};
const reserve: OrderCommand = { type: 'RecordInventoryReserved', data: { reservationId: 'res-1' } };
const paid: OrderCommand = { type: 'RecordPaymentCompleted', data: { paymentId: 'pay-1', amount: TOTAL } };

function setup() {
  const store = new FakeEventStore();
  const repository = new AggregateRepository({
    decider: orderDecider,
    store,
    retry: { sleep: async () => {} },
  });
  return { store, commands: new OrderCommands(repository) };
}

describe('OrderCommands.record', () => {
  it("records a command the order accepts and says 'recorded'", async () => {
    // GIVEN a placed order
    const { store, commands } = setup();
    await expect(commands.record(ORDER_ID, placeOrder, meta)).resolves.toBe('recorded');
    // WHEN inventory is reserved for it
    const outcome = await commands.record(ORDER_ID, reserve, meta);
    // THEN the event is appended with the metadata, and the outcome is 'recorded'
    expect(outcome).toBe('recorded');
    expect(store.typesOf(ORDER_ID)).toEqual(['OrderPlaced', 'InventoryReserved']);
    expect(store.streams.get(ORDER_ID)?.[1]).toMatchObject({
      aggregateType: 'Order',
      aggregateId: ORDER_ID,
      version: 2,
      ...meta,
      data: { orderId: ORDER_ID, reservationId: 'res-1' },
    });
  });

  it("says 'stale' for a transition the order has moved past (INVALID_TRANSITION), appending nothing", async () => {
    // GIVEN a PENDING order (inventory not reserved yet)
    const { store, commands } = setup();
    await commands.record(ORDER_ID, placeOrder, meta);
    const appends = store.appendCalls;
    // WHEN a payment is recorded on it
    const outcome = await commands.record(ORDER_ID, paid, meta);
    // THEN it is stale and the stream is unchanged
    expect(outcome).toBe('stale');
    expect(store.appendCalls).toBe(appends);
    expect(store.typesOf(ORDER_ID)).toEqual(['OrderPlaced']);
  });

  it("says 'stale' for a redelivered outcome that was already recorded", async () => {
    // GIVEN an order whose reservation was already recorded
    const { store, commands } = setup();
    await commands.record(ORDER_ID, placeOrder, meta);
    await commands.record(ORDER_ID, reserve, meta);
    // WHEN the same outcome is recorded again (an at-least-once redelivery)
    const outcome = await commands.record(ORDER_ID, reserve, meta);
    // THEN it is stale and recorded once only
    expect(outcome).toBe('stale');
    expect(store.typesOf(ORDER_ID)).toEqual(['OrderPlaced', 'InventoryReserved']);
  });

  it("says 'stale' for an outcome on an order cancelled meanwhile", async () => {
    // GIVEN a cancelled order
    const { store, commands } = setup();
    await commands.record(ORDER_ID, placeOrder, meta);
    await commands.record(ORDER_ID, { type: 'CancelOrder', data: { reason: 'changed my mind' } }, meta);
    // WHEN inventory reports a reservation for it
    // THEN it is stale
    await expect(commands.record(ORDER_ID, reserve, meta)).resolves.toBe('stale');
    expect(store.typesOf(ORDER_ID)).toEqual(['OrderPlaced', 'OrderCancelled']);
  });

  it("says 'stale' for an order that does not exist (ORDER_NOT_FOUND)", async () => {
    // GIVEN no order
    const { store, commands } = setup();
    // WHEN an outcome is recorded on an unknown id
    const outcome = await commands.record('ord-unknown', reserve, meta);
    // THEN it is stale and nothing is written
    expect(outcome).toBe('stale');
    expect(store.appendCalls).toBe(0);
    expect(store.streams.has('ord-unknown')).toBe(false);
  });

  it('still throws INVALID_COMMAND (a malformed command is a bug, not a stale outcome)', async () => {
    // GIVEN a placed order
    const { store, commands } = setup();
    await commands.record(ORDER_ID, placeOrder, meta);
    // WHEN a command with invalid data is recorded
    const invalid = { type: 'RecordInventoryReserved', data: { reservationId: '' } } as OrderCommand;
    const error = await commands.record(ORDER_ID, invalid, meta).then(
      () => undefined,
      (e: unknown) => e,
    );
    // THEN the DomainError is rethrown and nothing is appended
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('INVALID_COMMAND');
    expect(store.typesOf(ORDER_ID)).toEqual(['OrderPlaced']);
  });

  it('still throws other refusals such as ORDER_EXISTS and PAYMENT_AMOUNT_MISMATCH', async () => {
    // GIVEN an order with inventory reserved
    const { commands } = setup();
    await commands.record(ORDER_ID, placeOrder, meta);
    await commands.record(ORDER_ID, reserve, meta);
    // WHEN it is placed again, or paid the wrong amount
    // THEN the refusals are thrown, not reported as stale
    await expect(commands.record(ORDER_ID, placeOrder, meta)).rejects.toMatchObject({
      name: 'DomainError',
      code: 'ORDER_EXISTS',
    });
    await expect(
      commands.record(
        ORDER_ID,
        { type: 'RecordPaymentCompleted', data: { paymentId: 'p', amount: 1 } },
        meta,
      ),
    ).rejects.toMatchObject({ code: 'PAYMENT_AMOUNT_MISMATCH' });
  });

  it('rethrows errors of the store', async () => {
    // GIVEN a store that fails to append
    const { store, commands } = setup();
    store.append = async () => {
      throw new Error('throttled');
    };
    // WHEN a command is recorded
    // THEN the store's error propagates
    await expect(commands.record(ORDER_ID, placeOrder, meta)).rejects.toThrow('throttled');
  });
});

describe('OrderCommands.load', () => {
  it('returns the state of the order, including the payment token given at placement', async () => {
    // GIVEN an order placed with a payment token, then reserved
    const { commands } = setup();
    await commands.record(ORDER_ID, placeOrder, meta);
    await commands.record(ORDER_ID, reserve, meta);
    // WHEN it is loaded
    const state = await commands.load(ORDER_ID);
    // THEN the state carries what the payment service needs
    expect(state).toMatchObject({
      status: 'INVENTORY_RESERVED',
      orderId: ORDER_ID,
      customerId: 'cus-1',
      items,
      total: TOTAL,
      currency: 'EUR',
      paymentToken: 'tok_visa',
      reservationId: 'res-1',
      paymentId: null,
    });
  });

  it('returns a null payment token for an order placed without one', async () => {
    const { commands } = setup();
    await commands.record(
      ORDER_ID,
      { type: 'PlaceOrder', data: { orderId: ORDER_ID, customerId: 'cus-1', items, currency: 'EUR' } },
      meta,
    );
    expect((await commands.load(ORDER_ID)).paymentToken).toBeNull();
  });

  it('returns the initial state for an unknown order', async () => {
    const { commands } = setup();
    expect(await commands.load('ord-unknown')).toEqual(orderDecider.initialState);
  });
});

import { describe, expect, it } from 'vitest';
import {
  createEnvelope,
  type EventEnvelope,
  Upcasters,
} from '../../../lambdas/commons/event-store/envelope.js';
import { readStoredRecord } from '../../../lambdas/commons/event-store/stored-record.js';
import { InMemoryViewStore } from '../../../lambdas/commons/projection/in-memory-view-store.js';
import {
  InvalidEventError,
  ProjectionGapError,
  type ViewProjection,
} from '../../../lambdas/commons/projection/projection.js';
import {
  type ProjectionTarget,
  StreamProjector,
} from '../../../lambdas/commons/projection/stream-projector.js';

// ---- helpers ------------------------------------------------------------------------------------

/** A view that records what it folded: the event types and the `data` each one carried. */
interface TraceView {
  readonly projection: string;
  readonly seen: readonly { type: string; schemaVersion: number; data: unknown }[];
}

function tracing(name: string, aggregateType: string): ViewProjection<TraceView> {
  return {
    name,
    aggregateType,
    project: (current, event) => ({
      projection: name,
      seen: [
        ...(current?.seen ?? []),
        { type: event.type, schemaVersion: event.schemaVersion, data: event.data },
      ],
    }),
  };
}

function target(projection: ViewProjection<TraceView>) {
  const store = new InMemoryViewStore<TraceView>();
  return { target: { projection, store } as ProjectionTarget, store };
}

function envelope(
  aggregateType: string,
  aggregateId: string,
  version: number,
  type = 'Happened',
  data: unknown = { n: version },
  schemaVersion = 1,
): EventEnvelope {
  return createEnvelope(
    { type, data },
    {
      aggregateType,
      aggregateId,
      version,
      schemaVersion,
      correlationId: 'corr-1',
      causationId: 'cmd-1',
      occurredAt: '2024-05-01T10:00:00.000Z',
      eventId: `evt-${aggregateId}-${version}`,
    },
  );
}

/** As a stream delivers it: the stored item, with its record type. */
const item = (e: EventEnvelope) => ({ ...e, recordType: 'event' });

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

// ---- readStoredRecord ---------------------------------------------------------------------------

describe('readStoredRecord', () => {
  it('reads an envelope item as an event, without the table-only fields', () => {
    const e = envelope('Order', 'o-1', 1);

    expect(readStoredRecord(item(e))).toEqual({ kind: 'event', envelope: e });
  });

  it('classifies an item with recordType snapshot as a snapshot, whatever else it holds', () => {
    expect(readStoredRecord({ recordType: 'snapshot' })).toEqual({ kind: 'snapshot' });
    expect(
      readStoredRecord({ recordType: 'snapshot', aggregateId: 'o-1', version: 5, state: { x: 1 } }),
    ).toEqual({ kind: 'snapshot' });
  });

  it.each([
    ['eventId', { eventId: '' }, /eventId: /],
    ['version', { version: 0 }, /version: /],
    ['schemaVersion', { schemaVersion: 1.5 }, /schemaVersion: /],
    ['occurredAt', { occurredAt: 'yesterday' }, /occurredAt: /],
    ['aggregateType', { aggregateType: undefined }, /aggregateType: /],
  ])('reports an invalid %s by its field name', (_field, patch, reason) => {
    const record = readStoredRecord({ ...item(envelope('Order', 'o-1', 1)), ...patch });

    expect(record.kind).toBe('invalid');
    expect(record).toMatchObject({ reason: expect.stringMatching(/^not an event envelope: /) });
    expect((record as { reason: string }).reason).toMatch(reason);
  });

  it('reports a non-object at the root', () => {
    const record = readStoredRecord(null);
    expect(record.kind).toBe('invalid');
    expect((record as { reason: string }).reason).toMatch(/^not an event envelope: \(root\): /);
  });
});

// ---- StreamProjector ----------------------------------------------------------------------------

describe('StreamProjector', () => {
  it('GIVEN a snapshot item WHEN projected THEN it is skipped and no view is written', async () => {
    // GIVEN
    const orders = target(tracing('orders', 'Order'));
    const projector = new StreamProjector({ targets: [orders.target] });

    // WHEN
    const outcome = await projector.project({
      recordType: 'snapshot',
      aggregateId: 'o-1',
      version: 3,
      state: {},
    });

    // THEN
    expect(outcome).toBe('skipped');
    expect(orders.store.views.size).toBe(0);
  });

  it('GIVEN an item that is not an envelope WHEN projected THEN InvalidEventError names the bad field', async () => {
    // GIVEN an item whose aggregateId is missing and whose version is not an integer
    const projector = new StreamProjector({ targets: [target(tracing('orders', 'Order')).target] });
    const { aggregateId: _dropped, ...rest } = item(envelope('Order', 'o-1', 1));

    // WHEN
    const error = await rejection(projector.project({ ...rest, version: '1' }));

    // THEN it is final (dead-lettered) and says which fields are wrong
    expect(error).toBeInstanceOf(InvalidEventError);
    const message = (error as Error).message;
    expect(message).toMatch(/^not an event envelope: /);
    expect(message).toContain('aggregateId: ');
    expect(message).toContain('version: ');
    expect(message).not.toContain('eventId');
  });

  it('GIVEN an envelope of an aggregate type with no projection WHEN projected THEN it is skipped', async () => {
    // GIVEN
    const orders = target(tracing('orders', 'Order'));
    const projector = new StreamProjector({ targets: [orders.target] });

    // WHEN
    const outcome = await projector.project(item(envelope('Invoice', 'inv-1', 1)));

    // THEN
    expect(outcome).toBe('skipped');
    expect(orders.store.views.size).toBe(0);
  });

  it('routes each envelope to the projections of its aggregate type only', async () => {
    // GIVEN two projections of orders and one of customers
    const orders = target(tracing('orders', 'Order'));
    const orderTotals = target(tracing('order-totals', 'Order'));
    const customers = target(tracing('customers', 'Customer'));
    const projector = new StreamProjector({
      targets: [orders.target, customers.target, orderTotals.target],
    });

    // WHEN an order event and a customer event arrive
    expect(await projector.project(item(envelope('Order', 'o-1', 1, 'OrderPlaced')))).toBe('applied');
    expect(await projector.project(item(envelope('Customer', 'c-1', 1, 'CustomerRegistered')))).toBe(
      'applied',
    );

    // THEN the order is in both order views and the customer only in the customer view
    expect(orders.store.views.get('o-1')).toEqual({
      view: { projection: 'orders', seen: [{ type: 'OrderPlaced', schemaVersion: 1, data: { n: 1 } }] },
      version: 1,
    });
    expect(orderTotals.store.views.get('o-1')?.view.projection).toBe('order-totals');
    expect([...orders.store.views.keys()]).toEqual(['o-1']);
    expect([...orderTotals.store.views.keys()]).toEqual(['o-1']);
    expect(customers.store.views.get('c-1')).toEqual({
      view: {
        projection: 'customers',
        seen: [{ type: 'CustomerRegistered', schemaVersion: 1, data: { n: 1 } }],
      },
      version: 1,
    });
    expect([...customers.store.views.keys()]).toEqual(['c-1']);
  });

  it('reports a redelivered event as a duplicate and an event after a gap as retryable', async () => {
    // GIVEN an order view at version 1
    const orders = target(tracing('orders', 'Order'));
    const projector = new StreamProjector({ targets: [orders.target] });
    await projector.project(item(envelope('Order', 'o-1', 1)));

    // WHEN version 1 comes again, then version 3
    const again = await projector.project(item(envelope('Order', 'o-1', 1)));
    const gap = await rejection(projector.project(item(envelope('Order', 'o-1', 3))));

    // THEN
    expect(again).toBe('duplicate');
    expect(gap).toBeInstanceOf(ProjectionGapError);
    expect(gap).toMatchObject({ projection: 'orders', viewVersion: 1, eventVersion: 3 });
    expect(orders.store.views.get('o-1')?.view.seen).toHaveLength(1);
  });

  it('is applied when any target applies the event, even if another had it already', async () => {
    // GIVEN one target already at version 1 and another that is empty
    const ahead = target(tracing('ahead', 'Order'));
    const behind = target(tracing('behind', 'Order'));
    ahead.store.views.set('o-1', { view: { projection: 'ahead', seen: [] }, version: 1 });
    const projector = new StreamProjector({ targets: [ahead.target, behind.target] });

    // WHEN
    const outcome = await projector.project(item(envelope('Order', 'o-1', 1)));

    // THEN
    expect(outcome).toBe('applied');
    expect(ahead.store.views.get('o-1')?.view.seen).toEqual([]);
    expect(behind.store.views.get('o-1')?.version).toBe(1);
  });

  describe('with upcasters', () => {
    // OrderPlaced v1 { amount: '12.50' } → v2 { cents: 1250 } → v3 { cents, currency: 'EUR' }
    const upcasters = () =>
      new Upcasters()
        .register('OrderPlaced', 1, (data) => ({
          cents: Math.round(Number((data as { amount: string }).amount) * 100),
        }))
        .register('OrderPlaced', 2, (data) => ({ ...(data as object), currency: 'EUR' }));

    it('brings old payloads to the current schema version before projecting', async () => {
      // GIVEN a projector with the upcaster chain
      const orders = target(tracing('orders', 'Order'));
      const projector = new StreamProjector({ targets: [orders.target], upcasters: upcasters() });

      // WHEN a v1 event arrives
      const outcome = await projector.project(
        item(envelope('Order', 'o-1', 1, 'OrderPlaced', { amount: '12.50' }, 1)),
      );

      // THEN the projection saw the v3 payload
      expect(outcome).toBe('applied');
      expect(orders.store.views.get('o-1')?.view.seen).toEqual([
        { type: 'OrderPlaced', schemaVersion: 3, data: { cents: 1250, currency: 'EUR' } },
      ]);
    });

    it('passes current-version payloads and types without upcasters through unchanged', async () => {
      const orders = target(tracing('orders', 'Order'));
      const projector = new StreamProjector({ targets: [orders.target], upcasters: upcasters() });

      await projector.project(
        item(envelope('Order', 'o-1', 1, 'OrderPlaced', { cents: 5, currency: 'USD' }, 3)),
      );
      await projector.project(item(envelope('Order', 'o-1', 2, 'OrderShipped', { carrier: 'DHL' }, 1)));

      expect(orders.store.views.get('o-1')?.view.seen).toEqual([
        { type: 'OrderPlaced', schemaVersion: 3, data: { cents: 5, currency: 'USD' } },
        { type: 'OrderShipped', schemaVersion: 1, data: { carrier: 'DHL' } },
      ]);
    });

    it('GIVEN a missing upcaster WHEN projecting THEN InvalidEventError and no view is written', async () => {
      // GIVEN a chain with a hole: v2 → v3 is registered, v1 → v2 is not
      const orders = target(tracing('orders', 'Order'));
      const holed = new Upcasters().register('OrderPlaced', 2, (data) => data);
      const projector = new StreamProjector({ targets: [orders.target], upcasters: holed });

      // WHEN a v1 event arrives
      const error = await rejection(
        projector.project(item(envelope('Order', 'o-1', 1, 'OrderPlaced', { amount: '1.00' }, 1))),
      );

      // THEN
      expect(error).toBeInstanceOf(InvalidEventError);
      expect((error as Error).message).toBe('No upcaster for OrderPlaced v1 → v2');
      expect(orders.store.views.size).toBe(0);
    });

    it('GIVEN an event newer than the code WHEN projecting THEN InvalidEventError', async () => {
      const orders = target(tracing('orders', 'Order'));
      const projector = new StreamProjector({ targets: [orders.target], upcasters: upcasters() });

      const error = await rejection(
        projector.project(item(envelope('Order', 'o-1', 1, 'OrderPlaced', {}, 4))),
      );

      expect(error).toBeInstanceOf(InvalidEventError);
      expect((error as Error).message).toBe('OrderPlaced v4 is newer than this code knows (v3)');
    });

    it('does not upcast envelopes no projection wants', async () => {
      // GIVEN an upcaster that would fail
      const failing = new Upcasters().register('CustomerRegistered', 1, () => {
        throw new Error('must not run');
      });
      const projector = new StreamProjector({
        targets: [target(tracing('orders', 'Order')).target],
        upcasters: failing,
      });

      // WHEN a customer event arrives THEN it is skipped without upcasting
      expect(await projector.project(item(envelope('Customer', 'c-1', 1, 'CustomerRegistered')))).toBe(
        'skipped',
      );
    });
  });
});

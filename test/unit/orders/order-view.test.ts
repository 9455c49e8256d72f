import { describe, expect, it } from 'vitest';
import { createEnvelope, type EventEnvelope } from '../../../lambdas/commons/event-store/envelope.js';
import { InvalidEventError } from '../../../lambdas/commons/projection/projection.js';
import {
  ORDER_AGGREGATE_TYPE,
  type OrderCommand,
  type OrderEvent,
  type OrderState,
  orderDecider,
} from '../../../lambdas/orders/domain/order.js';
import {
  type OrderView,
  orderViewProjection,
  projectOrder,
} from '../../../lambdas/orders/read-model/order-view.js';

// ---- helpers ------------------------------------------------------------------------------------

const ORDER_ID = 'ord-1';
const items = [
  { sku: 'SKU-A', quantity: 2, unitPrice: 1999 },
  { sku: 'SKU-B', quantity: 1, unitPrice: 350 },
];
const TOTAL = 2 * 1999 + 350;

/** Event n occurs at minute n. */
const at = (version: number) => `2024-05-01T10:${String(version).padStart(2, '0')}:00.000Z`;

const envelopeOf = (event: { type: string; data: unknown }, version: number): EventEnvelope =>
  createEnvelope(event, {
    aggregateType: ORDER_AGGREGATE_TYPE,
    aggregateId: ORDER_ID,
    version,
    correlationId: 'corr-1',
    causationId: `cmd-${version}`,
    occurredAt: at(version),
    eventId: `evt-${version}`,
  });

/**
 * Runs commands through the decider and the projection side by side: the envelopes it stored, the
 * decider's state and the view after each step.
 */
function run(commands: readonly OrderCommand[]) {
  let state: OrderState = orderDecider.initialState;
  let view: OrderView | undefined;
  const envelopes: EventEnvelope[] = [];
  for (const command of commands) {
    for (const event of orderDecider.decide(state, command)) {
      const envelope = envelopeOf(event, envelopes.length + 1);
      envelopes.push(envelope);
      state = orderDecider.evolve(state, event as OrderEvent);
      view = projectOrder(view, envelope);
    }
  }
  if (!view) throw new Error('no events were decided');
  return { state, view, envelopes };
}

/** The view fields the decider's state also has must agree with it. */
function expectAgreement(view: OrderView, state: OrderState) {
  expect(view.status).toBe(state.status);
  expect(view.orderId).toBe(state.orderId);
  expect(view.customerId).toBe(state.customerId);
  expect(view.items).toEqual(state.items);
  expect(view.total).toBe(state.total);
  expect(view.currency).toBe(state.currency);
  expect(view.reason ?? null).toBe(state.reason);
  expect(view.reservationId ?? null).toBe(state.reservationId);
  expect(view.paymentId ?? null).toBe(state.paymentId);
  expect(view.shipmentId ?? null).toBe(state.shipmentId);
  expect(view.carrier ?? null).toBe(state.carrier);
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the projection to refuse the event');
}

const place: OrderCommand = {
  type: 'PlaceOrder',
  data: { orderId: ORDER_ID, customerId: 'cus-1', items, currency: 'EUR' },
};
const reserve: OrderCommand = { type: 'RecordInventoryReserved', data: { reservationId: 'res-1' } };
const reject: OrderCommand = { type: 'RecordInventoryRejected', data: { reason: 'out of stock' } };
const pay: OrderCommand = { type: 'RecordPaymentCompleted', data: { paymentId: 'pay-1', amount: TOTAL } };
const failPayment: OrderCommand = { type: 'RecordPaymentFailed', data: { reason: 'card declined' } };
const ship: OrderCommand = { type: 'ShipOrder', data: { shipmentId: 'shp-1', carrier: 'DHL' } };
const cancel: OrderCommand = { type: 'CancelOrder', data: { reason: 'customer asked' } };

const placedView: OrderView = {
  orderId: ORDER_ID,
  customerId: 'cus-1',
  status: 'PENDING',
  items,
  total: TOTAL,
  currency: 'EUR',
  placedAt: at(1),
  updatedAt: at(1),
};

// ---- every event type ---------------------------------------------------------------------------

describe('projectOrder', () => {
  it('is the orders projection of the Order aggregate', () => {
    expect(orderViewProjection).toMatchObject({ name: 'orders', aggregateType: 'Order' });
    expect(orderViewProjection.project).toBe(projectOrder);
  });

  it('GIVEN no view WHEN OrderPlaced THEN a PENDING view with total, currency and placedAt', () => {
    // WHEN
    const { state, view } = run([place]);

    // THEN
    expect(view).toEqual(placedView);
    expectAgreement(view, state);
  });

  it('GIVEN PENDING WHEN InventoryReserved THEN INVENTORY_RESERVED with the reservation id', () => {
    const { state, view } = run([place, reserve]);

    expect(view).toEqual({
      ...placedView,
      status: 'INVENTORY_RESERVED',
      reservationId: 'res-1',
      updatedAt: at(2),
    });
    expectAgreement(view, state);
  });

  it('GIVEN PENDING WHEN InventoryRejected THEN REJECTED with the reason', () => {
    const { state, view } = run([place, reject]);

    expect(view).toEqual({ ...placedView, status: 'REJECTED', reason: 'out of stock', updatedAt: at(2) });
    expectAgreement(view, state);
  });

  it('GIVEN INVENTORY_RESERVED WHEN PaymentCompleted THEN PAID with the payment id', () => {
    const { state, view } = run([place, reserve, pay]);

    expect(view).toEqual({
      ...placedView,
      status: 'PAID',
      reservationId: 'res-1',
      paymentId: 'pay-1',
      updatedAt: at(3),
    });
    expectAgreement(view, state);
  });

  it('GIVEN INVENTORY_RESERVED WHEN PaymentFailed THEN PAYMENT_FAILED with the reason', () => {
    const { state, view } = run([place, reserve, failPayment]);

    expect(view).toEqual({
      ...placedView,
      status: 'PAYMENT_FAILED',
      reservationId: 'res-1',
      reason: 'card declined',
      updatedAt: at(3),
    });
    expectAgreement(view, state);
  });

  it('GIVEN PAID WHEN OrderShipped with a carrier THEN SHIPPED with shipment id and carrier', () => {
    const { state, view, envelopes } = run([place, reserve, pay, ship]);

    expect(view).toEqual({
      ...placedView,
      status: 'SHIPPED',
      reservationId: 'res-1',
      paymentId: 'pay-1',
      shipmentId: 'shp-1',
      carrier: 'DHL',
      placedAt: at(1),
      updatedAt: at(4),
    });
    expectAgreement(view, state);
    expect(envelopes.map((e) => e.type)).toEqual([
      'OrderPlaced',
      'InventoryReserved',
      'PaymentCompleted',
      'OrderShipped',
    ]);
  });

  it('GIVEN PAID WHEN OrderShipped without a carrier THEN SHIPPED with no carrier field', () => {
    const { state, view } = run([place, reserve, pay, { type: 'ShipOrder', data: { shipmentId: 'shp-2' } }]);

    expect(view.status).toBe('SHIPPED');
    expect(view.shipmentId).toBe('shp-2');
    expect(view).not.toHaveProperty('carrier');
    expectAgreement(view, state);
  });

  it.each([
    ['PENDING', [place]],
    ['INVENTORY_RESERVED', [place, reserve]],
    ['PAYMENT_FAILED', [place, reserve, failPayment]],
  ] as const)('GIVEN %s WHEN OrderCancelled THEN CANCELLED with the reason', (_from, history) => {
    const { state, view, envelopes } = run([...history, cancel]);

    expect(view.status).toBe('CANCELLED');
    expect(view.reason).toBe('customer asked');
    expect(view.updatedAt).toBe(at(envelopes.length));
    expect(view.placedAt).toBe(at(1));
    expectAgreement(view, state);
  });

  it('keeps the reservation id of a cancelled reserved order', () => {
    const { view } = run([place, reserve, cancel]);

    expect(view).toEqual({
      ...placedView,
      status: 'CANCELLED',
      reservationId: 'res-1',
      reason: 'customer asked',
      updatedAt: at(3),
    });
  });

  it('does not change the view it is given', () => {
    // GIVEN a frozen PENDING view
    const before = Object.freeze({ ...placedView });

    // WHEN the next event is projected
    const after = projectOrder(
      before,
      envelopeOf({ type: 'InventoryReserved', data: { orderId: ORDER_ID, reservationId: 'r' } }, 2),
    );

    // THEN a new view came out and the old one is intact
    expect(after).not.toBe(before);
    expect(before).toEqual(placedView);
  });

  // ---- refusals ---------------------------------------------------------------------------------

  it.each([
    ['InventoryReserved', { orderId: ORDER_ID, reservationId: 'res-1' }],
    ['InventoryRejected', { orderId: ORDER_ID, reason: 'out of stock' }],
    ['PaymentCompleted', { orderId: ORDER_ID, paymentId: 'p', amount: 1, currency: 'EUR' }],
    ['PaymentFailed', { orderId: ORDER_ID, reason: 'declined' }],
    ['OrderShipped', { orderId: ORDER_ID, shipmentId: 's' }],
    ['OrderCancelled', { orderId: ORDER_ID, reason: 'r', previousStatus: 'PENDING' }],
    ['OrderArchived', {}],
  ])('GIVEN no view WHEN %s THEN InvalidEventError: it precedes OrderPlaced', (type, data) => {
    // WHEN
    const error = caught(() => projectOrder(undefined, envelopeOf({ type, data }, 1)));

    // THEN
    expect(error).toBeInstanceOf(InvalidEventError);
    expect((error as Error).message).toBe(`${type} evt-1 (order ${ORDER_ID} v1) precedes OrderPlaced`);
  });

  it.each([
    [
      'OrderPlaced',
      {
        orderId: ORDER_ID,
        customerId: 'cus-1',
        items: [{ sku: 'A', quantity: 0, unitPrice: 1 }],
        total: 0,
        currency: 'EUR',
      },
      'items.0.quantity: quantity must be at least 1',
    ],
    [
      'OrderPlaced',
      { orderId: ORDER_ID, customerId: 'cus-1', items, total: TOTAL, currency: 'eur' },
      'currency: currency must be an ISO 4217 code',
    ],
    ['InventoryReserved', { orderId: ORDER_ID }, 'reservationId: reservationId is required'],
    ['InventoryRejected', { orderId: ORDER_ID, reason: 7 }, 'reason: reason must be a string'],
    [
      'PaymentCompleted',
      { orderId: ORDER_ID, paymentId: 'p', amount: -1, currency: 'EUR' },
      'amount: amount must not be negative',
    ],
    ['PaymentFailed', { orderId: ORDER_ID, reason: '  ' }, 'reason: reason must not be empty'],
    ['OrderShipped', { orderId: ORDER_ID, shipmentId: 's', carrier: 5 }, 'carrier: carrier must be a string'],
    ['OrderCancelled', { orderId: ORDER_ID, reason: 'r', previousStatus: 'PAID' }, 'previousStatus: '],
  ])(
    'GIVEN bad %s data WHEN projected THEN InvalidEventError names the field path',
    (type, data, expected) => {
      // GIVEN no view for OrderPlaced, a PENDING view otherwise (so only the data can be wrong)
      const version = type === 'OrderPlaced' ? 1 : 2;

      // WHEN
      const error = caught(() =>
        projectOrder(type === 'OrderPlaced' ? undefined : placedView, envelopeOf({ type, data }, version)),
      );

      // THEN
      expect(error).toBeInstanceOf(InvalidEventError);
      const message = (error as Error).message;
      expect(message.startsWith(`${type} evt-${version} (order ${ORDER_ID} v${version}): `)).toBe(true);
      expect(message).toContain(expected);
    },
  );

  it('refuses event data with an unknown field', () => {
    const error = caught(() =>
      projectOrder(
        placedView,
        envelopeOf({ type: 'PaymentFailed', data: { orderId: ORDER_ID, reason: 'x', extra: 1 } }, 2),
      ),
    );

    expect(error).toBeInstanceOf(InvalidEventError);
    expect((error as Error).message).toContain('extra');
  });

  it('GIVEN a view WHEN an unknown event type THEN only updatedAt moves', () => {
    // GIVEN
    const { view } = run([place, reserve]);

    // WHEN
    const after = projectOrder(view, envelopeOf({ type: 'OrderGiftWrapped', data: { paper: 'red' } }, 3));

    // THEN
    expect(after).toEqual({ ...view, updatedAt: at(3) });
  });
});

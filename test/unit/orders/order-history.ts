/**
 * Test fixtures for the consumers' guards: an order's history as named events, loaded the way a
 * consumer loads it (state, version, event identities `e<version>`), and events as received.
 */
import type { LoadedOrder, OrderEvent, ReceivedOrderEvent } from '../../../lambdas/orders/domain/order.js';
import { orderDecider } from '../../../lambdas/orders/domain/order.js';

export const ORDER_ID = 'ord-1';
export const ITEMS = [
  { sku: 'A', quantity: 2, unitPrice: 100 },
  { sku: 'B', quantity: 1, unitPrice: 50 },
  { sku: 'A', quantity: 1, unitPrice: 100 },
];
export const TOTAL = 350;

export const ORDER_EVENTS = {
  placed: {
    type: 'OrderPlaced',
    data: {
      orderId: ORDER_ID,
      customerId: 'c',
      items: ITEMS,
      total: TOTAL,
      currency: 'EUR',
      paymentToken: 'tok',
    },
  },
  placedWithoutToken: {
    type: 'OrderPlaced',
    data: { orderId: ORDER_ID, customerId: 'c', items: ITEMS, total: TOTAL, currency: 'EUR' },
  },
  reserved: { type: 'InventoryReserved', data: { orderId: ORDER_ID, reservationId: ORDER_ID } },
  rejected: { type: 'InventoryRejected', data: { orderId: ORDER_ID, reason: 'short' } },
  paid: {
    type: 'PaymentCompleted',
    data: { orderId: ORDER_ID, paymentId: 'p', amount: TOTAL, currency: 'EUR' },
  },
  failed: { type: 'PaymentFailed', data: { orderId: ORDER_ID, reason: 'declined' } },
  shipped: { type: 'OrderShipped', data: { orderId: ORDER_ID, shipmentId: 's' } },
  cancelled: {
    type: 'OrderCancelled',
    data: { orderId: ORDER_ID, reason: 'asked', previousStatus: 'PENDING' },
  },
} as const satisfies Record<string, OrderEvent>;
export type OrderEventName = keyof typeof ORDER_EVENTS;

/** GIVEN these events: the order as a consumer loads it from the event store. */
export function orderAfter(...names: OrderEventName[]): LoadedOrder {
  const events = names.map((n) => ORDER_EVENTS[n] as OrderEvent);
  return {
    state: events.reduce(orderDecider.evolve, orderDecider.initialState),
    version: events.length,
    replayed: events.map((e, i) => ({ eventId: `e${i + 1}`, type: e.type, version: i + 1 })),
  };
}

/** WHEN this arrives: an event claiming to be `version` of the order (genuine with the default id). */
export const received = (type: string, version: number, eventId = `e${version}`): ReceivedOrderEvent => ({
  eventId,
  type,
  aggregateId: ORDER_ID,
  version,
});

/** The DomainError code a guard refuses with, or undefined when it decides. */
export function refusal(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'string') throw error;
    return code;
  }
}

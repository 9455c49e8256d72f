/**
 * The reservation's guards, given/when/then: GIVEN the order's events (as the event store has
 * them) and the reservation's past, WHEN an event arrives (genuine, duplicate, stale or forged),
 * THEN what the reservation decides, or the refusal that makes the event a logged no-op.
 */
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../lambdas/commons/domain/decider.js';
import {
  initialReservationState,
  type ReservationEvent,
  type ReservationState,
  reservationDecider,
  stockLinesOf,
} from '../../../lambdas/inventory/domain/reservation.js';
import {
  type LoadedOrder,
  type OrderEvent,
  orderDecider,
  type ReceivedOrderEvent,
} from '../../../lambdas/orders/domain/order.js';

const ORDER_ID = 'ord-1';
const items = [
  { sku: 'A', quantity: 2, unitPrice: 100 },
  { sku: 'B', quantity: 1, unitPrice: 50 },
  { sku: 'A', quantity: 1, unitPrice: 100 },
];
const EVENTS = {
  placed: {
    type: 'OrderPlaced',
    data: { orderId: ORDER_ID, customerId: 'c', items, total: 350, currency: 'EUR', paymentToken: 'tok' },
  },
  reserved: { type: 'InventoryReserved', data: { orderId: ORDER_ID, reservationId: ORDER_ID } },
  rejected: { type: 'InventoryRejected', data: { orderId: ORDER_ID, reason: 'short' } },
  paid: {
    type: 'PaymentCompleted',
    data: { orderId: ORDER_ID, paymentId: 'p', amount: 350, currency: 'EUR' },
  },
  failed: { type: 'PaymentFailed', data: { orderId: ORDER_ID, reason: 'declined' } },
  shipped: { type: 'OrderShipped', data: { orderId: ORDER_ID, shipmentId: 's' } },
  cancelled: {
    type: 'OrderCancelled',
    data: { orderId: ORDER_ID, reason: 'asked', previousStatus: 'PENDING' },
  },
} as const satisfies Record<string, OrderEvent>;
type Name = keyof typeof EVENTS;

/** The order after `names`, with event ids `e<version>`, as a consumer loads it. */
function orderAfter(...names: Name[]): LoadedOrder {
  const events = names.map((n) => EVENTS[n] as OrderEvent);
  return {
    state: events.reduce(orderDecider.evolve, orderDecider.initialState),
    version: events.length,
    replayed: events.map((e, i) => ({ eventId: `e${i + 1}`, type: e.type, version: i + 1 })),
  };
}
const received = (type: string, version: number, eventId = `e${version}`): ReceivedOrderEvent => ({
  eventId,
  type,
  aggregateId: ORDER_ID,
  version,
});

const given = (...past: ReservationEvent[]) => {
  const state = past.reduce(reservationDecider.evolve, initialReservationState);
  return {
    state,
    when: (command: Parameters<typeof reservationDecider.decide>[1]) => {
      try {
        const events = reservationDecider.decide(state, command);
        return { events, state: events.reduce(reservationDecider.evolve, state), code: undefined };
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        return { events: [], state, code: error.code };
      }
    },
  };
};
const reservedLines = stockLinesOf(items);
const stockReserved: ReservationEvent = {
  type: 'StockReserved',
  data: { orderId: ORDER_ID, items: reservedLines },
};
const stockReleased: ReservationEvent = {
  type: 'StockReleased',
  data: { orderId: ORDER_ID, items: reservedLines, orderStatus: 'CANCELLED' },
};

describe('reservation: reserve', () => {
  it('GIVEN a pending order and no reservation WHEN its OrderPlaced THEN the order’s items are reserved, one line per SKU', () => {
    const then = given().when({
      type: 'Reserve',
      order: orderAfter('placed'),
      trigger: received('OrderPlaced', 1),
    });
    expect(then.events).toEqual([
      {
        type: 'StockReserved',
        data: {
          orderId: ORDER_ID,
          items: [
            { sku: 'A', quantity: 3 },
            { sku: 'B', quantity: 1 },
          ],
        },
      },
    ]);
    expect(then.state).toEqual<ReservationState>({ status: 'RESERVED', items: reservedLines });
  });

  it('GIVEN the stock taken but not recorded (a crash) WHEN OrderPlaced again THEN nothing more is taken (the consumer records it)', () => {
    const then = given(stockReserved).when({
      type: 'Reserve',
      order: orderAfter('placed'),
      trigger: received('OrderPlaced', 1),
    });
    expect(then).toMatchObject({ events: [], code: undefined, state: { status: 'RESERVED' } });
  });

  it.each([
    ['reserved', ['placed', 'reserved']],
    ['shipped', ['placed', 'reserved', 'paid', 'shipped']],
    ['rejected', ['placed', 'rejected']],
    ['cancelled', ['placed', 'cancelled']],
  ] as [string, Name[]][])(
    'GIVEN a %s order WHEN its OrderPlaced is redelivered THEN nothing is reserved (ORDER_NOT_PENDING)',
    (_, history) => {
      for (const past of [[], [stockReserved], [stockReserved, stockReleased]]) {
        const then = given(...past).when({
          type: 'Reserve',
          order: orderAfter(...history),
          trigger: received('OrderPlaced', 1),
        });
        expect(then.code).toBe('ORDER_NOT_PENDING');
        expect(then.events).toEqual([]);
      }
    },
  );

  it('GIVEN a reservation closed by an early release WHEN OrderPlaced of a still pending order THEN nothing is taken', () => {
    const closed: ReservationEvent = {
      type: 'StockReleased',
      data: { orderId: ORDER_ID, items: [], orderStatus: 'CANCELLED' },
    };
    const then = given(closed).when({
      type: 'Reserve',
      order: orderAfter('placed'),
      trigger: received('OrderPlaced', 1),
    });
    expect(then.code).toBe('RESERVATION_CLOSED');
  });

  it('GIVEN no such order in the event store WHEN a (forged) OrderPlaced THEN nothing is reserved (ORDER_UNKNOWN)', () => {
    const then = given().when({ type: 'Reserve', order: orderAfter(), trigger: received('OrderPlaced', 1) });
    expect(then.code).toBe('ORDER_UNKNOWN');
  });

  it.each([
    ['another event id', received('OrderPlaced', 1, 'forged')],
    ['a version beyond the stream', received('OrderPlaced', 2)],
    ['another type at that version', received('OrderCancelled', 1)],
    ['another order', { ...received('OrderPlaced', 1), aggregateId: 'ord-2' }],
  ])(
    'GIVEN a pending order WHEN an OrderPlaced with %s arrives THEN nothing is reserved (EVENT_NOT_IN_STREAM)',
    (_, trigger) => {
      const then = given().when({ type: 'Reserve', order: orderAfter('placed'), trigger });
      expect(then.code).toBe('EVENT_NOT_IN_STREAM');
    },
  );
});

describe('reservation: release', () => {
  it.each([
    ['cancelled', ['placed', 'reserved', 'cancelled'], 'OrderCancelled', 3],
    ['payment-failed', ['placed', 'reserved', 'failed'], 'PaymentFailed', 3],
    [
      'failed, then cancelled (the PaymentFailed comes late)',
      ['placed', 'reserved', 'failed', 'cancelled'],
      'PaymentFailed',
      3,
    ],
  ] as [string, Name[], string, number][])(
    'GIVEN a reserved stock and a %s order WHEN its event THEN what was taken goes back, once',
    (_, history, type, version) => {
      const first = given(stockReserved).when({
        type: 'Release',
        order: orderAfter(...history),
        trigger: received(type, version),
      });
      expect(first.events).toEqual([
        {
          type: 'StockReleased',
          data: { orderId: ORDER_ID, items: reservedLines, orderStatus: orderAfter(...history).state.status },
        },
      ]);
      expect(first.state.status).toBe('RELEASED');
      // WHEN the same event (or the other one) comes again THEN nothing more goes back
      const again = given(stockReserved, ...first.events).when({
        type: 'Release',
        order: orderAfter(...history),
        trigger: received(type, version),
      });
      expect(again).toMatchObject({ code: 'ALREADY_RELEASED', events: [] });
    },
  );

  it.each([
    ['shipped', ['placed', 'reserved', 'paid', 'shipped']],
    ['paid', ['placed', 'reserved', 'paid']],
    ['reserved', ['placed', 'reserved']],
    ['pending', ['placed']],
  ] as [string, Name[]][])(
    'GIVEN a %s order WHEN a stale or forged OrderCancelled THEN its stock stays taken (ORDER_NOT_RELEASABLE)',
    (_, history) => {
      const then = given(stockReserved).when({
        type: 'Release',
        order: orderAfter(...history),
        trigger: received('OrderCancelled', history.length),
      });
      // A forged one fails the stream check, a stale one (the right id) the status check: either way, no effect.
      expect(['ORDER_NOT_RELEASABLE', 'EVENT_NOT_IN_STREAM']).toContain(then.code);
      expect(then.events).toEqual([]);
      const compensation = given(stockReserved).when({ type: 'Release', order: orderAfter(...history) });
      expect(compensation.code).toBe('ORDER_NOT_RELEASABLE');
    },
  );

  it('GIVEN an order cancelled before its stock was reserved WHEN its OrderCancelled THEN the reservation is closed, nothing given back', () => {
    const then = given().when({
      type: 'Release',
      order: orderAfter('placed', 'cancelled'),
      trigger: received('OrderCancelled', 2),
    });
    expect(then.events).toEqual([
      { type: 'StockReleased', data: { orderId: ORDER_ID, items: [], orderStatus: 'CANCELLED' } },
    ]);
    expect(then.state).toEqual({ status: 'RELEASED', items: [] });
  });

  it('GIVEN a rejected order whose stock a concurrent delivery took WHEN the consumer compensates THEN it goes back', () => {
    const then = given(stockReserved).when({ type: 'Release', order: orderAfter('placed', 'rejected') });
    expect(then.events.map((e) => e.type)).toEqual(['StockReleased']);
  });

  it('GIVEN a cancelled order WHEN an OrderCancelled with another event id THEN nothing is released', () => {
    const then = given(stockReserved).when({
      type: 'Release',
      order: orderAfter('placed', 'reserved', 'cancelled'),
      trigger: received('OrderCancelled', 3, 'forged'),
    });
    expect(then.code).toBe('EVENT_NOT_IN_STREAM');
  });
});

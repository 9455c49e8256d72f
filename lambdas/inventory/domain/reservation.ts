/**
 * The reservation of an order's stock, as a small state machine: a decider whose state is stored
 * (the order's reservation item in the inventory table), not event-sourced.
 *
 *   NONE ─Reserve→ RESERVED ─Release→ RELEASED
 *     └──────Release (nothing was taken)─────┘
 *
 * A reservation is never deleted: RELEASED is final, so no redelivered or forged OrderPlaced can
 * reserve an order's stock a second time, and a release that came first (the order was cancelled
 * while its OrderPlaced was still queued) closes the reservation before anything is taken.
 *
 * Every decision is taken on the order's current state as the event store knows it, never on the
 * message alone:
 * - Reserve: the trigger must be an event of the order's stream (`assertEventOfOrder`: an unknown
 *   order or a forged event reserves nothing), the order must still be PENDING (its reservation
 *   not yet recorded), and the items come from the order, not from the message. RESERVED already
 *   and still PENDING decides nothing to take: the earlier attempt took the stock but did not
 *   record it on the order (a crash), so the consumer records it now.
 * - Release: only an order that ended without shipping (CANCELLED, PAYMENT_FAILED, REJECTED) is
 *   released; a stale OrderCancelled or PaymentFailed of an order that went on (PAID, SHIPPED) or a
 *   forged one releases nothing.
 * A refused command throws a DomainError; the consumer logs it and does nothing else.
 * Pure: nothing from AWS or Lambda.
 */
import { type Decider, DomainError, type DomainEvent } from '../../commons/domain/decider.js';
import {
  assertEventOfOrder,
  type LoadedOrder,
  type OrderStatus,
  type ReceivedOrderEvent,
} from '../../orders/domain/order.js';

export const RESERVATION_STATUSES = ['NONE', 'RESERVED', 'RELEASED'] as const;
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];

export interface StockLine {
  readonly sku: string;
  readonly quantity: number;
}

export interface ReservationState {
  readonly status: ReservationStatus;
  /** What the reservation took from stock (what a release gives back); empty when nothing was. */
  readonly items: readonly StockLine[];
}

export const initialReservationState: ReservationState = { status: 'NONE', items: [] };

export type ReservationCommand =
  | { readonly type: 'Reserve'; readonly order: LoadedOrder; readonly trigger: ReceivedOrderEvent }
  /** `trigger` is absent when the consumer compensates its own reservation (the order moved on). */
  | { readonly type: 'Release'; readonly order: LoadedOrder; readonly trigger?: ReceivedOrderEvent };

export type StockReserved = DomainEvent<'StockReserved', { orderId: string; items: readonly StockLine[] }>;
export type StockReleased = DomainEvent<
  'StockReleased',
  { orderId: string; items: readonly StockLine[]; orderStatus: OrderStatus }
>;
export type ReservationEvent = StockReserved | StockReleased;

/** Orders that ended without shipping: their stock goes back. */
export const RELEASABLE_ORDER_STATUSES: readonly OrderStatus[] = ['CANCELLED', 'PAYMENT_FAILED', 'REJECTED'];

/** One line per SKU (an order may list a SKU twice; a transaction may touch an item once). */
export function stockLinesOf(items: readonly StockLine[]): StockLine[] {
  const bySku = new Map<string, number>();
  for (const { sku, quantity } of items) bySku.set(sku, (bySku.get(sku) ?? 0) + quantity);
  return [...bySku].map(([sku, quantity]) => ({ sku, quantity }));
}

function decide(state: ReservationState, command: ReservationCommand): readonly ReservationEvent[] {
  const { order } = command;
  if (command.trigger) assertEventOfOrder(order, command.trigger);
  const orderId = order.state.orderId;
  if (orderId === null) throw new DomainError('ORDER_UNKNOWN', `${command.type}: the order does not exist`);
  const status = order.state.status;
  switch (command.type) {
    case 'Reserve': {
      if (status !== 'PENDING') {
        throw new DomainError(
          'ORDER_NOT_PENDING',
          `Reserve: order ${orderId} is ${status}: its reservation was decided already`,
        );
      }
      if (state.status === 'RELEASED') {
        throw new DomainError(
          'RESERVATION_CLOSED',
          `Reserve: the reservation of order ${orderId} is released`,
        );
      }
      if (state.status === 'RESERVED') return [];
      return [{ type: 'StockReserved', data: { orderId, items: stockLinesOf(order.state.items) } }];
    }
    case 'Release': {
      if (!RELEASABLE_ORDER_STATUSES.includes(status)) {
        throw new DomainError(
          'ORDER_NOT_RELEASABLE',
          `Release: order ${orderId} is ${status}: its stock stays taken (releasable when ${RELEASABLE_ORDER_STATUSES.join(', ')})`,
        );
      }
      if (state.status === 'RELEASED') {
        throw new DomainError(
          'ALREADY_RELEASED',
          `Release: the reservation of order ${orderId} is released already`,
        );
      }
      return [{ type: 'StockReleased', data: { orderId, items: state.items, orderStatus: status } }];
    }
    default: {
      const unknown: never = command;
      throw new DomainError(
        'UNKNOWN_COMMAND',
        `Unknown reservation command: ${String((unknown as { type?: unknown }).type)}`,
      );
    }
  }
}

function evolve(state: ReservationState, event: ReservationEvent): ReservationState {
  switch (event.type) {
    case 'StockReserved':
      return { status: 'RESERVED', items: event.data.items };
    case 'StockReleased':
      return { status: 'RELEASED', items: state.items };
    default:
      return state;
  }
}

export const reservationDecider: Decider<ReservationState, ReservationCommand, ReservationEvent> = {
  aggregateType: 'Reservation',
  initialState: initialReservationState,
  decide,
  evolve,
};

/**
 * Inventory stock and reservations: the port the inventory service uses. Pure: no AWS, no Lambda.
 * What to reserve or release is decided by `reservation.ts`; the store applies a decision
 * atomically and only from the reservation state it was decided on (a concurrent decision makes
 * it answer `conflict`, and the consumer decides again on what is stored now).
 */
import type { ReservationState, StockLine } from './reservation.js';

export type ReserveOutcome =
  | { readonly kind: 'reserved' }
  /** The reservation was decided meanwhile (a concurrent delivery): nothing was taken. */
  | { readonly kind: 'conflict' }
  | { readonly kind: 'insufficient'; readonly sku: string };

/** `conflict`: the reservation is no longer in the state the release was decided on. */
export type ReleaseOutcome = 'released' | 'conflict';

export interface StockStore {
  /** The reservation of an order (NONE when there is none), read consistently. */
  reservation(reservationId: string): Promise<ReservationState>;
  /**
   * NONE → RESERVED: takes every line's quantity from stock, all or none, never below zero, and
   * records the reservation with what it took.
   */
  reserve(reservationId: string, items: readonly StockLine[]): Promise<ReserveOutcome>;
  /**
   * → RELEASED from `from` (the state the release was decided on): gives back what a RESERVED
   * reservation took; from NONE, records a closed reservation that took nothing.
   */
  release(reservationId: string, from: ReservationState): Promise<ReleaseOutcome>;
  /** Sets a SKU's available quantity (stock intake, administration). */
  setAvailable(sku: string, available: number): Promise<void>;
}

/** The reservation of an order is keyed by the order: one reservation per order, ever. */
export const reservationIdOf = (orderId: string): string => orderId;

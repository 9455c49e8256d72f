/**
 * Inventory reservations: the port the inventory service uses and what it decides from the
 * outcome. Pure: no AWS, no Lambda.
 */
import type { OrderItem } from '../../orders/domain/order.js';

export type ReserveOutcome =
  | { readonly kind: 'reserved' }
  /** This reservation already exists (a redelivered event): nothing was taken twice. */
  | { readonly kind: 'already-reserved' }
  | { readonly kind: 'insufficient'; readonly sku: string };

export type ReleaseOutcome = 'released' | 'nothing-reserved';

export interface StockStore {
  /** Takes every item's quantity from stock, all or none, never below zero; idempotent per id. */
  reserve(
    reservationId: string,
    items: readonly Pick<OrderItem, 'sku' | 'quantity'>[],
  ): Promise<ReserveOutcome>;
  /** Gives a reservation's quantities back, once. */
  release(reservationId: string): Promise<ReleaseOutcome>;
  /** Sets a SKU's available quantity (stock intake, administration). */
  setAvailable(sku: string, available: number): Promise<void>;
}

/** The reservation of an order is keyed by the order: one reservation per order, ever. */
export const reservationIdOf = (orderId: string): string => orderId;

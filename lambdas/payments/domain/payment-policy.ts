/**
 * When the payment service charges an order: decided on the order's current state as the event
 * store has it, never on the message alone. Pure: no AWS, no Lambda.
 *
 * - The trigger must be an event of the order's stream (`assertEventOfOrder`): an InventoryReserved
 *   of an order that does not exist, or one with another event id or version, charges nothing.
 * - Only an order whose stock is reserved and that is not yet paid (INVENTORY_RESERVED) is
 *   charged: a duplicate or stale InventoryReserved of an order that was paid, failed, cancelled
 *   or shipped since charges nothing.
 * - One charge per order, even when the consumer dies between the charge and its record: the
 *   provider's idempotency key is derived from the order id alone, so a second attempt (the same
 *   event redelivered while the order still awaits payment) gets the first charge back.
 * A refusal throws a DomainError; the consumer logs it and does nothing else.
 */
import { DomainError } from '../../commons/domain/decider.js';
import { assertEventOfOrder, type LoadedOrder, type ReceivedOrderEvent } from '../../orders/domain/order.js';
import type { ChargeRequest } from './payment-provider.js';

/** The provider's idempotency key of an order's charge: one charge per order, ever. */
export const paymentIdempotencyKey = (orderId: string): string => `order-${orderId}`;

export type PaymentDecision =
  | { readonly kind: 'charge'; readonly request: ChargeRequest }
  /** Nothing to charge with: the payment fails for good. */
  | { readonly kind: 'fail'; readonly reason: string };

export function decidePayment(order: LoadedOrder, trigger: ReceivedOrderEvent): PaymentDecision {
  assertEventOfOrder(order, trigger);
  const { state } = order;
  if (trigger.type !== 'InventoryReserved') {
    throw new DomainError('NOT_A_PAYMENT_TRIGGER', `${trigger.type} does not ask for a payment`);
  }
  if (state.status !== 'INVENTORY_RESERVED' || state.orderId === null) {
    throw new DomainError(
      'ORDER_NOT_AWAITING_PAYMENT',
      `order ${state.orderId} is ${state.status}: it is charged only while INVENTORY_RESERVED`,
    );
  }
  if (state.currency === null) {
    throw new DomainError('ORDER_NOT_AWAITING_PAYMENT', `order ${state.orderId} has no currency`);
  }
  if (state.paymentToken === null) return { kind: 'fail', reason: 'no payment method' };
  return {
    kind: 'charge',
    request: {
      orderId: state.orderId,
      amount: state.total,
      currency: state.currency,
      paymentToken: state.paymentToken,
      idempotencyKey: paymentIdempotencyKey(state.orderId),
    },
  };
}

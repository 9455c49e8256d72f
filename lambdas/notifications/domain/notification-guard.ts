/**
 * Whether an order event still calls for its e-mail, decided on the order as the orders read model
 * has it (the notification service reads no event store), never on the message alone. Pure.
 *
 * - The read model has not folded the event yet (no order, or an older version): `wait` — the
 *   projection lags the event by a moment, so the consumer asks again shortly; an event of an order
 *   that never existed, or of a version the order never reached, therefore ends in the dead-letter
 *   queue with that reason, never in an e-mail.
 * - The order's status contradicts the event (an OrderShipped of an order that is PENDING, an
 *   OrderCancelled of a shipped order): a forged or misrouted event, refused (`EVENT_CONTRADICTS_ORDER`,
 *   a logged no-op).
 * - Otherwise `send`, to the order's customer as the read model knows it (not the message's).
 * Duplicates of a genuine event pass: the e-mail's marker makes them no-ops (`email-outbox.ts`).
 */
import { DomainError } from '../../commons/domain/decider.js';
import type { OrderStatus } from '../../orders/domain/order.js';

/** The statuses an order can have once it went through each notifying event. */
export const STATUSES_AFTER: Readonly<Record<string, readonly OrderStatus[]>> = {
  OrderPlaced: [
    'PENDING',
    'INVENTORY_RESERVED',
    'PAID',
    'SHIPPED',
    'REJECTED',
    'PAYMENT_FAILED',
    'CANCELLED',
  ],
  InventoryRejected: ['REJECTED'],
  PaymentCompleted: ['PAID', 'SHIPPED'],
  PaymentFailed: ['PAYMENT_FAILED', 'CANCELLED'],
  OrderShipped: ['SHIPPED'],
  OrderCancelled: ['CANCELLED'],
};

export interface OrderInReadModel {
  readonly customerId: string;
  readonly status: string;
  readonly version: number;
}

export type NotificationDecision =
  | { readonly kind: 'send'; readonly customerId: string }
  | { readonly kind: 'wait'; readonly reason: string };

export function decideOrderNotification(
  order: OrderInReadModel | undefined,
  event: { readonly type: string; readonly aggregateId: string; readonly version: number },
): NotificationDecision {
  if (!order) return { kind: 'wait', reason: `order ${event.aggregateId} not in the read model yet` };
  if (order.version < event.version) {
    return {
      kind: 'wait',
      reason: `order ${event.aggregateId} is at v${order.version} in the read model, behind ${event.type} v${event.version}`,
    };
  }
  const after = STATUSES_AFTER[event.type];
  if (!after?.includes(order.status as OrderStatus)) {
    throw new DomainError(
      'EVENT_CONTRADICTS_ORDER',
      `${event.type} v${event.version}: order ${event.aggregateId} is ${order.status} (v${order.version})`,
    );
  }
  return { kind: 'send', customerId: order.customerId };
}

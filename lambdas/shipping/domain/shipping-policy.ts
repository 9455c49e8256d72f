/**
 * When the shipping service ships an order: decided on the order's current state as the event
 * store has it, never on the message alone. Pure: no AWS, no Lambda.
 *
 * Only a paid order not yet shipped (PAID) is shipped, on a PaymentCompleted of its own stream
 * (`assertEventOfOrder`); a duplicate or stale PaymentCompleted (the order shipped already) or a
 * forged one ships nothing. The shipment id is derived from the order, so even a race between two
 * deliveries yields one shipment (the order aggregate accepts ShipOrder from PAID only).
 * A refusal throws a DomainError; the consumer logs it and does nothing else.
 */
import { DomainError } from '../../commons/domain/decider.js';
import { assertEventOfOrder, type LoadedOrder, type ReceivedOrderEvent } from '../../orders/domain/order.js';

export interface ShipmentDecision {
  readonly shipmentId: string;
  readonly carrier: string;
}

/** The shipment of an order: one per order, ever. */
export const shipmentIdOf = (orderId: string): string => `shp-${orderId}`;

export function decideShipment(
  order: LoadedOrder,
  trigger: ReceivedOrderEvent,
  carrier: string,
): ShipmentDecision {
  assertEventOfOrder(order, trigger);
  const { state } = order;
  if (trigger.type !== 'PaymentCompleted') {
    throw new DomainError('NOT_A_SHIPPING_TRIGGER', `${trigger.type} does not ask for a shipment`);
  }
  if (state.status !== 'PAID' || state.orderId === null) {
    throw new DomainError(
      'ORDER_NOT_AWAITING_SHIPMENT',
      `order ${state.orderId} is ${state.status}: it is shipped only while PAID`,
    );
  }
  return { shipmentId: shipmentIdOf(state.orderId), carrier };
}

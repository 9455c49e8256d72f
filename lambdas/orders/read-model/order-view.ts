/**
 * The orders read model: one document per order, what `GET /orders/{orderId}` and
 * `GET /customers/{customerId}/orders` return. Folded from the Order stream by the projection;
 * pure: nothing from AWS or Lambda.
 */
import type * as z from 'zod';
import type { DomainEvent } from '../../commons/domain/decider.js';
import { formatIssues } from '../../commons/domain/validation-issues.js';
import type { EventEnvelope } from '../../commons/event-store/envelope.js';
import { InvalidEventError, type ViewProjection } from '../../commons/projection/projection.js';
import { ORDER_AGGREGATE_TYPE, type OrderItem, type OrderStatus } from '../domain/order.js';
import { orderEventDataSchemas } from '../domain/order-schemas.js';

export interface OrderView {
  readonly orderId: string;
  readonly customerId: string;
  readonly status: Exclude<OrderStatus, 'NONE'>;
  readonly items: readonly OrderItem[];
  /** Minor units of `currency`. */
  readonly total: number;
  readonly currency: string;
  /** Why the order was rejected, failed payment or was cancelled, if it was. */
  readonly reason?: string;
  readonly reservationId?: string;
  readonly paymentId?: string;
  readonly shipmentId?: string;
  readonly carrier?: string;
  /** From the warehouse's confirmation. */
  readonly trackingNumber?: string;
  readonly shipmentConfirmedAt?: string;
  /** When the order was placed (ISO-8601); sorts a customer's orders. */
  readonly placedAt: string;
  /** When the last folded event occurred (ISO-8601). */
  readonly updatedAt: string;
}

function dataOf<T extends keyof typeof orderEventDataSchemas>(
  type: T,
  event: EventEnvelope,
): z.infer<(typeof orderEventDataSchemas)[T]> {
  const parsed = orderEventDataSchemas[type].safeParse(event.data);
  if (!parsed.success) {
    throw new InvalidEventError(
      `${type} ${event.eventId} (order ${event.aggregateId} v${event.version}): ${formatIssues(parsed.error)}`,
    );
  }
  return parsed.data as z.infer<(typeof orderEventDataSchemas)[T]>;
}

function requireView(current: OrderView | undefined, event: EventEnvelope): OrderView {
  if (!current) {
    throw new InvalidEventError(
      `${event.type} ${event.eventId} (order ${event.aggregateId} v${event.version}) precedes OrderPlaced`,
    );
  }
  return current;
}

export function projectOrder(current: OrderView | undefined, event: EventEnvelope<DomainEvent>): OrderView {
  const updatedAt = event.occurredAt;
  switch (event.type) {
    case 'OrderPlaced': {
      const d = dataOf('OrderPlaced', event);
      return {
        orderId: d.orderId,
        customerId: d.customerId,
        status: 'PENDING',
        items: d.items,
        total: d.total,
        currency: d.currency,
        placedAt: event.occurredAt,
        updatedAt,
      };
    }
    case 'InventoryReserved': {
      const d = dataOf('InventoryReserved', event);
      return {
        ...requireView(current, event),
        status: 'INVENTORY_RESERVED',
        reservationId: d.reservationId,
        updatedAt,
      };
    }
    case 'InventoryRejected': {
      const d = dataOf('InventoryRejected', event);
      return { ...requireView(current, event), status: 'REJECTED', reason: d.reason, updatedAt };
    }
    case 'PaymentCompleted': {
      const d = dataOf('PaymentCompleted', event);
      return { ...requireView(current, event), status: 'PAID', paymentId: d.paymentId, updatedAt };
    }
    case 'PaymentFailed': {
      const d = dataOf('PaymentFailed', event);
      return { ...requireView(current, event), status: 'PAYMENT_FAILED', reason: d.reason, updatedAt };
    }
    case 'OrderShipped': {
      const d = dataOf('OrderShipped', event);
      return {
        ...requireView(current, event),
        status: 'SHIPPED',
        shipmentId: d.shipmentId,
        ...(d.carrier === undefined ? {} : { carrier: d.carrier }),
        updatedAt,
      };
    }
    case 'ShipmentConfirmed': {
      const d = dataOf('ShipmentConfirmed', event);
      return {
        ...requireView(current, event),
        trackingNumber: d.trackingNumber,
        shipmentConfirmedAt: d.confirmedAt,
        updatedAt,
      };
    }
    case 'OrderCancelled': {
      const d = dataOf('OrderCancelled', event);
      return { ...requireView(current, event), status: 'CANCELLED', reason: d.reason, updatedAt };
    }
    default:
      // A type this version does not know yet: the view only moves its version forward.
      return { ...requireView(current, event), updatedAt };
  }
}

export const orderViewProjection: ViewProjection<OrderView> = {
  name: 'orders',
  aggregateType: ORDER_AGGREGATE_TYPE,
  project: projectOrder,
};

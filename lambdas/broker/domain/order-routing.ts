/**
 * Order events on RabbitMQ: the `order_events` topic exchange, routing keys
 * `order.<area>.<action>` (the chapter's topic-exchange example, e.g. `order.payment.completed`),
 * and the broker definitions the platform declares. Pure.
 */
import type { OrderEventType } from '../../orders/domain/order.js';
import type { BrokerDefinitions } from './definitions.js';

export const ORDER_EVENTS_EXCHANGE = 'order_events';
export const ORDER_EVENTS_DLX = 'order_events.dlx';
export const WAREHOUSE_EXCHANGE = 'warehouse';
/** The warehouse system takes shipping events from here. */
export const WAREHOUSE_SHIPPING_QUEUE = 'warehouse.shipping';
/** The warehouse answers here; a Lambda event source feeds the answers back into the order flow. */
export const SHIPMENT_CONFIRMATIONS_QUEUE = 'shipment_confirmations';
export const SHIPMENT_CONFIRMED_KEY = 'shipment.confirmed';
export const VIRTUAL_HOST = 'platform';

/** The routing key of every order event. */
export const ORDER_ROUTING_KEYS: { readonly [K in OrderEventType]: string } = {
  OrderPlaced: 'order.order.placed',
  OrderCancelled: 'order.order.cancelled',
  InventoryReserved: 'order.inventory.reserved',
  InventoryRejected: 'order.inventory.rejected',
  PaymentCompleted: 'order.payment.completed',
  PaymentFailed: 'order.payment.failed',
  OrderShipped: 'order.shipping.shipped',
  // Not `order.shipping.*`: the warehouse would hear its own answer again.
  ShipmentConfirmed: 'order.shipment.confirmed',
};

export const routingKeyOf = (type: string): string | undefined =>
  Object.hasOwn(ORDER_ROUTING_KEYS, type) ? ORDER_ROUTING_KEYS[type as OrderEventType] : undefined;

/** The platform's broker: order events by topic, the warehouse's queues, and their dead letters. */
export const PLATFORM_BROKER_DEFINITIONS: BrokerDefinitions = {
  vhost: VIRTUAL_HOST,
  exchanges: [
    { name: ORDER_EVENTS_EXCHANGE, type: 'topic' },
    { name: ORDER_EVENTS_DLX, type: 'fanout' },
    { name: WAREHOUSE_EXCHANGE, type: 'direct' },
  ],
  queues: [
    { name: WAREHOUSE_SHIPPING_QUEUE, deadLetterExchange: ORDER_EVENTS_DLX, deliveryLimit: 5 },
    { name: SHIPMENT_CONFIRMATIONS_QUEUE, deadLetterExchange: ORDER_EVENTS_DLX, deliveryLimit: 5 },
    // Every order event for a week, for audits and replays; bounded.
    {
      name: 'order_events.audit',
      deadLetterExchange: ORDER_EVENTS_DLX,
      messageTtlMs: 7 * 24 * 3600 * 1000,
      maxLength: 1_000_000,
    },
    { name: 'order_events.dead' },
  ],
  bindings: [
    { source: ORDER_EVENTS_EXCHANGE, destination: WAREHOUSE_SHIPPING_QUEUE, routingKey: 'order.shipping.*' },
    { source: ORDER_EVENTS_EXCHANGE, destination: 'order_events.audit', routingKey: 'order.#' },
    { source: ORDER_EVENTS_DLX, destination: 'order_events.dead' },
    {
      source: WAREHOUSE_EXCHANGE,
      destination: SHIPMENT_CONFIRMATIONS_QUEUE,
      routingKey: SHIPMENT_CONFIRMED_KEY,
    },
  ],
};

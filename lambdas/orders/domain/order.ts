/**
 * The Order aggregate as a decider (see `lambdas/commons/domain/decider.ts`).
 *
 *   NONE ─PlaceOrder→ PENDING ─RecordInventoryReserved→ INVENTORY_RESERVED ─RecordPaymentCompleted→ PAID ─ShipOrder→ SHIPPED ─ConfirmShipment→ SHIPPED
 *                        │                                  │
 *                        └─RecordInventoryRejected→ REJECTED └─RecordPaymentFailed→ PAYMENT_FAILED
 *
 * Cancel policy: CancelOrder is accepted from PENDING, INVENTORY_RESERVED and PAYMENT_FAILED, and
 * refused from PAID, SHIPPED, CANCELLED and REJECTED. PAYMENT_FAILED is cancellable because it is
 * otherwise a dead end that still holds an inventory reservation: cancelling closes the order and
 * `OrderCancelled.reservationId` tells the compensating step which reservation to release. A paid
 * order is never cancelled here (that is a refund, a different process).
 *
 * ConfirmShipment (the warehouse's answer, over RabbitMQ) records the tracking number of a shipped
 * order; a second confirmation of the same shipment decides nothing (redeliveries are expected),
 * one of another shipment is refused (SHIPMENT_MISMATCH).
 *
 * Every refused command throws a DomainError: ORDER_EXISTS, ORDER_NOT_FOUND, INVALID_TRANSITION
 * (naming the command and the current status), PAYMENT_AMOUNT_MISMATCH or INVALID_COMMAND (data that
 * fails its schema). Pure: nothing from AWS or Lambda.
 */
import type * as z from 'zod';
import { type Decider, DomainError, type DomainEvent } from '../../commons/domain/decider.js';
import {
  CANCELLABLE_ORDER_STATUSES,
  type CancelOrderData,
  type ConfirmShipmentData,
  formatOrderIssues,
  type InventoryRejectedData,
  type InventoryReservedData,
  type OrderCancelledData,
  type OrderItem,
  type OrderPlacedData,
  type OrderShippedData,
  orderCommandDataSchemas,
  type PaymentCompletedData,
  type PaymentFailedData,
  type PlaceOrderData,
  type RecordInventoryRejectedData,
  type RecordInventoryReservedData,
  type RecordPaymentCompletedData,
  type RecordPaymentFailedData,
  type ShipmentConfirmedData,
  type ShipOrderData,
} from './order-schemas.js';

export type { OrderItem } from './order-schemas.js';

export const ORDER_AGGREGATE_TYPE = 'Order';

/** Every status an order state can have; `NONE` is the state of a stream with no events. */
export const ORDER_STATUSES = [
  'NONE',
  'PENDING',
  'INVENTORY_RESERVED',
  'PAID',
  'SHIPPED',
  'REJECTED',
  'PAYMENT_FAILED',
  'CANCELLED',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const ORDER_COMMAND_TYPES = [
  'PlaceOrder',
  'RecordInventoryReserved',
  'RecordInventoryRejected',
  'RecordPaymentCompleted',
  'RecordPaymentFailed',
  'ShipOrder',
  'CancelOrder',
  'ConfirmShipment',
] as const;
export type OrderCommandType = (typeof ORDER_COMMAND_TYPES)[number];

export const ORDER_EVENT_TYPES = [
  'OrderPlaced',
  'InventoryReserved',
  'InventoryRejected',
  'PaymentCompleted',
  'PaymentFailed',
  'OrderShipped',
  'OrderCancelled',
  'ShipmentConfirmed',
] as const;
export type OrderEventType = (typeof ORDER_EVENT_TYPES)[number];

export type OrderCommand =
  | { readonly type: 'PlaceOrder'; readonly data: PlaceOrderData }
  | { readonly type: 'RecordInventoryReserved'; readonly data: RecordInventoryReservedData }
  | { readonly type: 'RecordInventoryRejected'; readonly data: RecordInventoryRejectedData }
  | { readonly type: 'RecordPaymentCompleted'; readonly data: RecordPaymentCompletedData }
  | { readonly type: 'RecordPaymentFailed'; readonly data: RecordPaymentFailedData }
  | { readonly type: 'ShipOrder'; readonly data: ShipOrderData }
  | { readonly type: 'CancelOrder'; readonly data: CancelOrderData }
  | { readonly type: 'ConfirmShipment'; readonly data: ConfirmShipmentData };

export type OrderPlaced = DomainEvent<'OrderPlaced', OrderPlacedData>;
export type InventoryReserved = DomainEvent<'InventoryReserved', InventoryReservedData>;
export type InventoryRejected = DomainEvent<'InventoryRejected', InventoryRejectedData>;
export type PaymentCompleted = DomainEvent<'PaymentCompleted', PaymentCompletedData>;
export type PaymentFailed = DomainEvent<'PaymentFailed', PaymentFailedData>;
export type OrderShipped = DomainEvent<'OrderShipped', OrderShippedData>;
export type OrderCancelled = DomainEvent<'OrderCancelled', OrderCancelledData>;
export type ShipmentConfirmed = DomainEvent<'ShipmentConfirmed', ShipmentConfirmedData>;
export type OrderEvent =
  | OrderPlaced
  | InventoryReserved
  | InventoryRejected
  | PaymentCompleted
  | PaymentFailed
  | OrderShipped
  | OrderCancelled
  | ShipmentConfirmed;

export interface OrderState {
  readonly status: OrderStatus;
  readonly orderId: string | null;
  readonly customerId: string | null;
  readonly items: readonly OrderItem[];
  /** Minor units; 0 until placed. */
  readonly total: number;
  readonly currency: string | null;
  /** The payment method given at placement, if any. */
  readonly paymentToken: string | null;
  readonly reservationId: string | null;
  readonly paymentId: string | null;
  readonly shipmentId: string | null;
  readonly carrier: string | null;
  /** Set once the warehouse confirmed the shipment. */
  readonly trackingNumber: string | null;
  /** Why inventory was rejected, payment failed or the order was cancelled, whichever came last. */
  readonly reason: string | null;
}

export const initialOrderState: OrderState = {
  status: 'NONE',
  orderId: null,
  customerId: null,
  items: [],
  total: 0,
  currency: null,
  paymentToken: null,
  reservationId: null,
  paymentId: null,
  shipmentId: null,
  carrier: null,
  trackingNumber: null,
  reason: null,
};

/** Σ quantity × unitPrice in integer minor units; throws a RangeError if it leaves the safe range. */
export function computeOrderTotal(items: readonly Pick<OrderItem, 'quantity' | 'unitPrice'>[]): number {
  let total = 0;
  for (const { quantity, unitPrice } of items) {
    if (!Number.isSafeInteger(quantity) || !Number.isSafeInteger(unitPrice)) {
      throw new RangeError('quantity and unitPrice must be safe integers');
    }
    total += quantity * unitPrice;
    if (!Number.isSafeInteger(total)) throw new RangeError('order total exceeds the safe integer range');
  }
  return total;
}

/** Whether CancelOrder would be accepted (see the cancel policy above). */
export function canCancel(state: Pick<OrderState, 'status'>): boolean {
  return (CANCELLABLE_ORDER_STATUSES as readonly OrderStatus[]).includes(state.status);
}

type TransitionCommandType = Exclude<OrderCommandType, 'PlaceOrder'>;

/** The statuses each command (other than PlaceOrder, which needs NONE) is accepted from. */
export const ORDER_COMMAND_ALLOWED_FROM: Readonly<Record<TransitionCommandType, readonly OrderStatus[]>> = {
  RecordInventoryReserved: ['PENDING'],
  RecordInventoryRejected: ['PENDING'],
  RecordPaymentCompleted: ['INVENTORY_RESERVED'],
  RecordPaymentFailed: ['INVENTORY_RESERVED'],
  ShipOrder: ['PAID'],
  CancelOrder: CANCELLABLE_ORDER_STATUSES,
  ConfirmShipment: ['SHIPPED'],
};

function validated<T>(commandType: OrderCommandType, schema: z.ZodType<T>, data: unknown): T {
  const result = schema.safeParse(data);
  if (!result.success) {
    throw new DomainError('INVALID_COMMAND', `${commandType}: ${formatOrderIssues(result.error)}`);
  }
  return result.data;
}

/** The existing order's id, once it is known the command may run from the current status. */
function requireTransition(state: OrderState, commandType: TransitionCommandType): string {
  if (state.status === 'NONE' || state.orderId === null) {
    throw new DomainError('ORDER_NOT_FOUND', `${commandType}: the order does not exist`);
  }
  const allowed = ORDER_COMMAND_ALLOWED_FROM[commandType];
  if (!allowed.includes(state.status)) {
    throw new DomainError(
      'INVALID_TRANSITION',
      `${commandType} is not allowed: order ${state.orderId} is ${state.status} (allowed from ${allowed.join(', ')})`,
    );
  }
  return state.orderId;
}

function decide(state: OrderState, command: OrderCommand): readonly OrderEvent[] {
  switch (command.type) {
    case 'PlaceOrder': {
      const data = validated(command.type, orderCommandDataSchemas.PlaceOrder, command.data);
      if (state.status !== 'NONE') {
        throw new DomainError(
          'ORDER_EXISTS',
          `PlaceOrder: order ${state.orderId ?? data.orderId} already exists`,
        );
      }
      const { orderId, customerId, items, currency, paymentToken } = data;
      return [
        {
          type: 'OrderPlaced',
          data: {
            orderId,
            customerId,
            items,
            total: computeOrderTotal(items),
            currency,
            ...(paymentToken === undefined ? {} : { paymentToken }),
          },
        },
      ];
    }
    case 'RecordInventoryReserved': {
      const data = validated(command.type, orderCommandDataSchemas.RecordInventoryReserved, command.data);
      const orderId = requireTransition(state, command.type);
      return [{ type: 'InventoryReserved', data: { orderId, reservationId: data.reservationId } }];
    }
    case 'RecordInventoryRejected': {
      const data = validated(command.type, orderCommandDataSchemas.RecordInventoryRejected, command.data);
      const orderId = requireTransition(state, command.type);
      return [{ type: 'InventoryRejected', data: { orderId, reason: data.reason } }];
    }
    case 'RecordPaymentCompleted': {
      const data = validated(command.type, orderCommandDataSchemas.RecordPaymentCompleted, command.data);
      const orderId = requireTransition(state, command.type);
      if (data.amount !== state.total || state.currency === null) {
        throw new DomainError(
          'PAYMENT_AMOUNT_MISMATCH',
          `RecordPaymentCompleted: paid ${data.amount} but order ${orderId} totals ${state.total} ${state.currency ?? ''}`.trimEnd(),
        );
      }
      return [
        {
          type: 'PaymentCompleted',
          data: { orderId, paymentId: data.paymentId, amount: data.amount, currency: state.currency },
        },
      ];
    }
    case 'RecordPaymentFailed': {
      const data = validated(command.type, orderCommandDataSchemas.RecordPaymentFailed, command.data);
      const orderId = requireTransition(state, command.type);
      return [{ type: 'PaymentFailed', data: { orderId, reason: data.reason } }];
    }
    case 'ShipOrder': {
      const data = validated(command.type, orderCommandDataSchemas.ShipOrder, command.data);
      const orderId = requireTransition(state, command.type);
      return [
        {
          type: 'OrderShipped',
          data: {
            orderId,
            shipmentId: data.shipmentId,
            ...(data.carrier === undefined ? {} : { carrier: data.carrier }),
          },
        },
      ];
    }
    case 'CancelOrder': {
      const data = validated(command.type, orderCommandDataSchemas.CancelOrder, command.data);
      const orderId = requireTransition(state, command.type);
      const previousStatus = CANCELLABLE_ORDER_STATUSES.find((status) => status === state.status);
      if (previousStatus === undefined) {
        // Unreachable: requireTransition checked the same list.
        throw new DomainError(
          'INVALID_TRANSITION',
          `CancelOrder is not allowed: order ${orderId} is ${state.status}`,
        );
      }
      return [
        {
          type: 'OrderCancelled',
          data: {
            orderId,
            reason: data.reason,
            previousStatus,
            ...(state.reservationId === null ? {} : { reservationId: state.reservationId }),
          },
        },
      ];
    }
    case 'ConfirmShipment': {
      const data = validated(command.type, orderCommandDataSchemas.ConfirmShipment, command.data);
      const orderId = requireTransition(state, command.type);
      if (state.shipmentId !== data.shipmentId) {
        throw new DomainError(
          'SHIPMENT_MISMATCH',
          `ConfirmShipment: order ${orderId} was shipped as ${state.shipmentId}, not ${data.shipmentId}`,
        );
      }
      if (state.trackingNumber !== null) return [];
      return [{ type: 'ShipmentConfirmed', data: { orderId, ...data } }];
    }
    default:
      return unknownCommand(command);
  }
}

function unknownCommand(command: never): never {
  const type = (command as { type?: unknown } | null)?.type;
  throw new DomainError('UNKNOWN_COMMAND', `Unknown order command: ${String(type)}`);
}

/** Total over every event type; events are facts, so it applies them without re-checking. */
function evolve(state: OrderState, event: OrderEvent): OrderState {
  switch (event.type) {
    case 'OrderPlaced': {
      const { orderId, customerId, items, total, currency, paymentToken } = event.data;
      return {
        ...initialOrderState,
        status: 'PENDING',
        orderId,
        customerId,
        items,
        total,
        currency,
        paymentToken: paymentToken ?? null,
      };
    }
    case 'InventoryReserved':
      return { ...state, status: 'INVENTORY_RESERVED', reservationId: event.data.reservationId };
    case 'InventoryRejected':
      return { ...state, status: 'REJECTED', reason: event.data.reason };
    case 'PaymentCompleted':
      return { ...state, status: 'PAID', paymentId: event.data.paymentId };
    case 'PaymentFailed':
      return { ...state, status: 'PAYMENT_FAILED', reason: event.data.reason };
    case 'OrderShipped':
      return {
        ...state,
        status: 'SHIPPED',
        shipmentId: event.data.shipmentId,
        carrier: event.data.carrier ?? null,
      };
    case 'OrderCancelled':
      return { ...state, status: 'CANCELLED', reason: event.data.reason };
    case 'ShipmentConfirmed':
      return { ...state, trackingNumber: event.data.trackingNumber };
    default: {
      // An event type this version does not know (e.g. added later): leave the state as it is.
      const _unknown: never = event;
      return state;
    }
  }
}

export const orderDecider: Decider<OrderState, OrderCommand, OrderEvent> = {
  aggregateType: ORDER_AGGREGATE_TYPE,
  initialState: initialOrderState,
  decide,
  evolve,
};

/** The identity of one stored event of an order's stream. */
export interface OrderEventIdentity {
  readonly eventId: string;
  readonly type: string;
  readonly version: number;
}

/** An order as a consumer loads it: its state, its version and who its replayed events are. */
export interface LoadedOrder {
  readonly state: OrderState;
  readonly version: number;
  /** The events replayed to build `state` (after a snapshot, if any), in version order. */
  readonly replayed: readonly OrderEventIdentity[];
}

/** What a consumer received: an event claiming to be `version` of order `aggregateId`. */
export interface ReceivedOrderEvent {
  readonly eventId: string;
  readonly type: string;
  readonly aggregateId: string;
  readonly version: number;
}

/**
 * Refuses (DomainError) an event that is not part of the order's history as the event store
 * knows it: the order does not exist (ORDER_UNKNOWN: e.g. a crafted OrderPlaced), or the stream
 * has no such event at that version (EVENT_NOT_IN_STREAM: a version beyond the stream, or another
 * event id or type there). A genuine event, however old or often redelivered, passes: whether it
 * still calls for an effect is for the consumer's own guard to decide on the order's state.
 * An event older than the snapshot the load started from cannot be compared and passes too.
 */
export function assertEventOfOrder(order: LoadedOrder, event: ReceivedOrderEvent): void {
  const what = `${event.type} v${event.version} (${event.eventId})`;
  if (order.state.status === 'NONE' || order.state.orderId === null) {
    throw new DomainError('ORDER_UNKNOWN', `${what}: order ${event.aggregateId} does not exist`);
  }
  if (event.aggregateId !== order.state.orderId) {
    throw new DomainError(
      'EVENT_NOT_IN_STREAM',
      `${what} is about ${event.aggregateId}, not order ${order.state.orderId}`,
    );
  }
  if (!Number.isInteger(event.version) || event.version < 1 || event.version > order.version) {
    throw new DomainError(
      'EVENT_NOT_IN_STREAM',
      `${what}: order ${order.state.orderId} has no such version (it is at v${order.version})`,
    );
  }
  const stored = order.replayed.find((e) => e.version === event.version);
  if (stored && (stored.eventId !== event.eventId || stored.type !== event.type)) {
    throw new DomainError(
      'EVENT_NOT_IN_STREAM',
      `${what}: v${event.version} of order ${order.state.orderId} is ${stored.type} (${stored.eventId})`,
    );
  }
}

/**
 * Zod schemas of the Order aggregate: the HTTP body of `POST /orders`, the data of each command (the
 * decider validates with them, so a malformed command never yields an event) and the data of each
 * event (the source of the schema catalog). Pure: nothing from AWS or Lambda.
 *
 * Money is an integer count of minor units (cents) in the order's currency; totals are computed in
 * integers and the bounds below keep every total a safe integer (50 × 10 000 × 10^9 < 2^53).
 */
import * as z from 'zod';

export const MAX_ORDER_ITEMS = 50;
export const MAX_ITEM_QUANTITY = 10_000;
/** Minor units; 10^9 cents is ten million in the major unit. */
export const MAX_UNIT_PRICE = 1_000_000_000;
export const MAX_ID_LENGTH = 128;
export const MAX_TEXT_LENGTH = 500;

/**
 * `customerId is required` when absent, `customerId must be a string` when of another type; other
 * issues (e.g. unknown keys) keep zod's message.
 */
const typed = (field: string, kind: string) => ({
  error: (issue: { code?: string; input?: unknown }) => {
    if (issue.code !== 'invalid_type') return undefined;
    return issue.input === undefined ? `${field} is required` : `${field} must be ${kind}`;
  },
});

const idSchema = (field: string) =>
  z
    .string(typed(field, 'a string'))
    .trim()
    .min(1, `${field} must not be empty`)
    .max(MAX_ID_LENGTH, `${field} must be at most ${MAX_ID_LENGTH} characters`);

const textSchema = (field: string) =>
  z
    .string(typed(field, 'a string'))
    .trim()
    .min(1, `${field} must not be empty`)
    .max(MAX_TEXT_LENGTH, `${field} must be at most ${MAX_TEXT_LENGTH} characters`);

const minorUnitsSchema = (field: string, max?: number) => {
  const base = z
    .int(typed(field, 'an integer amount of minor units'))
    .min(0, `${field} must not be negative`);
  return max === undefined ? base : base.max(max, `${field} must be at most ${max}`);
};

export const currencySchema = z
  .string(typed('currency', 'a string'))
  .regex(/^[A-Z]{3}$/, 'currency must be an ISO 4217 code: three upper-case letters, e.g. EUR');

export const orderItemSchema = z.strictObject({
  sku: idSchema('sku'),
  quantity: z
    .int(typed('quantity', 'an integer'))
    .min(1, 'quantity must be at least 1')
    .max(MAX_ITEM_QUANTITY, `quantity must be at most ${MAX_ITEM_QUANTITY}`),
  unitPrice: minorUnitsSchema('unitPrice', MAX_UNIT_PRICE),
});
export type OrderItem = z.infer<typeof orderItemSchema>;

/** 1..50 items, each SKU at most once (quantities are per SKU, as inventory reserves them). */
export const orderItemsSchema = z
  .array(orderItemSchema, typed('items', 'an array'))
  .min(1, 'items must contain at least one item')
  .max(MAX_ORDER_ITEMS, `items must contain at most ${MAX_ORDER_ITEMS} items`)
  .superRefine((items, ctx) => {
    const seen = new Set<string>();
    items.forEach((item, index) => {
      if (seen.has(item.sku)) {
        ctx.addIssue({
          code: 'custom',
          path: [index, 'sku'],
          message: `sku ${item.sku} appears more than once`,
        });
      }
      seen.add(item.sku);
    });
  });

/** A payment method tokenized by the client (never a card number). */
export const paymentTokenSchema = idSchema('paymentToken');

/** Body of `POST /orders`; unknown fields are refused. The order id is assigned by the server. */
export const placeOrderBodySchema = z.strictObject(
  {
    customerId: idSchema('customerId'),
    items: orderItemsSchema,
    currency: currencySchema,
    paymentToken: paymentTokenSchema.optional(),
  },
  typed('body', 'a JSON object'),
);
export type PlaceOrderBody = z.infer<typeof placeOrderBodySchema>;

/**
 * Whether a placed order is what `body` asks for: the same customer, currency, payment token and
 * items in the same order. A retry with an `Idempotency-Key` that finds its order placed answers
 * it again only then.
 */
export function isSamePlacement(
  placed: {
    readonly customerId: string | null;
    readonly currency: string | null;
    readonly paymentToken: string | null;
    readonly items: readonly OrderItem[];
  },
  body: PlaceOrderBody,
): boolean {
  return (
    placed.customerId === body.customerId &&
    placed.currency === body.currency &&
    (placed.paymentToken ?? undefined) === body.paymentToken &&
    placed.items.length === body.items.length &&
    placed.items.every((item, i) => {
      const asked = body.items[i];
      return (
        asked !== undefined &&
        item.sku === asked.sku &&
        item.quantity === asked.quantity &&
        item.unitPrice === asked.unitPrice
      );
    })
  );
}

// ---- Command data -------------------------------------------------------------------------------

export const placeOrderCommandSchema = placeOrderBodySchema.extend({ orderId: idSchema('orderId') });
export const recordInventoryReservedCommandSchema = z.strictObject({
  reservationId: idSchema('reservationId'),
});
export const recordInventoryRejectedCommandSchema = z.strictObject({ reason: textSchema('reason') });
export const recordPaymentCompletedCommandSchema = z.strictObject({
  paymentId: idSchema('paymentId'),
  amount: minorUnitsSchema('amount'),
});
export const recordPaymentFailedCommandSchema = z.strictObject({ reason: textSchema('reason') });
export const shipOrderCommandSchema = z.strictObject({
  shipmentId: idSchema('shipmentId'),
  carrier: idSchema('carrier').optional(),
});
export const cancelOrderCommandSchema = z.strictObject({ reason: textSchema('reason') });
/** The warehouse's confirmation that a shipment left with the carrier (RabbitMQ). */
export const confirmShipmentCommandSchema = z.strictObject({
  shipmentId: idSchema('shipmentId'),
  trackingNumber: idSchema('trackingNumber'),
  confirmedAt: z.iso.datetime({ offset: true, error: 'confirmedAt must be an ISO-8601 date-time' }),
});

export const orderCommandDataSchemas = {
  PlaceOrder: placeOrderCommandSchema,
  RecordInventoryReserved: recordInventoryReservedCommandSchema,
  RecordInventoryRejected: recordInventoryRejectedCommandSchema,
  RecordPaymentCompleted: recordPaymentCompletedCommandSchema,
  RecordPaymentFailed: recordPaymentFailedCommandSchema,
  ShipOrder: shipOrderCommandSchema,
  CancelOrder: cancelOrderCommandSchema,
  ConfirmShipment: confirmShipmentCommandSchema,
} as const;

export type PlaceOrderData = z.infer<typeof placeOrderCommandSchema>;
export type RecordInventoryReservedData = z.infer<typeof recordInventoryReservedCommandSchema>;
export type RecordInventoryRejectedData = z.infer<typeof recordInventoryRejectedCommandSchema>;
export type RecordPaymentCompletedData = z.infer<typeof recordPaymentCompletedCommandSchema>;
export type RecordPaymentFailedData = z.infer<typeof recordPaymentFailedCommandSchema>;
export type ShipOrderData = z.infer<typeof shipOrderCommandSchema>;
export type CancelOrderData = z.infer<typeof cancelOrderCommandSchema>;
export type ConfirmShipmentData = z.infer<typeof confirmShipmentCommandSchema>;

// ---- Event data ---------------------------------------------------------------------------------

/** Statuses an order can be cancelled from; recorded in `OrderCancelled.previousStatus`. */
export const CANCELLABLE_ORDER_STATUSES = ['PENDING', 'INVENTORY_RESERVED', 'PAYMENT_FAILED'] as const;

export const orderPlacedDataSchema = z.strictObject({
  orderId: idSchema('orderId'),
  customerId: idSchema('customerId'),
  items: orderItemsSchema,
  total: minorUnitsSchema('total'),
  currency: currencySchema,
  paymentToken: paymentTokenSchema.optional(),
});
export const inventoryReservedDataSchema = z.strictObject({
  orderId: idSchema('orderId'),
  reservationId: idSchema('reservationId'),
});
export const inventoryRejectedDataSchema = z.strictObject({
  orderId: idSchema('orderId'),
  reason: textSchema('reason'),
});
export const paymentCompletedDataSchema = z.strictObject({
  orderId: idSchema('orderId'),
  paymentId: idSchema('paymentId'),
  amount: minorUnitsSchema('amount'),
  currency: currencySchema,
});
export const paymentFailedDataSchema = z.strictObject({
  orderId: idSchema('orderId'),
  reason: textSchema('reason'),
});
export const orderShippedDataSchema = z.strictObject({
  orderId: idSchema('orderId'),
  shipmentId: idSchema('shipmentId'),
  carrier: idSchema('carrier').optional(),
});
export const shipmentConfirmedDataSchema = z.strictObject({
  orderId: idSchema('orderId'),
  shipmentId: idSchema('shipmentId'),
  trackingNumber: idSchema('trackingNumber'),
  confirmedAt: z.iso.datetime({ offset: true }),
});
/** `reservationId` is present when stock was reserved, so a compensating step can release it. */
export const orderCancelledDataSchema = z.strictObject({
  orderId: idSchema('orderId'),
  reason: textSchema('reason'),
  previousStatus: z.enum(CANCELLABLE_ORDER_STATUSES),
  reservationId: idSchema('reservationId').optional(),
});

/** Event type → schema of its `data`; the schema catalog is generated from this map. */
export const orderEventDataSchemas = {
  OrderPlaced: orderPlacedDataSchema,
  InventoryReserved: inventoryReservedDataSchema,
  InventoryRejected: inventoryRejectedDataSchema,
  PaymentCompleted: paymentCompletedDataSchema,
  PaymentFailed: paymentFailedDataSchema,
  OrderShipped: orderShippedDataSchema,
  OrderCancelled: orderCancelledDataSchema,
  ShipmentConfirmed: shipmentConfirmedDataSchema,
} as const;

export type OrderPlacedData = z.infer<typeof orderPlacedDataSchema>;
export type InventoryReservedData = z.infer<typeof inventoryReservedDataSchema>;
export type InventoryRejectedData = z.infer<typeof inventoryRejectedDataSchema>;
export type PaymentCompletedData = z.infer<typeof paymentCompletedDataSchema>;
export type PaymentFailedData = z.infer<typeof paymentFailedDataSchema>;
export type OrderShippedData = z.infer<typeof orderShippedDataSchema>;
export type OrderCancelledData = z.infer<typeof orderCancelledDataSchema>;
export type ShipmentConfirmedData = z.infer<typeof shipmentConfirmedDataSchema>;

/** Field paths first; shared by every aggregate's command validation. */
export { formatIssues as formatOrderIssues } from '../../commons/domain/validation-issues.js';

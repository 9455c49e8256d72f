/**
 * The ledger check of a chaos run: from plain data read out of the durable stores (the event
 * store, the orders read model, the inventory table, the e-mail markers and the test provider's
 * records) and what the client saw, every way an order can be lost, stuck or duplicated. Pure: the
 * reading is in `stores.ts`, so that every rule here is unit-tested on plain data.
 */

export type Category = 'lost' | 'stuck' | 'duplicated' | 'inconsistent';

export interface Anomaly {
  readonly category: Category;
  /** e.g. `orders-per-key`, `email-missing`, `stock`. */
  readonly kind: string;
  readonly key?: string;
  readonly orderId?: string;
  readonly sku?: string;
  readonly detail: string;
}

/** One event as stored (only the fields the ledger needs). */
export interface StoredEvent {
  readonly aggregateId: string;
  readonly version: number;
  readonly eventId: string;
  readonly type: string;
  readonly correlationId?: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

/** What the client sent and what it was finally answered. */
export interface ClientOrder {
  readonly key: string;
  readonly cancelCorrelationId: string;
  readonly items: readonly { readonly sku: string; readonly quantity: number }[];
  readonly paymentToken?: string;
  readonly cancelRequested: boolean;
  /** The 2xx answer to POST /orders; absent when the client gave up or was refused. */
  readonly acknowledged?: { readonly orderId: string; readonly status: number };
  /** A final refusal (a 4xx that retrying cannot fix). */
  readonly refused?: { readonly status: number; readonly code?: string };
  /** The final answer to the cancel request (202, or 409 when no longer cancellable). */
  readonly cancel?: { readonly status: number; readonly code?: string };
}

export interface OrderViewRow {
  readonly orderId: string;
  readonly status: string;
  readonly version: number;
}

export interface StockRow {
  readonly sku: string;
  readonly initial: number;
  /** Absent: the SKU's item is missing from the inventory table. */
  readonly available?: number;
}

export interface ReservationRow {
  readonly orderId: string;
  readonly items: readonly { readonly sku: string; readonly quantity: number }[];
}

/** An item of the e-mail "at most once" markers: `email#<subject>#<event type>`. */
export interface EmailMarker {
  readonly key: string;
  readonly status?: string;
}

/** One e-mail the test provider accepted, as it recorded it: the event's type and correlation id. */
export interface EmailSend {
  readonly type: string;
  readonly correlationId?: string;
}

export interface LedgerInput {
  readonly orders: readonly ClientOrder[];
  /** Customers registered by the run: each gets one welcome e-mail. */
  readonly customers: readonly string[];
  /** Every stored event of the run's orders and customers. */
  readonly events: readonly StoredEvent[];
  readonly views: readonly OrderViewRow[];
  readonly stock: readonly StockRow[];
  readonly reservations: readonly ReservationRow[];
  readonly emailMarkers: readonly EmailMarker[];
  /** The test e-mail provider's records; absent when they could not be read (then not checked). */
  readonly emailSends?: readonly EmailSend[];
  /** Dead letters of the run still in a DLQ / dead-letter set, already described. */
  readonly deadLetters: readonly { readonly source: string; readonly detail: string }[];
  /** Queues still holding messages at the end. */
  readonly backlog: readonly { readonly queue: string; readonly messages: number }[];
}

export const FINAL_STATUSES = new Set(['SHIPPED', 'REJECTED', 'PAYMENT_FAILED', 'CANCELLED']);
/** Statuses in which an order keeps its reservation (paid or on its way to being paid). */
export const HOLDING_STATUSES = new Set(['INVENTORY_RESERVED', 'PAID', 'SHIPPED']);
export const NOTIFYING_ORDER_EVENTS = [
  'OrderPlaced',
  'InventoryRejected',
  'PaymentCompleted',
  'PaymentFailed',
  'OrderShipped',
  'OrderCancelled',
] as const;
/** Event types an order records at most once; a second one is a duplicate that changed state. */
const ONCE_PER_ORDER = [
  'OrderPlaced',
  'InventoryReserved',
  'InventoryRejected',
  'PaymentCompleted',
  'PaymentFailed',
  'OrderShipped',
  'OrderCancelled',
  'ShipmentConfirmed',
];
const STATUS_AFTER: Readonly<Record<string, string>> = {
  OrderPlaced: 'PENDING',
  InventoryReserved: 'INVENTORY_RESERVED',
  InventoryRejected: 'REJECTED',
  PaymentCompleted: 'PAID',
  PaymentFailed: 'PAYMENT_FAILED',
  OrderShipped: 'SHIPPED',
  OrderCancelled: 'CANCELLED',
};
const CHARGEABLE_TOKENS = new Set(['tok_visa', 'tok_transient_2']);

export const emailMarkerKey = (subjectId: string, type: string): string => `email#${subjectId}#${type}`;

/** The status an order's events lead to (events in version order). */
export function statusOf(events: readonly StoredEvent[]): string {
  let status = 'NONE';
  for (const event of events) status = STATUS_AFTER[event.type] ?? status;
  return status;
}

export interface OrderLedger {
  readonly key: string;
  readonly orderIds: readonly string[];
  readonly status?: string;
}

export interface LedgerReport {
  readonly anomalies: readonly Anomaly[];
  readonly counts: Readonly<Record<Category, number>>;
  readonly byKind: Readonly<Record<string, number>>;
  /** Final status → orders (every order of the run, duplicates included). */
  readonly statuses: Readonly<Record<string, number>>;
  readonly orders: readonly OrderLedger[];
}

function groupBy<T>(values: readonly T[], keyOf: (value: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const value of values) {
    const key = keyOf(value);
    const group = groups.get(key);
    if (group) group.push(value);
    else groups.set(key, [value]);
  }
  return groups;
}

export function checkLedger(input: LedgerInput): LedgerReport {
  const anomalies: Anomaly[] = [];
  const add = (anomaly: Anomaly) => anomalies.push(anomaly);

  const streams = groupBy(input.events, (e) => e.aggregateId);
  for (const stream of streams.values()) stream.sort((a, b) => a.version - b.version);
  const keys = new Set(input.orders.map((o) => o.key));
  // An order belongs to the run through its OrderPlaced, whose correlation id is the client's key.
  const ordersOfKey = new Map<string, string[]>();
  for (const [aggregateId, stream] of streams) {
    const placed = stream.find((e) => e.type === 'OrderPlaced');
    if (!placed?.correlationId || !keys.has(placed.correlationId)) continue;
    ordersOfKey.set(placed.correlationId, [...(ordersOfKey.get(placed.correlationId) ?? []), aggregateId]);
  }
  const keyOfOrder = new Map<string, string>();
  for (const [key, ids] of ordersOfKey) for (const id of ids) keyOfOrder.set(id, key);

  // --- Exactly one order per Idempotency-Key, and it is the one the client was told about.
  const ledgers: OrderLedger[] = [];
  for (const order of input.orders) {
    const ids = ordersOfKey.get(order.key) ?? [];
    const ack = order.acknowledged;
    if (ids.length === 0) {
      add({
        category: 'lost',
        kind: ack ? 'order-lost' : 'not-placed',
        key: order.key,
        ...(ack ? { orderId: ack.orderId } : {}),
        detail: ack
          ? `acknowledged with ${ack.status} as ${ack.orderId}, but no OrderPlaced carries its key`
          : `never acknowledged${order.refused ? ` (refused ${order.refused.status} ${order.refused.code ?? ''})` : ''} and not in the event store`,
      });
    } else {
      if (ids.length > 1) {
        add({
          category: 'duplicated',
          kind: 'orders-per-key',
          key: order.key,
          detail: `${ids.length} orders for one Idempotency-Key: ${ids.join(', ')}`,
        });
      }
      if (ack && !ids.includes(ack.orderId)) {
        add({
          category: 'lost',
          kind: 'ack-mismatch',
          key: order.key,
          orderId: ack.orderId,
          detail: `the client was answered ${ack.orderId}, the store holds ${ids.join(', ')}`,
        });
      }
      if (!ack) {
        add({
          category: 'stuck',
          kind: 'unacknowledged',
          key: order.key,
          orderId: ids[0],
          detail: `placed as ${ids.join(', ')} but the client never got its 2xx`,
        });
      }
    }
    const chosen = ack && ids.includes(ack.orderId) ? ack.orderId : ids[0];
    const stream = chosen ? (streams.get(chosen) ?? []) : [];
    ledgers.push({ key: order.key, orderIds: ids, ...(chosen ? { status: statusOf(stream) } : {}) });
  }

  // --- Per order (every order of the run, duplicates included): events, state, read model, charges.
  const views = new Map(input.views.map((v) => [v.orderId, v]));
  const markers = new Map(input.emailMarkers.map((m) => [m.key, m]));
  const reservations = new Map(input.reservations.map((r) => [r.orderId, r]));
  const clientOrders = new Map(input.orders.map((o) => [o.key, o]));
  const statuses: Record<string, number> = {};
  const held = new Map<string, number>();
  const seenEventIds = new Map<string, string>();
  for (const event of input.events) {
    const previous = seenEventIds.get(event.eventId);
    if (previous !== undefined) {
      add({
        category: 'duplicated',
        kind: 'event-id',
        orderId: event.aggregateId,
        detail: `eventId ${event.eventId} stored twice (${previous} and ${event.aggregateId} v${event.version})`,
      });
    }
    seenEventIds.set(event.eventId, `${event.aggregateId} v${event.version}`);
  }

  for (const [orderId, key] of keyOfOrder) {
    const stream = streams.get(orderId) ?? [];
    const base = { key, orderId };
    const versions = groupBy(stream, (e) => String(e.version));
    for (const [version, same] of versions) {
      if (same.length > 1) {
        add({
          ...base,
          category: 'duplicated',
          kind: 'event-version',
          detail: `${same.length} events with version ${version}`,
        });
      }
    }
    const distinct = [...versions.keys()].map(Number).sort((a, b) => a - b);
    const gap = distinct.findIndex((version, i) => version !== i + 1);
    if (gap >= 0) {
      add({
        ...base,
        category: 'lost',
        kind: 'event-gap',
        detail: `versions ${distinct.join(', ')}: ${gap + 1} is missing`,
      });
    }
    const byType = groupBy(stream, (e) => e.type);
    for (const type of ONCE_PER_ORDER) {
      const count = byType.get(type)?.length ?? 0;
      if (count > 1) {
        add({
          ...base,
          category: 'duplicated',
          kind:
            type === 'PaymentCompleted'
              ? 'charge'
              : type === 'InventoryReserved'
                ? 'reservation'
                : 'event-repeated',
          detail: `${count} × ${type} (versions ${byType
            .get(type)
            ?.map((e) => e.version)
            .join(', ')})`,
        });
      }
    }
    const status = statusOf(stream);
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (!FINAL_STATUSES.has(status)) {
      add({
        ...base,
        category: 'stuck',
        kind: 'not-final',
        detail: `status ${status} at version ${stream.at(-1)?.version}`,
      });
    }
    const last = stream.at(-1);
    const view = views.get(orderId);
    if (!view) {
      add({
        ...base,
        category: 'stuck',
        kind: 'read-model-missing',
        detail: `no read model item (store: ${status} v${last?.version})`,
      });
    } else if (view.version !== last?.version || view.status !== status) {
      add({
        ...base,
        category: 'stuck',
        kind: 'read-model-behind',
        detail: `read model ${view.status} v${view.version}, store ${status} v${last?.version}`,
      });
    }

    // Charges: a paid order has exactly one PaymentCompleted; only a chargeable token is charged.
    const client = clientOrders.get(key);
    const charges = byType.get('PaymentCompleted')?.length ?? 0;
    if ((status === 'PAID' || status === 'SHIPPED') && charges === 0) {
      add({
        ...base,
        category: 'inconsistent',
        kind: 'charge-missing',
        detail: `${status} without a PaymentCompleted`,
      });
    }
    if (charges > 0 && client && !CHARGEABLE_TOKENS.has(client.paymentToken ?? '')) {
      add({
        ...base,
        category: 'inconsistent',
        kind: 'outcome',
        detail: `charged with token ${client.paymentToken ?? '(none)'}`,
      });
    }
    if (client) {
      if (client.cancel?.status === 202 && status !== 'CANCELLED') {
        add({
          ...base,
          category: 'inconsistent',
          kind: 'outcome',
          detail: `cancel answered 202, order ${status}`,
        });
      }
      if (status === 'CANCELLED' && !client.cancelRequested) {
        add({
          ...base,
          category: 'inconsistent',
          kind: 'outcome',
          detail: 'cancelled without a cancel request',
        });
      }
      if (status === 'PAYMENT_FAILED' && CHARGEABLE_TOKENS.has(client.paymentToken ?? '')) {
        add({
          ...base,
          category: 'inconsistent',
          kind: 'outcome',
          detail: `payment failed with token ${client.paymentToken}`,
        });
      }
    }

    // E-mails: one per notifying event of the order, and none for an event it does not have.
    for (const type of NOTIFYING_ORDER_EVENTS) {
      const has = byType.has(type);
      const marker = markers.get(emailMarkerKey(orderId, type));
      if (has && !marker) {
        add({ ...base, category: 'lost', kind: 'email-missing', detail: `no ${type} e-mail (no marker)` });
      } else if (has && marker?.status !== 'sent') {
        add({
          ...base,
          category: 'stuck',
          kind: 'email-unconfirmed',
          detail: `${type} e-mail marker is "${marker?.status ?? ''}", not "sent"`,
        });
      } else if (!has && marker) {
        add({
          ...base,
          category: 'inconsistent',
          kind: 'email-unexpected',
          detail: `${type} e-mail without a ${type} event`,
        });
      }
    }

    // Reservations: held exactly by the orders that are reserved, paid or shipped.
    const reserved = byType.has('InventoryReserved');
    const holds = reserved && HOLDING_STATUSES.has(status);
    const row = reservations.get(orderId);
    if (holds && !row) {
      add({
        ...base,
        category: 'inconsistent',
        kind: 'reservation-state',
        detail: `${status} but its reservation is gone (released)`,
      });
    } else if (!holds && row) {
      add({
        ...base,
        category: 'inconsistent',
        kind: 'reservation-state',
        detail: `${status}${reserved ? '' : ' (never reserved)'} but a reservation is still held`,
      });
    }
    if (holds) {
      const placed = byType.get('OrderPlaced')?.[0]?.data as
        | { items?: { sku: string; quantity: number }[] }
        | undefined;
      const items = placed?.items ?? client?.items ?? [];
      for (const item of items) held.set(item.sku, (held.get(item.sku) ?? 0) + item.quantity);
    }
  }

  // --- Stock per SKU: initial − what the holding orders took (reserved minus released).
  for (const row of input.stock) {
    const expected = row.initial - (held.get(row.sku) ?? 0);
    if (row.available !== expected) {
      add({
        category: 'inconsistent',
        kind: 'stock',
        sku: row.sku,
        detail: `available ${row.available ?? '(missing)'}, expected ${expected} (initial ${row.initial} − held ${held.get(row.sku) ?? 0})`,
      });
    }
  }

  // --- Welcome e-mails of the run's customers.
  for (const customerId of input.customers) {
    const marker = markers.get(emailMarkerKey(customerId, 'CustomerRegistered'));
    if (!marker) {
      add({
        category: 'lost',
        kind: 'email-missing',
        detail: `no welcome e-mail for customer ${customerId}`,
      });
    } else if (marker.status !== 'sent') {
      add({
        category: 'stuck',
        kind: 'email-unconfirmed',
        detail: `welcome e-mail of ${customerId} is "${marker.status ?? ''}"`,
      });
    }
  }

  // --- The provider's own records: never two e-mails for one event. A record names the event's
  // correlation id (the client's key) and type; it is matched to the stored events of that pair.
  if (input.emailSends) {
    const notifying = new Set<string>([...NOTIFYING_ORDER_EVENTS, 'CustomerRegistered']);
    const expected = groupBy(
      input.events.filter((e) => e.correlationId !== undefined && notifying.has(e.type)),
      (e) => `${e.correlationId}#${e.type}`,
    );
    const sent = groupBy(
      input.emailSends.filter((s) => s.correlationId !== undefined),
      (s) => `${s.correlationId}#${s.type}`,
    );
    for (const [id, sends] of sent) {
      const events = expected.get(id);
      if (!events) continue; // not an e-mail of this run
      if (sends.length > events.length) {
        const orderId = events[0]?.aggregateId ?? '';
        add({
          category: 'duplicated',
          kind: 'email',
          ...(keyOfOrder.has(orderId) ? { orderId, key: keyOfOrder.get(orderId) } : {}),
          detail: `${sends.length} e-mails sent for ${events.length} event(s) ${id} (${events.map((e) => e.aggregateId).join(', ')})`,
        });
      }
    }
  }

  for (const dead of input.deadLetters) {
    add({ category: 'stuck', kind: 'dead-lettered', detail: `${dead.source}: ${dead.detail}` });
  }
  for (const queue of input.backlog) {
    add({
      category: 'stuck',
      kind: 'backlog',
      detail: `${queue.queue} still holds ${queue.messages} message(s)`,
    });
  }

  const counts: Record<Category, number> = { lost: 0, stuck: 0, duplicated: 0, inconsistent: 0 };
  const byKind: Record<string, number> = {};
  for (const a of anomalies) {
    counts[a.category]++;
    byKind[`${a.category}.${a.kind}`] = (byKind[`${a.category}.${a.kind}`] ?? 0) + 1;
  }
  return { anomalies, counts, byKind, statuses, orders: ledgers };
}

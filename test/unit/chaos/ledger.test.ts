/**
 * The ledger check from plain data: a clean run has no anomaly, and every way an order can be
 * lost, stuck, duplicated or left inconsistent is found and named.
 */
import { describe, expect, it } from 'vitest';
import {
  type ClientOrder,
  checkLedger,
  emailMarkerKey,
  type LedgerInput,
  type StoredEvent,
} from '../../../scripts/chaos/ledger.js';

const ITEMS = [{ sku: 'A', quantity: 2 }];

function stream(orderId: string, key: string, types: string[], cancelKey = `${key}.cancel`): StoredEvent[] {
  return types.map((type, i) => ({
    aggregateId: orderId,
    version: i + 1,
    eventId: `${orderId}-e${i + 1}`,
    type,
    correlationId: type === 'OrderCancelled' ? cancelKey : key,
    data: type === 'OrderPlaced' ? { orderId, items: ITEMS } : { orderId },
  }));
}

const NOTIFYING = new Set([
  'OrderPlaced',
  'InventoryRejected',
  'PaymentCompleted',
  'PaymentFailed',
  'OrderShipped',
  'OrderCancelled',
]);
const STATUS: Record<string, string> = {
  OrderPlaced: 'PENDING',
  InventoryReserved: 'INVENTORY_RESERVED',
  InventoryRejected: 'REJECTED',
  PaymentCompleted: 'PAID',
  PaymentFailed: 'PAYMENT_FAILED',
  OrderShipped: 'SHIPPED',
  OrderCancelled: 'CANCELLED',
};

/** Three orders (shipped, declined, cancelled after reservation) and one customer, all consistent. */
/** A ledger input whose lists a test may replace or extend. */
type Mutable = {
  -readonly [K in keyof LedgerInput]: NonNullable<LedgerInput[K]> extends readonly (infer T)[]
    ? T[]
    : LedgerInput[K];
};

function cleanRun(): Mutable {
  const flows: [string, string, string[], Partial<ClientOrder>][] = [
    [
      'o1',
      'k1',
      ['OrderPlaced', 'InventoryReserved', 'PaymentCompleted', 'OrderShipped'],
      { paymentToken: 'tok_visa' },
    ],
    ['o2', 'k2', ['OrderPlaced', 'InventoryReserved', 'PaymentFailed'], { paymentToken: 'tok_decline' }],
    [
      'o3',
      'k3',
      ['OrderPlaced', 'InventoryReserved', 'OrderCancelled'],
      { paymentToken: 'tok_visa', cancelRequested: true, cancel: { status: 202 } },
    ],
  ];
  const events = [
    ...flows.flatMap(([id, key, types]) => stream(id, key, types)),
    { aggregateId: 'c1', version: 1, eventId: 'c1-e1', type: 'CustomerRegistered', correlationId: 'kc' },
  ];
  return {
    orders: flows.map(([id, key, , extra]) => ({
      key,
      cancelCorrelationId: `${key}.cancel`,
      items: ITEMS,
      cancelRequested: false,
      acknowledged: { orderId: id, status: 202 },
      ...extra,
    })),
    customers: ['c1'],
    events,
    views: flows.map(([id, , types]) => ({
      orderId: id,
      status: STATUS[types.at(-1) ?? ''] ?? '',
      version: types.length,
    })),
    // o1 holds 2 of A; o2 and o3 released theirs.
    stock: [{ sku: 'A', initial: 10, available: 8 }],
    reservations: [{ orderId: 'o1', items: ITEMS }],
    emailMarkers: [
      ...flows.flatMap(([id, , types]) =>
        types.filter((t) => NOTIFYING.has(t)).map((t) => ({ key: emailMarkerKey(id, t), status: 'sent' })),
      ),
      { key: emailMarkerKey('c1', 'CustomerRegistered'), status: 'sent' },
    ],
    emailSends: events
      .filter((e) => NOTIFYING.has(e.type) || e.type === 'CustomerRegistered')
      .map((e) => ({ type: e.type, correlationId: e.correlationId ?? '' })),
    deadLetters: [],
    backlog: [],
  };
}

const kinds = (input: LedgerInput) => checkLedger(input).anomalies.map((a) => `${a.category}.${a.kind}`);

describe('ledger check', () => {
  it('finds nothing wrong in a consistent run, and counts the final statuses', () => {
    const report = checkLedger(cleanRun());
    expect(report.anomalies).toEqual([]);
    expect(report.counts).toEqual({ lost: 0, stuck: 0, duplicated: 0, inconsistent: 0 });
    expect(report.statuses).toEqual({ SHIPPED: 1, PAYMENT_FAILED: 1, CANCELLED: 1 });
  });

  it('two orders for one Idempotency-Key (a retry after the API died mid-request)', () => {
    const run = cleanRun();
    run.events.push(
      ...stream('o1b', 'k1', ['OrderPlaced', 'InventoryReserved', 'PaymentCompleted', 'OrderShipped']),
    );
    const report = checkLedger(run);
    const dup = report.anomalies.find((a) => a.kind === 'orders-per-key');
    expect(dup).toMatchObject({ category: 'duplicated', key: 'k1' });
    expect(dup?.detail).toContain('o1b');
    // The second order also took stock, its e-mails are missing and its view too: all named.
    expect(kinds(run)).toEqual(
      expect.arrayContaining([
        'inconsistent.stock',
        'lost.email-missing',
        'stuck.read-model-missing',
        'inconsistent.reservation-state',
      ]),
    );
  });

  it('an acknowledged order that is not in the event store is lost; one never acknowledged is named', () => {
    const run = cleanRun();
    run.orders.push({
      key: 'k4',
      cancelCorrelationId: 'k4.cancel',
      items: ITEMS,
      cancelRequested: false,
      acknowledged: { orderId: 'o4', status: 202 },
    });
    run.orders.push({ key: 'k5', cancelCorrelationId: 'k5.cancel', items: ITEMS, cancelRequested: false });
    const report = checkLedger(run);
    expect(report.anomalies.filter((a) => a.category === 'lost').map((a) => [a.kind, a.key])).toEqual([
      ['order-lost', 'k4'],
      ['not-placed', 'k5'],
    ]);
  });

  it('the client told one order id while the store holds another', () => {
    const run = cleanRun();
    run.orders[0] = { ...(run.orders[0] as ClientOrder), acknowledged: { orderId: 'other', status: 202 } };
    expect(kinds(run)).toEqual(['lost.ack-mismatch']);
  });

  it('an order not in a final state, and a read model behind the store, are stuck', () => {
    const run = cleanRun();
    run.events = run.events.filter((e) => !(e.aggregateId === 'o1' && e.type === 'OrderShipped'));
    run.emailMarkers = run.emailMarkers.filter((m) => m.key !== emailMarkerKey('o1', 'OrderShipped'));
    const report = checkLedger(run);
    expect(report.anomalies.map((a) => `${a.kind}: ${a.detail}`)).toEqual([
      'not-final: status PAID at version 3',
      'read-model-behind: read model SHIPPED v4, store PAID v3',
    ]);
  });

  it('a repeated PaymentCompleted is a second charge; a repeated reservation and event ids are duplicates', () => {
    const run = cleanRun();
    run.events.push({
      aggregateId: 'o1',
      version: 5,
      eventId: 'o1-e3',
      type: 'PaymentCompleted',
      correlationId: 'k1',
    });
    run.views[0] = { orderId: 'o1', status: 'PAID', version: 5 };
    const report = checkLedger(run);
    expect(
      report.anomalies
        .filter((a) => a.category === 'duplicated')
        .map((a) => a.kind)
        .sort(),
    ).toEqual(['charge', 'event-id']);
    expect(report.anomalies.find((a) => a.kind === 'charge')?.detail).toBe(
      '2 × PaymentCompleted (versions 3, 5)',
    );
  });

  it('two events with one version, and a gap in the versions', () => {
    const run = cleanRun();
    run.events.push({
      aggregateId: 'o2',
      version: 2,
      eventId: 'o2-x',
      type: 'InventoryReserved',
      correlationId: 'k2',
    });
    run.events = run.events.filter((e) => !(e.aggregateId === 'o3' && e.version === 2));
    const found = checkLedger(run).anomalies.map((a) => [a.kind, a.orderId]);
    expect(found).toEqual(
      expect.arrayContaining([
        ['event-version', 'o2'],
        ['event-gap', 'o3'],
      ]),
    );
  });

  it('e-mails: missing, unconfirmed, sent for an event that did not happen, sent twice', () => {
    const run = cleanRun();
    run.emailMarkers = run.emailMarkers
      .filter((m) => m.key !== emailMarkerKey('o1', 'OrderShipped'))
      .map((m) => (m.key === emailMarkerKey('o2', 'PaymentFailed') ? { ...m, status: 'sending' } : m));
    run.emailMarkers.push({ key: emailMarkerKey('o1', 'OrderCancelled'), status: 'sent' });
    run.emailSends = [...(run.emailSends ?? []), { type: 'PaymentCompleted', correlationId: 'k1' }];
    const found = checkLedger(run).anomalies.map((a) => `${a.category}.${a.kind} ${a.orderId} ${a.detail}`);
    expect(found).toEqual([
      'lost.email-missing o1 no OrderShipped e-mail (no marker)',
      'inconsistent.email-unexpected o1 OrderCancelled e-mail without a OrderCancelled event',
      'stuck.email-unconfirmed o2 PaymentFailed e-mail marker is "sending", not "sent"',
      'duplicated.email o1 2 e-mails sent for 1 event(s) k1#PaymentCompleted (o1)',
    ]);
  });

  it('a missing welcome e-mail of a customer', () => {
    const run = cleanRun();
    run.emailMarkers = run.emailMarkers.filter((m) => !m.key.startsWith('email#c1#'));
    expect(kinds(run)).toEqual(['lost.email-missing']);
  });

  it('stock and reservations: a reservation released under a shipped order (a stale event acted upon)', () => {
    const run = cleanRun();
    run.reservations = [];
    run.stock = [{ sku: 'A', initial: 10, available: 10 }];
    expect(checkLedger(run).anomalies.map((a) => `${a.kind}: ${a.detail}`)).toEqual([
      'reservation-state: SHIPPED but its reservation is gone (released)',
      'stock: available 10, expected 8 (initial 10 − held 2)',
    ]);
  });

  it('stock and reservations: a cancelled order that still holds its reservation', () => {
    const run = cleanRun();
    run.reservations.push({ orderId: 'o3', items: ITEMS });
    run.stock = [{ sku: 'A', initial: 10, available: 6 }];
    expect(kinds(run)).toEqual(['inconsistent.reservation-state', 'inconsistent.stock']);
  });

  it('outcomes that contradict what the client asked for', () => {
    const run = cleanRun();
    run.orders[1] = { ...(run.orders[1] as ClientOrder), paymentToken: 'tok_visa' };
    run.orders[2] = {
      ...(run.orders[2] as ClientOrder),
      cancelRequested: false,
      cancel: undefined,
    } as ClientOrder;
    const found = checkLedger(run).anomalies.map((a) => `${a.kind} ${a.orderId}: ${a.detail}`);
    expect(found).toEqual([
      'outcome o2: payment failed with token tok_visa',
      'outcome o3: cancelled without a cancel request',
    ]);
  });

  it('dead letters and a backlog left at the end are stuck', () => {
    const run = cleanRun();
    run.deadLetters = [{ source: 'sqs PaymentQueueDeadLetterQueue', detail: '1 new message(s)' }];
    run.backlog = [{ queue: 'sqs InventoryQueue', messages: 3 }];
    const report = checkLedger(run);
    expect(report.counts.stuck).toBe(2);
    expect(report.byKind).toEqual({ 'stuck.dead-lettered': 1, 'stuck.backlog': 1 });
  });
});

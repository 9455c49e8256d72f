import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../lambdas/commons/domain/decider.js';
import {
  canCancel,
  computeOrderTotal,
  initialOrderState,
  ORDER_STATUSES,
  type OrderCommand,
  type OrderEvent,
  type OrderState,
  type OrderStatus,
  orderDecider,
} from '../../../lambdas/orders/domain/order.js';
import {
  MAX_ORDER_ITEMS,
  orderEventDataSchemas,
  placeOrderBodySchema,
} from '../../../lambdas/orders/domain/order-schemas.js';

// ---- helpers ------------------------------------------------------------------------------------

const fold = (events: readonly OrderEvent[], from: OrderState = orderDecider.initialState): OrderState =>
  events.reduce((state, event) => orderDecider.evolve(state, event), from);

/** GIVEN past events, WHEN a command: the new events and the state they fold to. */
const given = (events: readonly OrderEvent[]) => {
  const state = fold(events);
  return {
    state,
    when(command: OrderCommand) {
      const produced = orderDecider.decide(state, command);
      return { events: produced, state: fold(produced, state) };
    },
  };
};

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the command to be refused');
}

function expectDomainError(fn: () => unknown, code: string, message?: RegExp): DomainError {
  const error = caught(fn);
  expect(error).toBeInstanceOf(DomainError);
  const domainError = error as DomainError;
  expect(domainError.code).toBe(code);
  if (message) expect(domainError.message).toMatch(message);
  return domainError;
}

const ORDER_ID = 'ord-1';
const items = [
  { sku: 'SKU-A', quantity: 2, unitPrice: 1999 },
  { sku: 'SKU-B', quantity: 1, unitPrice: 350 },
];
const TOTAL = 2 * 1999 + 350;

const commands = {
  PlaceOrder: {
    type: 'PlaceOrder',
    data: { orderId: ORDER_ID, customerId: 'cus-1', items, currency: 'EUR' },
  },
  RecordInventoryReserved: { type: 'RecordInventoryReserved', data: { reservationId: 'res-1' } },
  RecordInventoryRejected: { type: 'RecordInventoryRejected', data: { reason: 'out of stock' } },
  RecordPaymentCompleted: { type: 'RecordPaymentCompleted', data: { paymentId: 'pay-1', amount: TOTAL } },
  RecordPaymentFailed: { type: 'RecordPaymentFailed', data: { reason: 'card declined' } },
  ShipOrder: { type: 'ShipOrder', data: { shipmentId: 'shp-1', carrier: 'DHL' } },
  CancelOrder: { type: 'CancelOrder', data: { reason: 'customer asked' } },
} as const satisfies Record<string, OrderCommand>;
type CommandName = keyof typeof commands;

const placed: OrderEvent = {
  type: 'OrderPlaced',
  data: { orderId: ORDER_ID, customerId: 'cus-1', items, total: TOTAL, currency: 'EUR' },
};
const reserved: OrderEvent = {
  type: 'InventoryReserved',
  data: { orderId: ORDER_ID, reservationId: 'res-1' },
};
const rejected: OrderEvent = {
  type: 'InventoryRejected',
  data: { orderId: ORDER_ID, reason: 'out of stock' },
};
const paid: OrderEvent = {
  type: 'PaymentCompleted',
  data: { orderId: ORDER_ID, paymentId: 'pay-1', amount: TOTAL, currency: 'EUR' },
};
const paymentFailed: OrderEvent = {
  type: 'PaymentFailed',
  data: { orderId: ORDER_ID, reason: 'card declined' },
};
const shipped: OrderEvent = { type: 'OrderShipped', data: { orderId: ORDER_ID, shipmentId: 'shp-1' } };
const cancelled: OrderEvent = {
  type: 'OrderCancelled',
  data: { orderId: ORDER_ID, reason: 'changed mind', previousStatus: 'PENDING' },
};

/** A history that reaches each status. */
const historyFor: Record<OrderStatus, readonly OrderEvent[]> = {
  NONE: [],
  PENDING: [placed],
  INVENTORY_RESERVED: [placed, reserved],
  PAID: [placed, reserved, paid],
  SHIPPED: [placed, reserved, paid, shipped],
  REJECTED: [placed, rejected],
  PAYMENT_FAILED: [placed, reserved, paymentFailed],
  CANCELLED: [placed, cancelled],
};

// ---- happy paths --------------------------------------------------------------------------------

describe('orderDecider', () => {
  it('is the Order aggregate and starts with no order', () => {
    expect(orderDecider.aggregateType).toBe('Order');
    expect(orderDecider.initialState).toEqual(initialOrderState);
    expect(initialOrderState.status).toBe('NONE');
  });

  it('GIVEN no order WHEN PlaceOrder THEN OrderPlaced with the exact total, and the order is PENDING', () => {
    const { events, state } = given([]).when(commands.PlaceOrder);
    expect(events).toEqual([placed]);
    expect(state).toMatchObject({
      status: 'PENDING',
      orderId: ORDER_ID,
      customerId: 'cus-1',
      items,
      total: 4348,
      currency: 'EUR',
    });
  });

  it('folds the whole happy path PENDING → INVENTORY_RESERVED → PAID → SHIPPED', () => {
    let history: OrderEvent[] = [];
    const steps: [CommandName, OrderStatus][] = [
      ['PlaceOrder', 'PENDING'],
      ['RecordInventoryReserved', 'INVENTORY_RESERVED'],
      ['RecordPaymentCompleted', 'PAID'],
      ['ShipOrder', 'SHIPPED'],
    ];
    for (const [name, status] of steps) {
      const { events, state } = given(history).when(commands[name]);
      expect(events).toHaveLength(1);
      expect(state.status).toBe(status);
      history = [...history, ...events];
    }
    expect(history.map((event) => event.type)).toEqual([
      'OrderPlaced',
      'InventoryReserved',
      'PaymentCompleted',
      'OrderShipped',
    ]);
    expect(fold(history)).toEqual({
      status: 'SHIPPED',
      orderId: ORDER_ID,
      customerId: 'cus-1',
      items,
      total: TOTAL,
      currency: 'EUR',
      paymentToken: null,
      reservationId: 'res-1',
      paymentId: 'pay-1',
      shipmentId: 'shp-1',
      carrier: 'DHL',
      trackingNumber: null,
      reason: null,
    });
  });

  it("records the warehouse's confirmation once, and refuses one of another shipment", () => {
    // GIVEN a shipped order
    const history = [placed, reserved, paid, shipped];
    const state = fold(history);
    const confirm = (shipmentId: string) =>
      orderDecider.decide(state, {
        type: 'ConfirmShipment',
        data: { shipmentId, trackingNumber: 'TRK-1', confirmedAt: '2026-11-26T12:00:00Z' },
      });
    // WHEN the warehouse confirms its shipment
    const events = confirm('shp-1');
    // THEN ShipmentConfirmed records the tracking number and the order stays SHIPPED
    expect(events).toEqual([
      {
        type: 'ShipmentConfirmed',
        data: {
          orderId: ORDER_ID,
          shipmentId: 'shp-1',
          trackingNumber: 'TRK-1',
          confirmedAt: '2026-11-26T12:00:00Z',
        },
      },
    ]);
    const confirmed = fold([...history, ...events]);
    expect(confirmed).toMatchObject({ status: 'SHIPPED', trackingNumber: 'TRK-1' });
    // AND a redelivered confirmation decides nothing
    expect(
      orderDecider.decide(confirmed, {
        type: 'ConfirmShipment',
        data: { shipmentId: 'shp-1', trackingNumber: 'TRK-1', confirmedAt: '2026-11-26T12:00:00Z' },
      }),
    ).toEqual([]);
    // AND a confirmation of another shipment is refused
    expect(() => confirm('shp-9')).toThrow(expect.objectContaining({ code: 'SHIPMENT_MISMATCH' }));
  });

  it('records payment with the order currency and shipping without a carrier', () => {
    expect(given([placed, reserved]).when(commands.RecordPaymentCompleted).events).toEqual([paid]);
    const { events, state } = given([placed, reserved, paid]).when({
      type: 'ShipOrder',
      data: { shipmentId: 'shp-2' },
    });
    expect(events).toEqual([{ type: 'OrderShipped', data: { orderId: ORDER_ID, shipmentId: 'shp-2' } }]);
    expect(state.carrier).toBeNull();
  });

  it('GIVEN PENDING WHEN inventory is rejected THEN REJECTED with the reason', () => {
    const { events, state } = given([placed]).when(commands.RecordInventoryRejected);
    expect(events).toEqual([rejected]);
    expect(state).toMatchObject({ status: 'REJECTED', reason: 'out of stock' });
  });

  it('GIVEN INVENTORY_RESERVED WHEN payment fails THEN PAYMENT_FAILED with the reason', () => {
    const { events, state } = given([placed, reserved]).when(commands.RecordPaymentFailed);
    expect(events).toEqual([paymentFailed]);
    expect(state).toMatchObject({ status: 'PAYMENT_FAILED', reason: 'card declined' });
  });

  describe('cancel policy: PENDING, INVENTORY_RESERVED and PAYMENT_FAILED only', () => {
    it('cancels a PENDING order without a reservation to release', () => {
      const { events, state } = given([placed]).when(commands.CancelOrder);
      expect(events).toEqual([
        {
          type: 'OrderCancelled',
          data: { orderId: ORDER_ID, reason: 'customer asked', previousStatus: 'PENDING' },
        },
      ]);
      expect(state).toMatchObject({ status: 'CANCELLED', reason: 'customer asked' });
    });

    it.each([
      ['INVENTORY_RESERVED', [placed, reserved]],
      ['PAYMENT_FAILED', [placed, reserved, paymentFailed]],
    ] as const)('cancels a %s order and names the reservation to release', (status, history) => {
      const { events, state } = given(history).when(commands.CancelOrder);
      expect(events).toEqual([
        {
          type: 'OrderCancelled',
          data: {
            orderId: ORDER_ID,
            reason: 'customer asked',
            previousStatus: status,
            reservationId: 'res-1',
          },
        },
      ]);
      expect(state.status).toBe('CANCELLED');
    });

    it.each(ORDER_STATUSES)('canCancel(%s) agrees with decide', (status) => {
      const state = fold(historyFor[status]);
      const expected = ['PENDING', 'INVENTORY_RESERVED', 'PAYMENT_FAILED'].includes(status);
      expect(canCancel(state)).toBe(expected);
      let accepted = true;
      try {
        orderDecider.decide(state, commands.CancelOrder);
      } catch {
        accepted = false;
      }
      expect(accepted).toBe(expected);
    });
  });
});

// ---- refusals -----------------------------------------------------------------------------------

/** Independent oracle: which statuses each command is accepted from. */
const acceptedFrom: Record<CommandName, readonly OrderStatus[]> = {
  PlaceOrder: ['NONE'],
  RecordInventoryReserved: ['PENDING'],
  RecordInventoryRejected: ['PENDING'],
  RecordPaymentCompleted: ['INVENTORY_RESERVED'],
  RecordPaymentFailed: ['INVENTORY_RESERVED'],
  ShipOrder: ['PAID'],
  CancelOrder: ['PENDING', 'INVENTORY_RESERVED', 'PAYMENT_FAILED'],
};

const expectedRefusal = (name: CommandName, status: OrderStatus): string | null => {
  if (acceptedFrom[name].includes(status)) return null;
  if (name === 'PlaceOrder') return 'ORDER_EXISTS';
  if (status === 'NONE') return 'ORDER_NOT_FOUND';
  return 'INVALID_TRANSITION';
};

const matrix = ORDER_STATUSES.flatMap((status) =>
  (Object.keys(commands) as CommandName[]).map((name) => ({
    status,
    name,
    refusal: expectedRefusal(name, status),
  })),
);

describe('every status × every command', () => {
  it('covers all 8 × 7 cases', () => {
    expect(matrix).toHaveLength(56);
    expect(matrix.filter((row) => row.refusal === null)).toHaveLength(9);
  });

  it.each(matrix)('GIVEN $status WHEN $name THEN $refusal', ({ status, name, refusal }) => {
    const history = given(historyFor[status]);
    expect(history.state.status).toBe(status);
    if (refusal === null) {
      const { events } = history.when(commands[name]);
      expect(events).toHaveLength(1);
      return;
    }
    const error = expectDomainError(() => history.when(commands[name]), refusal);
    if (refusal === 'INVALID_TRANSITION') {
      expect(error.message).toContain(name);
      expect(error.message).toContain(status);
    }
  });

  it('refuses a payment that is not exactly the order total', () => {
    for (const amount of [TOTAL - 1, TOTAL + 1, 0]) {
      expectDomainError(
        () =>
          given([placed, reserved]).when({
            type: 'RecordPaymentCompleted',
            data: { paymentId: 'pay-1', amount },
          }),
        'PAYMENT_AMOUNT_MISMATCH',
        new RegExp(String(amount)),
      );
    }
  });

  it('refuses malformed command data with INVALID_COMMAND and the field path', () => {
    const badPlace: OrderCommand = {
      type: 'PlaceOrder',
      data: {
        orderId: ORDER_ID,
        customerId: 'cus-1',
        items: [{ sku: 'A', quantity: 0, unitPrice: 1 }],
        currency: 'EUR',
      },
    };
    expectDomainError(() => given([]).when(badPlace), 'INVALID_COMMAND', /items\.0\.quantity/);
    expectDomainError(
      () =>
        given([placed, reserved]).when({
          type: 'RecordPaymentCompleted',
          data: { paymentId: 'p', amount: 1.5 },
        }),
      'INVALID_COMMAND',
      /amount/,
    );
    expectDomainError(
      () => given([placed]).when({ type: 'CancelOrder', data: { reason: '   ' } }),
      'INVALID_COMMAND',
      /reason/,
    );
  });

  it('refuses an unknown command type', () => {
    const unknown = { type: 'RefundOrder', data: {} } as unknown as OrderCommand;
    expectDomainError(() => given([placed]).when(unknown), 'UNKNOWN_COMMAND');
  });
});

// ---- totals -------------------------------------------------------------------------------------

describe('computeOrderTotal', () => {
  it('sums quantity × unitPrice exactly in integers', () => {
    expect(computeOrderTotal(items)).toBe(4348);
    // 0.1 + 0.2 style amounts stay exact in minor units.
    expect(
      computeOrderTotal([
        { quantity: 3, unitPrice: 10 },
        { quantity: 1, unitPrice: 20 },
      ]),
    ).toBe(50);
    expect(computeOrderTotal([{ quantity: 7, unitPrice: 0 }])).toBe(0);
    expect(computeOrderTotal([])).toBe(0);
  });

  it('stays exact at the largest order the schema allows', () => {
    const biggest = Array.from({ length: MAX_ORDER_ITEMS }, (_, i) => ({
      sku: `SKU-${i}`,
      quantity: 10_000,
      unitPrice: 1_000_000_000,
    }));
    expect(computeOrderTotal(biggest)).toBe(500_000_000_000_000);
    const { events } = given([]).when({
      type: 'PlaceOrder',
      data: { orderId: 'big', customerId: 'c', items: biggest, currency: 'JPY' },
    });
    expect(events[0]?.type === 'OrderPlaced' && events[0].data.total).toBe(500_000_000_000_000);
  });

  it('refuses totals beyond the safe integer range', () => {
    expect(() => computeOrderTotal([{ quantity: 2, unitPrice: Number.MAX_SAFE_INTEGER }])).toThrow(
      RangeError,
    );
    expect(() => computeOrderTotal([{ quantity: 1.5, unitPrice: 2 }])).toThrow(RangeError);
  });
});

// ---- schemas ------------------------------------------------------------------------------------

const validBody = {
  customerId: 'cus-1',
  items: [{ sku: 'SKU-A', quantity: 1, unitPrice: 100 }],
  currency: 'EUR',
};

const issuesOf = (input: unknown) => {
  const result = placeOrderBodySchema.safeParse(input);
  expect(result.success).toBe(false);
  return result.success ? [] : result.error.issues;
};

describe('placeOrderBodySchema', () => {
  it('accepts a valid body and trims identifiers', () => {
    expect(placeOrderBodySchema.parse({ ...validBody, customerId: ' cus-1 ' })).toEqual(validBody);
  });

  it.each([
    [
      'a missing customerId',
      { items: validBody.items, currency: 'EUR' },
      ['customerId'],
      'customerId is required',
    ],
    ['a numeric customerId', { ...validBody, customerId: 42 }, ['customerId'], 'customerId must be a string'],
    [
      'an empty customerId',
      { ...validBody, customerId: '  ' },
      ['customerId'],
      'customerId must not be empty',
    ],
    ['missing items', { customerId: 'c', currency: 'EUR' }, ['items'], 'items is required'],
    ['items not an array', { ...validBody, items: 'x' }, ['items'], 'items must be an array'],
    ['an empty item list', { ...validBody, items: [] }, ['items'], 'items must contain at least one item'],
    [
      'too many items',
      {
        ...validBody,
        items: Array.from({ length: 51 }, (_, i) => ({ sku: `S${i}`, quantity: 1, unitPrice: 1 })),
      },
      ['items'],
      'items must contain at most 50 items',
    ],
    [
      'a zero quantity',
      { ...validBody, items: [{ sku: 'A', quantity: 0, unitPrice: 1 }] },
      ['items', 0, 'quantity'],
      'quantity must be at least 1',
    ],
    [
      'a negative quantity',
      { ...validBody, items: [{ sku: 'A', quantity: -3, unitPrice: 1 }] },
      ['items', 0, 'quantity'],
      'quantity must be at least 1',
    ],
    [
      'a fractional quantity',
      { ...validBody, items: [{ sku: 'A', quantity: 1.5, unitPrice: 1 }] },
      ['items', 0, 'quantity'],
      'quantity must be an integer',
    ],
    [
      'a string quantity',
      { ...validBody, items: [{ sku: 'A', quantity: '2', unitPrice: 1 }] },
      ['items', 0, 'quantity'],
      'quantity must be an integer',
    ],
    [
      'a negative unitPrice',
      { ...validBody, items: [{ sku: 'A', quantity: 1, unitPrice: -1 }] },
      ['items', 0, 'unitPrice'],
      'unitPrice must not be negative',
    ],
    [
      'a fractional unitPrice (major units)',
      { ...validBody, items: [{ sku: 'A', quantity: 1, unitPrice: 19.99 }] },
      ['items', 0, 'unitPrice'],
      'unitPrice must be an integer amount of minor units',
    ],
    [
      'a missing sku',
      { ...validBody, items: [{ quantity: 1, unitPrice: 1 }] },
      ['items', 0, 'sku'],
      'sku is required',
    ],
    [
      'a repeated sku',
      {
        ...validBody,
        items: [
          { sku: 'A', quantity: 1, unitPrice: 1 },
          { sku: 'A', quantity: 2, unitPrice: 1 },
        ],
      },
      ['items', 1, 'sku'],
      'sku A appears more than once',
    ],
    ['a lower-case currency', { ...validBody, currency: 'eur' }, ['currency'], 'ISO 4217'],
    ['a 4-letter currency', { ...validBody, currency: 'EURO' }, ['currency'], 'ISO 4217'],
    ['a missing currency', { customerId: 'c', items: validBody.items }, ['currency'], 'currency is required'],
  ])('refuses %s', (_case, input, path, message) => {
    const issues = issuesOf(input);
    const issue = issues.find((candidate) => JSON.stringify(candidate.path) === JSON.stringify(path));
    expect(issue, JSON.stringify(issues)).toBeDefined();
    expect(issue?.message).toContain(message);
  });

  it('refuses unknown fields, at the top level and in items', () => {
    const top = issuesOf({ ...validBody, orderId: 'client-chosen' });
    expect(top).toEqual([
      expect.objectContaining({ code: 'unrecognized_keys', keys: ['orderId'], path: [] }),
    ]);
    const nested = issuesOf({ ...validBody, items: [{ sku: 'A', quantity: 1, unitPrice: 1, discount: 5 }] });
    expect(nested).toEqual([
      expect.objectContaining({ code: 'unrecognized_keys', keys: ['discount'], path: ['items', 0] }),
    ]);
  });

  it.each([null, 'order', 42, []])('refuses a body that is not an object: %j', (input) => {
    expect(issuesOf(input)[0]?.message).toBe('body must be a JSON object');
  });

  it('reports every broken field at once', () => {
    const paths = issuesOf({
      customerId: 1,
      items: [{ sku: 'A', quantity: 0, unitPrice: -1 }],
      currency: 'x',
    }).map((issue) => issue.path.join('.'));
    expect(paths).toEqual(
      expect.arrayContaining(['customerId', 'items.0.quantity', 'items.0.unitPrice', 'currency']),
    );
  });
});

describe('orderEventDataSchemas', () => {
  it('accept every event decide produces on the happy and unhappy paths', () => {
    const shipmentConfirmed: OrderEvent = {
      type: 'ShipmentConfirmed',
      data: {
        orderId: ORDER_ID,
        shipmentId: 'shp-1',
        trackingNumber: 'TRK-1',
        confirmedAt: '2026-11-26T12:00:00Z',
      },
    };
    const all = [placed, reserved, rejected, paid, paymentFailed, shipped, cancelled, shipmentConfirmed];
    expect(new Set(all.map((event) => event.type))).toEqual(new Set(Object.keys(orderEventDataSchemas)));
    for (const event of all) {
      expect(orderEventDataSchemas[event.type].safeParse(event.data).success, event.type).toBe(true);
    }
  });

  it('refuse malformed event data', () => {
    expect(orderEventDataSchemas.OrderPlaced.safeParse({ ...placed.data, total: -1 }).success).toBe(false);
    expect(
      orderEventDataSchemas.OrderCancelled.safeParse({ ...cancelled.data, previousStatus: 'PAID' }).success,
    ).toBe(false);
  });
});

// ---- property: random command sequences ---------------------------------------------------------

/** Deterministic PRNG (mulberry32), so a failure reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomCommand(random: () => number, state: OrderState, step: number): OrderCommand {
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  switch (int(0, 6)) {
    case 0: {
      const count = int(1, 5);
      return {
        type: 'PlaceOrder',
        data: {
          orderId: `ord-${step}`,
          customerId: `cus-${int(1, 9)}`,
          items: Array.from({ length: count }, (_, i) => ({
            sku: `SKU-${i}`,
            quantity: int(1, 20),
            unitPrice: int(0, 100_000),
          })),
          currency: ['EUR', 'USD', 'JPY'][int(0, 2)] ?? 'EUR',
        },
      };
    }
    case 1:
      return { type: 'RecordInventoryReserved', data: { reservationId: `res-${step}` } };
    case 2:
      return { type: 'RecordInventoryRejected', data: { reason: 'no stock' } };
    case 3:
      // Mostly the right amount, sometimes not.
      return {
        type: 'RecordPaymentCompleted',
        data: { paymentId: `pay-${step}`, amount: random() < 0.8 ? state.total : state.total + int(1, 5) },
      };
    case 4:
      return { type: 'RecordPaymentFailed', data: { reason: 'declined' } };
    case 5:
      return random() < 0.5
        ? { type: 'ShipOrder', data: { shipmentId: `shp-${step}` } }
        : { type: 'ShipOrder', data: { shipmentId: `shp-${step}`, carrier: 'UPS' } };
    default:
      return { type: 'CancelOrder', data: { reason: 'changed mind' } };
  }
}

/** Legal edges of the state machine, including NONE → PENDING. */
const edges = new Set([
  'NONE>PENDING',
  'PENDING>INVENTORY_RESERVED',
  'PENDING>REJECTED',
  'PENDING>CANCELLED',
  'INVENTORY_RESERVED>PAID',
  'INVENTORY_RESERVED>PAYMENT_FAILED',
  'INVENTORY_RESERVED>CANCELLED',
  'PAYMENT_FAILED>CANCELLED',
  'PAID>SHIPPED',
]);

describe('property: 200 random command sequences', () => {
  it('evolve accepts whatever decide emits, statuses stay known and only follow legal edges', () => {
    const random = prng(20240611);
    const reached = new Set<OrderStatus>();
    for (let run = 0; run < 200; run += 1) {
      let state = orderDecider.initialState;
      const history: OrderEvent[] = [];
      const length = 1 + Math.floor(random() * 12);
      for (let step = 0; step < length; step += 1) {
        const command = randomCommand(random, state, step);
        let events: readonly OrderEvent[];
        try {
          events = orderDecider.decide(state, command);
        } catch (error) {
          expect(error).toBeInstanceOf(DomainError);
          continue;
        }
        expect(events).toHaveLength(1);
        for (const event of events) {
          expect(orderEventDataSchemas[event.type].safeParse(event.data).success).toBe(true);
          const next = orderDecider.evolve(state, event);
          expect(ORDER_STATUSES).toContain(next.status);
          expect(edges.has(`${state.status}>${next.status}`), `${state.status}>${next.status}`).toBe(true);
          history.push(event);
          state = next;
        }
        expect(Number.isSafeInteger(state.total)).toBe(true);
        expect(state.total).toBe(computeOrderTotal(state.items));
      }
      // Rehydrating from the stored events gives the same state.
      expect(fold(history)).toEqual(state);
      reached.add(state.status);
    }
    // The generator is not degenerate: it ends in most statuses.
    expect(reached.size).toBeGreaterThanOrEqual(5);
  });
});

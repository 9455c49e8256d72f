import { describe, expect, it } from 'vitest';
import {
  ACTIVITY_SCHEMA_VERSION,
  type ActivityEvent,
  activityEventSchema,
  enrich,
  ingestBodySchema,
  MAX_EVENTS_PER_REQUEST,
  normalisePage,
  validateEvents,
} from '../../../lambdas/analytics/domain/activity.js';

const COMMON = { schemaVersion: 1, userId: 'user-1', occurredAt: '2024-05-01T10:00:00Z' } as const;

/** One valid example of every event type. */
const VALID: Record<ActivityEvent['type'], Record<string, unknown>> = {
  page_view: { ...COMMON, type: 'page_view', page: '/shoes' },
  add_to_cart: { ...COMMON, type: 'add_to_cart', sku: 'SKU-1', quantity: 2 },
  remove_from_cart: { ...COMMON, type: 'remove_from_cart', sku: 'SKU-1' },
  search: { ...COMMON, type: 'search', query: 'red shoes' },
  purchase: { ...COMMON, type: 'purchase', amount: 2500, currency: 'EUR', orderId: 'ord-1' },
};

/** The field paths of the errors of a single event, or [] when it is accepted. */
function errorPaths(event: unknown): string[] {
  const { rejected } = validateEvents([event]);
  return rejected.flatMap((r) => r.errors.map((e) => e.path));
}

function errorsOf(event: unknown) {
  return validateEvents([event]).rejected[0]?.errors ?? [];
}

function parsed(event: Record<string, unknown>): ActivityEvent {
  return activityEventSchema.parse(event);
}

describe('activityEventSchema', () => {
  it('is at version 1', () => {
    expect(ACTIVITY_SCHEMA_VERSION).toBe(1);
  });

  it.each(Object.entries(VALID))('accepts a valid %s event as it is', (_type, event) => {
    // GIVEN a valid event of the type
    // WHEN it is parsed
    const result = activityEventSchema.safeParse(event);
    // THEN it is accepted unchanged
    expect(result.success).toBe(true);
    expect(result.data).toEqual(event);
  });

  it('accepts the optional common fields, receivedAt included', () => {
    const event = {
      ...VALID.page_view,
      eventId: 'evt-1',
      sessionId: 'sess-1',
      userAgent: 'Mozilla/5.0',
      receivedAt: '2024-05-01T10:00:01.123Z',
    };
    expect(errorPaths(event)).toEqual([]);
  });

  it.each([
    ['page_view', 'page'],
    ['add_to_cart', 'sku'],
    ['add_to_cart', 'quantity'],
    ['remove_from_cart', 'sku'],
    ['search', 'query'],
    ['purchase', 'amount'],
    ['purchase', 'currency'],
  ] as const)('rejects a %s event without %s, naming the field', (type, field) => {
    // GIVEN a valid event of the type without one of its required fields
    const { [field]: _removed, ...event } = VALID[type];
    // WHEN it is validated
    // THEN the error names the missing field
    expect(errorPaths(event)).toEqual([field]);
  });

  it.each(['schemaVersion', 'userId', 'occurredAt', 'type'])('rejects an event without %s', (field) => {
    const { [field]: _removed, ...event } = VALID.page_view;
    expect(errorPaths(event)).toContain(field);
  });

  it('rejects an unknown type with the list of the known ones', () => {
    expect(errorsOf({ ...VALID.page_view, type: 'click' })).toEqual([
      {
        path: 'type',
        message: 'type must be one of page_view, add_to_cart, remove_from_cart, search, purchase',
      },
    ]);
  });

  it('rejects an empty page', () => {
    expect(errorsOf({ ...VALID.page_view, page: '' })).toEqual([
      { path: 'page', message: 'page must not be empty' },
    ]);
  });

  it.each([
    [0, true],
    [1, true],
    [100_000_000, true],
    [100_000_001, false],
    [-1, false],
    [12.5, false],
    [Number.NaN, false],
    ['2500', false],
  ])('purchase amount %s (minor units) accepted: %s', (amount, accepted) => {
    expect(errorPaths({ ...VALID.purchase, amount })).toEqual(accepted ? [] : ['amount']);
  });

  it('explains that a fractional amount must be in minor units', () => {
    expect(errorsOf({ ...VALID.purchase, amount: 25.99 })).toEqual([
      { path: 'amount', message: 'amount must be an integer in minor units' },
    ]);
  });

  it.each([
    ['EUR', true],
    ['USD', true],
    ['eur', false],
    ['EU', false],
    ['EURO', false],
    ['E1R', false],
    ['', false],
  ])('purchase currency %j accepted: %s', (currency, accepted) => {
    const errors = errorsOf({ ...VALID.purchase, currency });
    expect(errors).toEqual(
      accepted ? [] : [{ path: 'currency', message: 'currency must be an ISO 4217 code' }],
    );
  });

  it.each([
    [0, false],
    [1, true],
    [1000, true],
    [1001, false],
    [1.5, false],
    [-2, false],
  ])('add_to_cart quantity %s accepted: %s', (quantity, accepted) => {
    expect(errorPaths({ ...VALID.add_to_cart, quantity })).toEqual(accepted ? [] : ['quantity']);
  });

  it.each([
    ['2024-05-01T10:00:00Z', true],
    ['2024-05-01T10:00:00.123Z', true],
    ['2024-05-01T12:00:00+02:00', true],
    ['2024-05-01T05:00:00-05:00', true],
    ['2024-05-01T10:00:00', false],
    ['2024-05-01', false],
    ['2024-02-30T10:00:00Z', false],
    ['1 May 2024 10:00', false],
    ['', false],
  ])('occurredAt %j accepted: %s', (occurredAt, accepted) => {
    const errors = errorsOf({ ...VALID.page_view, occurredAt });
    expect(errors).toEqual(
      accepted ? [] : [{ path: 'occurredAt', message: 'occurredAt must be an ISO-8601 date-time' }],
    );
  });

  it('rejects an epoch number as occurredAt', () => {
    expect(errorPaths({ ...VALID.page_view, occurredAt: 1_714_557_600_000 })).toEqual(['occurredAt']);
  });

  it.each([0, 2, '1', null])('rejects schemaVersion %j', (schemaVersion) => {
    expect(errorsOf({ ...VALID.page_view, schemaVersion })).toEqual([
      { path: 'schemaVersion', message: 'schemaVersion must be 1' },
    ]);
  });

  it('rejects unknown fields with a message naming each of them', () => {
    // GIVEN a page view with two fields the schema does not know
    const event = { ...VALID.page_view, referrer: 'https://example.com', price: 3 };
    // WHEN it is validated
    // THEN one error on the event names both fields
    expect(errorsOf(event)).toEqual([{ path: '(event)', message: 'unknown field(s): referrer, price' }]);
  });

  it("rejects a field of another type's event (sku on a page view)", () => {
    expect(errorsOf({ ...VALID.page_view, sku: 'SKU-1' })).toEqual([
      { path: '(event)', message: 'unknown field(s): sku' },
    ]);
  });

  it.each([
    ['', false, 'userId must not be empty'],
    ['u', true, undefined],
    ['u'.repeat(128), true, undefined],
    ['u'.repeat(129), false, 'userId must be at most 128 characters'],
  ])('userId of length %#: accepted %s', (userId, accepted, message) => {
    const errors = errorsOf({ ...VALID.page_view, userId });
    expect(errors).toEqual(accepted ? [] : [{ path: 'userId', message }]);
  });

  it('rejects a non-object event', () => {
    expect(errorPaths('page_view')).toEqual(['(event)']);
    expect(errorPaths(null)).toEqual(['(event)']);
  });
});

describe('validateEvents', () => {
  it('keeps the indexes of the accepted and rejected events, in order, with field paths', () => {
    // GIVEN a batch mixing valid and invalid events
    const batch = [
      VALID.page_view,
      { ...VALID.purchase, currency: 'eur' },
      VALID.add_to_cart,
      { ...VALID.add_to_cart, quantity: 0, extra: true },
      VALID.search,
    ];
    // WHEN it is validated
    const { accepted, rejected } = validateEvents(batch);
    // THEN the valid ones are accepted with their index, the others rejected with theirs
    expect(accepted.map((a) => a.index)).toEqual([0, 2, 4]);
    expect(accepted.map((a) => a.event)).toEqual([VALID.page_view, VALID.add_to_cart, VALID.search]);
    expect(rejected).toEqual([
      { index: 1, errors: [{ path: 'currency', message: 'currency must be an ISO 4217 code' }] },
      {
        index: 3,
        errors: [
          { path: 'quantity', message: expect.any(String) },
          { path: '(event)', message: 'unknown field(s): extra' },
        ],
      },
    ]);
  });

  it('accepts an empty batch as nothing to do', () => {
    expect(validateEvents([])).toEqual({ accepted: [], rejected: [] });
  });

  it('rejects every event of an all-invalid batch', () => {
    const { accepted, rejected } = validateEvents([{}, 1, VALID.page_view, []]);
    expect(accepted.map((a) => a.index)).toEqual([2]);
    expect(rejected.map((r) => r.index)).toEqual([0, 1, 3]);
  });
});

describe('ingestBodySchema', () => {
  it('accepts 1 to 500 events', () => {
    expect(MAX_EVENTS_PER_REQUEST).toBe(500);
    expect(ingestBodySchema.safeParse({ events: [VALID.page_view] }).success).toBe(true);
    expect(ingestBodySchema.safeParse({ events: Array(500).fill(VALID.page_view) }).success).toBe(true);
  });

  it('does not validate the events themselves (each event is validated on its own)', () => {
    expect(ingestBodySchema.safeParse({ events: [{ nonsense: true }, 42] }).success).toBe(true);
  });

  it('rejects an empty batch', () => {
    const result = ingestBodySchema.safeParse({ events: [] });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.message)).toEqual(['events must not be empty']);
  });

  it('rejects more than 500 events', () => {
    const result = ingestBodySchema.safeParse({ events: Array(501).fill(VALID.page_view) });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.message)).toEqual(['at most 500 events per request']);
  });

  it.each([
    ['no events', {}],
    ['events not an array', { events: VALID.page_view }],
    ['an unknown top-level field', { events: [VALID.page_view], user: 'x' }],
    ['a bare array', [VALID.page_view]],
  ])('rejects a body with %s', (_case, body) => {
    expect(ingestBodySchema.safeParse(body).success).toBe(false);
  });
});

describe('normalisePage', () => {
  it.each([
    ['/shoes', '/shoes'],
    ['/shoes?ref=ad', '/shoes'],
    ['/shoes#reviews', '/shoes'],
    ['/shoes?ref=ad#reviews', '/shoes'],
    ['/shoes#top?x=1', '/shoes'],
    ['/shoes/', '/shoes'],
    ['/shoes///', '/shoes'],
    ['/Shoes/?ref=ad', '/shoes'],
    ['/SHOES/Red', '/shoes/red'],
    ['/', '/'],
    ['/?q=1', '/'],
    ['/#top', '/'],
    ['//', '/'],
    ['?q=1', '/'],
    ['/a/b/', '/a/b'],
  ])('%j → %j', (raw, expected) => {
    expect(normalisePage(raw)).toBe(expected);
  });

  it('makes /Shoes/?ref=ad and /shoes one page', () => {
    expect(normalisePage('/Shoes/?ref=ad')).toBe(normalisePage('/shoes'));
  });
});

describe('enrich', () => {
  it.each([
    'Googlebot/2.1 (+http://www.google.com/bot.html)',
    'Mozilla/5.0 (compatible; bingbot/2.0)',
    'AhrefsBot/7.0',
    'Some Crawler 1.0',
    'Baiduspider',
    'Mozilla/5.0 HeadlessChrome/120.0',
    'curl/8.4.0',
  ])('excludes bot traffic: %j', (userAgent) => {
    // GIVEN an event from a bot user agent
    const event = parsed({ ...VALID.page_view, userAgent });
    // WHEN it is enriched
    // THEN it is excluded as a bot
    expect(enrich(event)).toEqual({ kind: 'excluded', reason: 'bot' });
  });

  it.each([
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148',
    'curl-like-app 1.0',
    '',
  ])('keeps a non-bot user agent: %j', (userAgent) => {
    expect(enrich(parsed({ ...VALID.page_view, userAgent })).kind).toBe('fact');
  });

  it('keeps an event without a user agent', () => {
    expect(enrich(parsed(VALID.page_view)).kind).toBe('fact');
  });

  it('turns a page view into a fact keyed by user with its normalised page', () => {
    const event = parsed({ ...VALID.page_view, page: '/Shoes/?ref=ad' });
    expect(enrich(event)).toEqual({
      kind: 'fact',
      fact: { key: 'user-1', eventTime: Date.UTC(2024, 4, 1, 10), type: 'page_view', page: '/shoes' },
    });
  });

  it('keeps the amount of a purchase', () => {
    expect(enrich(parsed(VALID.purchase))).toEqual({
      kind: 'fact',
      fact: { key: 'user-1', eventTime: Date.UTC(2024, 4, 1, 10), type: 'purchase', amount: 2500 },
    });
  });

  it.each(['add_to_cart', 'remove_from_cart', 'search'] as const)(
    'keeps only key, time and type of %s',
    (type) => {
      expect(enrich(parsed(VALID[type]))).toEqual({
        kind: 'fact',
        fact: { key: 'user-1', eventTime: Date.UTC(2024, 4, 1, 10), type },
      });
    },
  );

  it.each([
    ['2024-05-01T10:00:00Z', Date.UTC(2024, 4, 1, 10, 0, 0)],
    ['2024-05-01T10:00:00.250Z', Date.UTC(2024, 4, 1, 10, 0, 0, 250)],
    ['2024-05-01T12:00:00+02:00', Date.UTC(2024, 4, 1, 10, 0, 0)],
    ['2024-05-01T00:30:00+02:00', Date.UTC(2024, 3, 30, 22, 30, 0)],
    ['2024-05-01T05:00:00-05:00', Date.UTC(2024, 4, 1, 10, 0, 0)],
    ['1970-01-01T00:00:00Z', 0],
  ])('event time of occurredAt %s is epoch ms %d, offset applied', (occurredAt, epochMs) => {
    const result = enrich(parsed({ ...VALID.page_view, occurredAt }));
    expect(result.kind === 'fact' && result.fact.eventTime).toBe(epochMs);
  });
});

/**
 * The edge against hostile input, property-based: whatever a request holds (prototype names, lone
 * surrogates anywhere, deep nesting, forged cursors, odd headers), parsing either succeeds or
 * throws an HttpError 4xx naming the field; never anything a handler would turn into a 500.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { header } from '../../../lambdas/commons/http/api-handler.js';
import { HttpError } from '../../../lambdas/commons/http/errors.js';
import { idempotencyKeySchema, idForIdempotencyKey } from '../../../lambdas/commons/http/idempotency-key.js';
import {
  decodeCursor,
  encodeCursor,
  idParameter,
  isWellFormed,
  jsonValueIssues,
  MAX_CURSOR_LENGTH,
  MAX_JSON_DEPTH,
  pageParameters,
  parseHeader,
  parseJsonBody,
  parseParameters,
  printable,
} from '../../../lambdas/commons/http/request.js';
import { placeOrderBodySchema } from '../../../lambdas/orders/domain/order-schemas.js';

const SEED = Number(process.env.FC_SEED ?? 1404);
const runs = { seed: SEED, numRuns: 300 };

/** The HttpError `fn` throws, or undefined when it returns; any other error fails the test. */
function outcome(fn: () => unknown): HttpError | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    return error;
  }
}

const PROTOTYPE_NAMES = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__defineGetter__',
  '__lookupGetter__',
];

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((u) => String.fromCharCode(u));
/** A string with at least one lone surrogate (a high one followed by no low one, or a low one alone). */
const illFormed = fc
  .tuple(fc.string({ maxLength: 8 }), loneSurrogate, fc.string({ maxLength: 8 }))
  .map(([a, s, b]) => `${a}${s}${b.replace(/^[\udc00-\udfff]/, 'x')}`)
  .filter((text) => !isWellFormed(text));
const anyName = fc.oneof(fc.constantFrom(...PROTOTYPE_NAMES), fc.string({ maxLength: 12 }));
const anyValue = fc.oneof(fc.string({ maxLength: 20 }), illFormed, fc.constantFrom(...PROTOTYPE_NAMES));

const validOrder = {
  customerId: 'cus-1',
  items: [{ sku: 'SKU-A', quantity: 2, unitPrice: 100 }],
  currency: 'EUR',
  paymentToken: 'tok_1',
};
const json = (value: unknown) => ({ body: JSON.stringify(value), isBase64Encoded: false });

describe('well-formed Unicode at the edge', () => {
  it('isWellFormed agrees with String.prototype.isWellFormed', () => {
    const native = (String.prototype as { isWellFormed?: () => boolean }).isWellFormed;
    fc.assert(
      fc.property(fc.oneof(fc.string(), illFormed, fc.string({ unit: 'binary' })), (text) => {
        if (native) expect(isWellFormed(text)).toBe(native.call(text));
        expect(isWellFormed(text)).toBe(Buffer.from(text, 'utf8').toString('utf8') === text);
      }),
      runs,
    );
  });

  it.each([
    ['customerId', ['customerId']],
    ['paymentToken', ['paymentToken']],
    ['items.0.sku', ['items', 0, 'sku']],
  ] as const)(
    'refuses a lone surrogate in %s with 400 at that path (any position, any surrogate)',
    (path, at) => {
      fc.assert(
        fc.property(illFormed, (bad) => {
          const body = structuredClone(validOrder) as Record<string, unknown>;
          let target = body as Record<string | number, unknown>;
          for (const key of at.slice(0, -1)) target = target[key] as Record<string | number, unknown>;
          target[at[at.length - 1] as string | number] = bad;
          const error = outcome(() => parseJsonBody(json(body), placeOrderBodySchema));
          expect(error?.statusCode).toBe(400);
          expect(error?.errors.map((e) => e.path)).toEqual([path]);
        }),
        runs,
      );
    },
  );

  it('refuses the reversed pair and the escaped forms a client sends as JSON text', () => {
    for (const text of ['"\\ud800"', '"\\udc00"', '"\\udc00\\ud800"', '"a\\ud83d"']) {
      const error = outcome(() =>
        parseJsonBody(
          { body: `{"customerId":${text},"items":[],"currency":"EUR"}`, isBase64Encoded: false },
          placeOrderBodySchema,
        ),
      );
      expect(error?.errors).toEqual([
        { path: 'customerId', message: expect.stringContaining('well-formed') },
      ]);
    }
    // A proper pair (an emoji) is well-formed and reaches the schema.
    expect(
      parseJsonBody(json({ ...validOrder, customerId: 'cus-😀' }), placeOrderBodySchema).customerId,
    ).toBe('cus-😀');
  });

  it('refuses an ill-formed key anywhere, naming it printably', () => {
    fc.assert(
      fc.property(illFormed, fc.boolean(), (key, nested) => {
        const body = nested
          ? { ...validOrder, items: [{ ...validOrder.items[0], [key]: 1 }] }
          : { ...validOrder, [key]: 1 };
        const error = outcome(() => parseJsonBody(json(body), placeOrderBodySchema));
        expect(error?.statusCode).toBe(400);
        const path = (error?.errors[0]?.path ?? '') as string;
        expect(isWellFormed(path)).toBe(true);
        expect(path).toBe(nested ? `items.0.${printable(key)}` : printable(key));
      }),
      runs,
    );
  });

  it('walks any JSON value without throwing, and finds every lone surrogate it holds', () => {
    const jsonWithSurrogates = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.oneof(fc.string(), illFormed, fc.double(), fc.boolean(), fc.constant(null)),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(fc.oneof(anyName, illFormed), tie('value'), { maxKeys: 4 }),
      ),
    })).value;
    fc.assert(
      fc.property(jsonWithSurrogates, (value) => {
        const issues = jsonValueIssues(value);
        // JSON.stringify escapes lone surrogates; its output is well-formed iff nothing was found.
        const text = JSON.stringify(value);
        expect(issues.length === 0).toBe(!/\\ud[89a-f][0-9a-f]{2}/i.test(text));
        for (const issue of issues) expect(isWellFormed(issue.path)).toBe(true);
      }),
      runs,
    );
  });

  it('refuses deep nesting with a 400, never a stack overflow (array and object, 16 000 levels)', () => {
    const depth = 16_000;
    for (const [open, close] of [
      ['[', ']'],
      ['{"a":', '}'],
    ] as const) {
      const body = `{"customerId":${open.repeat(depth)}1${close.repeat(depth)}}`;
      const error = outcome(() =>
        parseJsonBody({ body, isBase64Encoded: false }, placeOrderBodySchema, { maxBytes: 1024 * 1024 }),
      );
      expect(error?.statusCode).toBe(400);
      expect(error?.errors[0]?.message).toBe(`must not nest deeper than ${MAX_JSON_DEPTH} levels`);
    }
  });

  it('answers bodies that are JSON but not objects, and odd numbers, with 400', () => {
    for (const body of ['[]', '"text"', '42', 'null', 'true', '1e400']) {
      expect(
        outcome(() => parseJsonBody({ body, isBase64Encoded: false }, placeOrderBodySchema))?.statusCode,
      ).toBe(400);
    }
    for (const quantity of ['1e400', '-1e400', '-0', '1.5', '"NaN"', '"1"', '9007199254740993']) {
      const body = `{"customerId":"c","currency":"EUR","items":[{"sku":"A","quantity":${quantity},"unitPrice":1}]}`;
      const error = outcome(() => parseJsonBody({ body, isBase64Encoded: false }, placeOrderBodySchema));
      expect(new Set(error?.errors.map((e) => e.path))).toEqual(new Set(['items.0.quantity']));
    }
  });
});

describe('parameters and headers named like Object.prototype members', () => {
  const querySchema = z.object({ ...pageParameters, status: z.enum(['PENDING', 'PAID']).optional() });
  const pathSchema = z.object({ orderId: idParameter('orderId') });

  it('parses any parameter map (prototype names, ill-formed names or values) without throwing other than HttpError 400', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('query', 'path') as fc.Arbitrary<'query' | 'path'>,
        fc.array(fc.tuple(fc.oneof(anyName, illFormed), anyValue), { maxLength: 6 }),
        (where, entries) => {
          // As JSON.parse builds the event: every name an own property, `__proto__` included.
          const params = JSON.parse(JSON.stringify(Object.fromEntries(entries))) as Record<string, string>;
          const error = outcome(() =>
            where === 'query'
              ? parseParameters('query', params, querySchema)
              : parseParameters('path', params, pathSchema),
          );
          if (error) {
            expect(error.statusCode).toBe(400);
            for (const e of error.errors) {
              expect(e.path.startsWith(`${where}.`)).toBe(true);
              expect(isWellFormed(e.path)).toBe(true);
            }
          }
          const bad = Object.entries(params).find(
            ([name, value]) => !isWellFormed(name) || !isWellFormed(value),
          );
          if (bad) expect(error?.statusCode).toBe(400);
        },
      ),
      runs,
    );
  });

  it('names an ill-formed path parameter at path.<name>', () => {
    fc.assert(
      fc.property(illFormed, (orderId) => {
        const error = outcome(() => parseParameters('path', { orderId }, pathSchema));
        expect(error?.errors.map((e) => e.path)).toEqual(['path.orderId']);
      }),
      runs,
    );
  });

  it('treats a parameter named __proto__ or constructor as an unknown parameter', () => {
    const strict = z.strictObject({ limit: z.string().optional() });
    const params = JSON.parse('{"__proto__":"x","constructor":"y","limit":"5"}');
    expect(outcome(() => parseParameters('query', params, strict))?.errors.map((e) => e.path)).toEqual(
      expect.arrayContaining(['query.__proto__', 'query.constructor']),
    );
    expect(parseParameters('query', params, z.object({ limit: z.string() }))).toEqual({ limit: '5' });
  });

  it('finds a header by any case and never throws, whatever the header names', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.oneof(anyName, fc.constantFrom('Idempotency-Key', 'IDEMPOTENCY-KEY')), anyValue),
          {
            maxLength: 6,
          },
        ),
        fc.constantFrom(...PROTOTYPE_NAMES, 'idempotency-key', 'x-correlation-id'),
        (entries, wanted) => {
          const headers = JSON.parse(JSON.stringify(Object.fromEntries(entries)));
          const event = { headers } as unknown as APIGatewayProxyEvent;
          const found = header(event, wanted);
          const expected = Object.entries(headers).find(([k]) => k.toLowerCase() === wanted.toLowerCase());
          expect(found).toBe(expected?.[1]);
        },
      ),
      runs,
    );
    expect(header({ headers: null } as unknown as APIGatewayProxyEvent, 'constructor')).toBeUndefined();
    expect(header({ headers: { a: 1 } } as unknown as APIGatewayProxyEvent, 'a')).toBeUndefined();
  });

  it('refuses an odd Idempotency-Key with 400 at header.Idempotency-Key', () => {
    const odd = fc.oneof(
      illFormed,
      fc.constantFrom('', ' ', 'a b', 'tab\tkey', 'nul\u0000', 'ünï', 'x'.repeat(256), '\ud800'),
    );
    fc.assert(
      fc.property(odd, (key) => {
        const error = outcome(() => parseHeader('Idempotency-Key', key, idempotencyKeySchema));
        expect(error?.statusCode).toBe(400);
        expect(new Set(error?.errors.map((e) => e.path))).toEqual(new Set(['header.Idempotency-Key']));
      }),
      runs,
    );
    expect(parseHeader('Idempotency-Key', 'k-1', idempotencyKeySchema)).toBe('k-1');
  });
});

describe('pagination cursors from the client', () => {
  const keys = ['orderId', 'customerId', 'placedAt'];
  const forge = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

  it('decodes any string to a key DynamoDB accepts, or refuses it with 400 at query.nextToken', () => {
    const cursors = fc.oneof(
      fc.string({ maxLength: 64 }),
      fc.string({ unit: 'binary', maxLength: 64 }),
      fc.base64String().map((b) => b.replaceAll('+', '-').replaceAll('/', '_')),
      fc
        .record({
          orderId: fc.oneof(fc.string(), illFormed, fc.integer(), fc.constant(null)),
          customerId: fc.oneof(fc.string(), fc.constant('x'.repeat(2000))),
          placedAt: fc.oneof(fc.string(), fc.double()),
        })
        .map(forge),
      fc.dictionary(anyName, fc.string()).map(forge),
    );
    fc.assert(
      fc.property(cursors, (cursor) => {
        let key: Record<string, unknown> | undefined;
        const error = outcome(() => {
          key = decodeCursor(cursor, keys);
        });
        if (error) {
          expect(error.statusCode).toBe(400);
          expect(error.errors).toEqual([
            { path: 'query.nextToken', message: 'nextToken is not a cursor this API returned' },
          ]);
          return;
        }
        expect(Object.keys(key ?? {}).sort()).toEqual([...keys].sort());
        for (const value of Object.values(key ?? {})) {
          expect(typeof value).toBe('string');
          expect((value as string).length).toBeGreaterThan(0);
          expect(isWellFormed(value as string)).toBe(true);
          expect(Buffer.byteLength(value as string)).toBeLessThanOrEqual(1024);
        }
      }),
      runs,
    );
  });

  it.each([
    ['a number where the key is a string', forge({ orderId: 1, customerId: 'c', placedAt: 'p' })],
    ['an empty string', forge({ orderId: '', customerId: 'c', placedAt: 'p' })],
    ['a lone surrogate', forge({ orderId: '\ud800', customerId: 'c', placedAt: 'p' })],
    ['a value over 1024 bytes', forge({ orderId: 'é'.repeat(513), customerId: 'c', placedAt: 'p' })],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]).toString('base64url')],
    ['characters outside base64url', `${forge({ orderId: 'o', customerId: 'c', placedAt: 'p' })}!`],
    ['a cursor over the length limit', 'A'.repeat(MAX_CURSOR_LENGTH + 1)],
    [
      '__proto__ in place of a key',
      Buffer.from('{"__proto__":"o","customerId":"c","placedAt":"p"}').toString('base64url'),
    ],
  ])('refuses %s', (_what, cursor) => {
    expect(outcome(() => decodeCursor(cursor, keys))?.statusCode).toBe(400);
  });

  it('still decodes the cursors it makes', () => {
    const key = { orderId: 'ord-ü/1', customerId: 'cus-1', placedAt: '2024-05-01T10:00:00.000Z' };
    expect(decodeCursor(encodeCursor(key), keys)).toEqual(key);
  });

  it('bounds nextToken in the query schema', () => {
    const error = outcome(() =>
      parseParameters('query', { nextToken: 'A'.repeat(MAX_CURSOR_LENGTH + 1) }, z.object(pageParameters)),
    );
    expect(error?.errors.map((e) => e.path)).toEqual(['query.nextToken']);
  });
});

describe('the order id of an Idempotency-Key', () => {
  const ns = '5b0c9a52-e1f3-4d7e-9a3c-6f1d2e8b4a70';

  it('is a version 5 UUID, the same for one (caller, key), different across callers and keys', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.string({ minLength: 1 }),
        fc.string({ minLength: 1 }),
        (caller, other, key) => {
          fc.pre(isWellFormed(caller) && isWellFormed(other) && isWellFormed(key) && caller !== other);
          const id = idForIdempotencyKey(ns, caller, key);
          expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
          expect(idForIdempotencyKey(ns, caller, key)).toBe(id);
          expect(idForIdempotencyKey(ns, other, key)).not.toBe(id);
          expect(idForIdempotencyKey(ns, caller, `${key}x`)).not.toBe(id);
        },
      ),
      runs,
    );
  });

  it('is the RFC 9562 version 5 UUID of the name "<caller>\\n<key>"', () => {
    // Python: uuid.uuid5(uuid.NAMESPACE_DNS, 'www\nexample.com')
    const dns = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
    expect(idForIdempotencyKey(dns, 'www', 'example.com')).toBe('7ddd8297-5c0e-541c-b526-453ad9f35377');
  });
});

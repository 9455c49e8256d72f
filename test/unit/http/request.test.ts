import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { HttpError } from '../../../lambdas/commons/http/errors.js';
import {
  decodeCursor,
  encodeCursor,
  idParameter,
  MAX_BODY_BYTES,
  parseJsonBody,
  parseParameters,
} from '../../../lambdas/commons/http/request.js';
import { placeOrderBodySchema } from '../../../lambdas/orders/domain/order-schemas.js';

// ---- helpers ------------------------------------------------------------------------------------

/** The HttpError `fn` throws (fails the test if it throws nothing or something else). */
function thrown(fn: () => unknown): HttpError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError);
    return error as HttpError;
  }
  throw new Error('expected an HttpError');
}

const json = (value: unknown) => ({ body: JSON.stringify(value), isBase64Encoded: false });
const base64 = (text: string) => ({
  body: Buffer.from(text, 'utf8').toString('base64'),
  isBase64Encoded: true,
});

const noteSchema = z.strictObject({ text: z.string() });

const validOrder = {
  customerId: 'cus-1',
  items: [{ sku: 'SKU-A', quantity: 2, unitPrice: 100 }],
  currency: 'EUR',
};

// ---- parseJsonBody ------------------------------------------------------------------------------

describe('parseJsonBody', () => {
  it('GIVEN a valid JSON body WHEN parsed THEN the schema output is returned', () => {
    expect(parseJsonBody(json(validOrder), placeOrderBodySchema)).toEqual(validOrder);
  });

  it('returns the transformed value of the schema', () => {
    const trimmed = parseJsonBody(json({ ...validOrder, customerId: '  cus-9  ' }), placeOrderBodySchema);

    expect(trimmed.customerId).toBe('cus-9');
  });

  it('defaults the limit to 32 KiB', () => {
    expect(MAX_BODY_BYTES).toBe(32 * 1024);
    const padding = 'x'.repeat(MAX_BODY_BYTES - JSON.stringify({ text: '' }).length);

    // GIVEN a body of exactly the limit THEN it is parsed
    expect(parseJsonBody(json({ text: padding }), noteSchema).text).toHaveLength(padding.length);

    // GIVEN one byte more THEN 413
    expect(thrown(() => parseJsonBody(json({ text: `${padding}x` }), noteSchema)).statusCode).toBe(413);
  });

  it('GIVEN a body over maxBytes WHEN parsed THEN 413 with its size in bytes', () => {
    // WHEN
    const error = thrown(() =>
      parseJsonBody({ body: '{"text":"12345678"}', isBase64Encoded: false }, noteSchema, { maxBytes: 10 }),
    );

    // THEN
    expect(error.statusCode).toBe(413);
    expect(error.message).toBe('Request body is 19 bytes; the limit is 10');
    expect(error.errors).toEqual([{ path: '', message: 'body must be at most 10 bytes' }]);
  });

  it('counts the size in UTF-8 bytes, not in characters', () => {
    // GIVEN 4 characters that are 8 UTF-8 bytes, in a JSON string: "éééé" is 10 bytes
    const body = { body: '"éééé"', isBase64Encoded: false };
    expect(body.body).toHaveLength(6);

    // WHEN the limit lies between the character count and the byte count THEN 413
    const error = thrown(() => parseJsonBody(body, z.string(), { maxBytes: 9 }));
    expect(error.statusCode).toBe(413);
    expect(error.message).toBe('Request body is 10 bytes; the limit is 9');

    // AND at the byte count it is accepted
    expect(parseJsonBody(body, z.string(), { maxBytes: 10 })).toBe('éééé');
  });

  it('decodes a base64 body as UTF-8 JSON', () => {
    expect(parseJsonBody(base64('{"text":"grüße"}'), noteSchema)).toEqual({ text: 'grüße' });
  });

  it('applies the limit to the decoded base64 body', () => {
    // GIVEN a 13-byte JSON text whose base64 encoding is 20 characters
    const raw = base64('{"text":"ab"}');
    expect(raw.body).toHaveLength(20);

    // THEN a limit between the decoded and the encoded size accepts it
    expect(parseJsonBody(raw, noteSchema, { maxBytes: 13 })).toEqual({ text: 'ab' });
    expect(thrown(() => parseJsonBody(raw, noteSchema, { maxBytes: 12 })).message).toBe(
      'Request body is 13 bytes; the limit is 12',
    );
  });

  it.each([
    ['null', { body: null, isBase64Encoded: false }],
    ['empty', { body: '', isBase64Encoded: false }],
    ['blank', { body: ' \n\t ', isBase64Encoded: false }],
    ['empty base64', { body: '', isBase64Encoded: true }],
  ])('GIVEN a %s body WHEN no emptyAs THEN 400 body is required', (_kind, raw) => {
    const error = thrown(() => parseJsonBody(raw, noteSchema));

    expect(error.statusCode).toBe(400);
    expect(error.message).toBe('Request body is required');
    expect(error.errors).toEqual([{ path: '', message: 'body is required' }]);
  });

  it('GIVEN an empty body WHEN emptyAs is given THEN emptyAs is parsed by the schema', () => {
    const schema = z.strictObject({ reason: z.string().optional() });

    expect(parseJsonBody({ body: null, isBase64Encoded: false }, schema, { emptyAs: {} })).toEqual({});
    expect(parseJsonBody({ body: '  ', isBase64Encoded: false }, schema, { emptyAs: {} })).toEqual({});
    // emptyAs still goes through the schema
    const error = thrown(() =>
      parseJsonBody({ body: null, isBase64Encoded: false }, schema, { emptyAs: { reason: 1 } }),
    );
    expect(error.statusCode).toBe(400);
    expect(error.errors.map((e) => e.path)).toEqual(['reason']);
  });

  it('GIVEN malformed JSON WHEN parsed THEN 400 at path "" with the parser message', () => {
    const error = thrown(() => parseJsonBody({ body: '{"text": ', isBase64Encoded: false }, noteSchema));

    expect(error.statusCode).toBe(400);
    expect(error.message).toBe('Request body is not valid JSON');
    expect(error.errors).toHaveLength(1);
    expect(error.errors[0]?.path).toBe('');
    expect(error.errors[0]?.message).not.toBe('');
  });

  it('GIVEN a body failing the schema WHEN parsed THEN 400 with one error per field path', () => {
    // WHEN
    const error = thrown(() =>
      parseJsonBody(
        json({
          customerId: 'cus-1',
          items: [
            { sku: 'A', quantity: 1, unitPrice: 1 },
            { sku: 'B', quantity: 0, unitPrice: -5 },
          ],
          currency: 'euro',
        }),
        placeOrderBodySchema,
      ),
    );

    // THEN
    expect(error.statusCode).toBe(400);
    expect(error.message).toBe('Invalid request body');
    expect(error.errors).toEqual([
      { path: 'items.1.quantity', message: 'quantity must be at least 1' },
      { path: 'items.1.unitPrice', message: 'unitPrice must not be negative' },
      {
        path: 'currency',
        message: 'currency must be an ISO 4217 code: three upper-case letters, e.g. EUR',
      },
    ]);
  });

  it('reports items.0.quantity for a missing nested field', () => {
    const error = thrown(() =>
      parseJsonBody(json({ ...validOrder, items: [{ sku: 'A', unitPrice: 1 }] }), placeOrderBodySchema),
    );

    expect(error.errors).toEqual([{ path: 'items.0.quantity', message: 'quantity is required' }]);
  });

  it('reports each unknown key at its own path', () => {
    // GIVEN unknown keys at the top level and inside an item
    const body = {
      ...validOrder,
      coupon: 'FREE',
      note: 'x',
      items: [{ sku: 'A', quantity: 1, unitPrice: 1, colour: 'red' }],
    };

    // WHEN
    const error = thrown(() => parseJsonBody(json(body), placeOrderBodySchema));

    // THEN
    expect(error.statusCode).toBe(400);
    expect(error.errors).toEqual(
      expect.arrayContaining([
        { path: 'coupon', message: 'coupon is not a known field' },
        { path: 'note', message: 'note is not a known field' },
        { path: 'items.0.colour', message: 'colour is not a known field' },
      ]),
    );
    expect(error.errors).toHaveLength(3);
  });

  it('reports a body of the wrong JSON type at the root path', () => {
    const error = thrown(() =>
      parseJsonBody({ body: '[1,2]', isBase64Encoded: false }, placeOrderBodySchema),
    );

    expect(error.statusCode).toBe(400);
    expect(error.errors).toEqual([{ path: '', message: 'body must be a JSON object' }]);
  });
});

// ---- parseParameters ----------------------------------------------------------------------------

describe('parseParameters', () => {
  const querySchema = z.strictObject({
    limit: z.coerce.number().int().min(1, 'limit must be at least 1').optional(),
    status: z.enum(['PENDING', 'PAID']).optional(),
  });

  it('returns the parsed parameters', () => {
    expect(parseParameters('query', { limit: '5', status: 'PAID' }, querySchema)).toEqual({
      limit: 5,
      status: 'PAID',
    });
  });

  it('parses absent parameters (null) as an empty object', () => {
    expect(parseParameters('query', null, querySchema)).toEqual({});
  });

  it('prefixes query parameter errors with query.', () => {
    // WHEN
    const error = thrown(() => parseParameters('query', { limit: '0', sort: 'asc' }, querySchema));

    // THEN
    expect(error.statusCode).toBe(400);
    expect(error.message).toBe('Invalid query parameters');
    expect(error.errors).toEqual([
      { path: 'query.limit', message: 'limit must be at least 1' },
      { path: 'query.sort', message: 'sort is not a known field' },
    ]);
  });

  it('prefixes path parameter errors with path.', () => {
    const schema = z.object({ orderId: idParameter('orderId') });

    const error = thrown(() => parseParameters('path', null, schema));

    expect(error.statusCode).toBe(400);
    expect(error.message).toBe('Invalid path parameters');
    expect(error.errors).toEqual([{ path: 'path.orderId', message: 'orderId is required' }]);
  });
});

// ---- idParameter --------------------------------------------------------------------------------

describe('idParameter', () => {
  const id = idParameter('orderId');
  const messageFor = (value: unknown) => {
    const result = id.safeParse(value);
    return result.success ? undefined : result.error.issues.map((issue) => issue.message);
  };

  it.each(['ord-1', 'a', 'ÄÖÜ-ü', '0f8fad5b-d9cb-469f-a165-70867728950e', 'x'.repeat(128), 'with space'])(
    'accepts %j',
    (value) => {
      expect(id.parse(value)).toBe(value);
    },
  );

  it.each([
    ['a/b', "orderId must not contain '/' or control characters"],
    ['/', "orderId must not contain '/' or control characters"],
    ['tab\there', "orderId must not contain '/' or control characters"],
    ['nl\n', "orderId must not contain '/' or control characters"],
    ['nul\u0000', "orderId must not contain '/' or control characters"],
    ['del\u007f', "orderId must not contain '/' or control characters"],
    ['c1\u0085', "orderId must not contain '/' or control characters"],
  ])('refuses %j', (value, message) => {
    expect(messageFor(value)).toEqual([message]);
  });

  it('refuses empty, too long and absent values with their own messages', () => {
    expect(messageFor('')).toContain('orderId must not be empty');
    expect(messageFor('x'.repeat(129))).toEqual(['orderId must be at most 128 characters']);
    expect(messageFor(undefined)).toEqual(['orderId is required']);
  });
});

// ---- cursors ------------------------------------------------------------------------------------

describe('encodeCursor / decodeCursor', () => {
  const keys = ['customerId', 'placedAt', 'orderId'];
  const key = { customerId: 'cus-1', placedAt: '2024-05-01T10:00:00.000Z', orderId: 'ord-ü/1' };

  it('round-trips a key through an opaque URL-safe cursor', () => {
    // WHEN
    const cursor = encodeCursor(key);

    // THEN
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, keys)).toEqual(key);
    // A number key attribute is declared as such; a list of names means string attributes only.
    expect(decodeCursor(encodeCursor({ pk: 'a', n: 42 }), { n: 'N', pk: 'S' })).toEqual({ pk: 'a', n: 42 });
    expect(() => decodeCursor(encodeCursor({ pk: 'a', n: 42 }), ['n', 'pk'])).toThrow(HttpError);
  });

  it('maps no key to no cursor and back', () => {
    expect(encodeCursor(undefined)).toBeUndefined();
    expect(decodeCursor(undefined, keys)).toBeUndefined();
  });

  const forge = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

  it.each([
    ['a key with an extra attribute', forge({ ...key, isAdmin: 'yes' })],
    ['a key with another attribute in place of one', forge({ customerId: 'c', placedAt: 'p', sk: 'x' })],
    ['a key missing an attribute', forge({ customerId: 'c', placedAt: 'p' })],
    ['an object value', forge({ ...key, orderId: { S: 'ord-1' } })],
    ['an array value', forge({ ...key, orderId: ['ord-1'] })],
    ['a null value', forge({ ...key, orderId: null })],
    ['a boolean value', forge({ ...key, orderId: true })],
    ['an array', forge(['cus-1', 'p', 'o'])],
    ['a string', forge('cus-1')],
    ['null', forge(null)],
    ['not JSON', Buffer.from('{not json', 'utf8').toString('base64url')],
    ['not base64 of anything', '!!!'],
    ['an empty cursor', ''],
  ])('refuses %s with 400 at query.nextToken', (_what, cursor) => {
    const error = thrown(() => decodeCursor(cursor, keys));

    expect(error.statusCode).toBe(400);
    expect(error.message).toBe('Invalid query parameters');
    expect(error.errors).toEqual([
      { path: 'query.nextToken', message: 'nextToken is not a cursor this API returned' },
    ]);
  });

  it('names the query parameter it was given', () => {
    const error = thrown(() => decodeCursor('!!!', keys, 'cursor'));

    expect(error.errors).toEqual([
      { path: 'query.cursor', message: 'cursor is not a cursor this API returned' },
    ]);
  });
});

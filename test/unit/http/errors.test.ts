import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { DomainError } from '../../../lambdas/commons/domain/decider.js';
import { ConcurrencyError } from '../../../lambdas/commons/event-store/event-store.js';
import { fieldErrors, HttpError, toHttpError } from '../../../lambdas/commons/http/errors.js';
import { InvalidEventError } from '../../../lambdas/commons/projection/projection.js';

// ---- HttpError ----------------------------------------------------------------------------------

describe('HttpError', () => {
  it('carries status, message, field errors, code and headers', () => {
    const error = new HttpError(409, 'Conflict', [{ path: 'x', message: 'taken' }], 'TAKEN', {
      'Retry-After': '1',
    });

    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'HttpError',
      statusCode: 409,
      message: 'Conflict',
      errors: [{ path: 'x', message: 'taken' }],
      code: 'TAKEN',
      headers: { 'Retry-After': '1' },
    });
  });

  it('defaults to no field errors, no code and no headers', () => {
    const error = new HttpError(404, 'Not found');

    expect(error.errors).toEqual([]);
    expect(error.code).toBeUndefined();
    expect(error.headers).toEqual({});
  });

  it('GIVEN a code WHEN its body is read THEN {message, errors, code}', () => {
    const error = new HttpError(
      400,
      'Invalid request body',
      [{ path: 'a.0', message: 'bad' }],
      'INVALID_COMMAND',
    );

    expect(error.body).toEqual({
      message: 'Invalid request body',
      errors: [{ path: 'a.0', message: 'bad' }],
      code: 'INVALID_COMMAND',
    });
  });

  it('GIVEN no code WHEN its body is read THEN {message, errors} without a code key', () => {
    const body = new HttpError(413, 'Too large').body;

    expect(body).toEqual({ message: 'Too large', errors: [] });
    expect(Object.keys(body)).toEqual(['message', 'errors']);
    expect(JSON.parse(JSON.stringify(body))).toEqual({ message: 'Too large', errors: [] });
  });
});

// ---- fieldErrors --------------------------------------------------------------------------------

describe('fieldErrors', () => {
  const schema = z.strictObject({
    name: z.string(),
    lines: z.array(z.strictObject({ qty: z.int().min(1, 'qty must be at least 1') })),
  });
  const errorOf = (value: unknown) => {
    const result = schema.safeParse(value);
    if (result.success) throw new Error('expected a schema error');
    return result.error;
  };

  it('gives one error per issue with a dotted path', () => {
    const errors = fieldErrors(errorOf({ name: 'n', lines: [{ qty: 1 }, { qty: 0 }] }));

    expect(errors).toEqual([{ path: 'lines.1.qty', message: 'qty must be at least 1' }]);
  });

  it('reports every unknown key at its own path, with the prefix', () => {
    const errors = fieldErrors(errorOf({ name: 'n', lines: [{ qty: 1, sku: 'a' }], a: 1, b: 2 }), 'query');

    expect(errors).toEqual(
      expect.arrayContaining([
        { path: 'query.lines.0.sku', message: 'sku is not a known field' },
        { path: 'query.a', message: 'a is not a known field' },
        { path: 'query.b', message: 'b is not a known field' },
      ]),
    );
    expect(errors).toHaveLength(3);
  });

  it('uses "" for the root without a prefix and the bare prefix with one', () => {
    expect(fieldErrors(errorOf('not an object')).map((e) => e.path)).toEqual(['']);
    expect(fieldErrors(errorOf('not an object'), 'path').map((e) => e.path)).toEqual(['path']);
  });
});

// ---- toHttpError --------------------------------------------------------------------------------

describe('toHttpError', () => {
  it.each([
    ['ORDER_NOT_FOUND', 404],
    ['CUSTOMER_NOT_FOUND', 404],
    ['INVALID_TRANSITION', 409],
    ['ORDER_EXISTS', 409],
    ['CUSTOMER_EXISTS', 409],
    ['CUSTOMER_INACTIVE', 409],
    ['EMAIL_UNCHANGED', 409],
    ['PAYMENT_AMOUNT_MISMATCH', 409],
    ['INVALID_COMMAND', 400],
    ['UNKNOWN_COMMAND', 400],
  ])('GIVEN DomainError %s WHEN mapped THEN %i with its code and message', (code, status) => {
    // WHEN
    const http = toHttpError(new DomainError(code, `refused: ${code}`));

    // THEN
    expect(http).toBeInstanceOf(HttpError);
    expect(http?.statusCode).toBe(status);
    expect(http?.body).toEqual({ message: `refused: ${code}`, errors: [], code });
  });

  it.each(['SOMETHING_ELSE', 'CREDIT_LIMIT_EXCEEDED', 'INVALID'])(
    'GIVEN a DomainError with the unlisted code %s WHEN mapped THEN 422',
    (code) => {
      const http = toHttpError(new DomainError(code, 'not allowed'));

      expect(http?.statusCode).toBe(422);
      expect(http?.code).toBe(code);
      expect(http?.message).toBe('not allowed');
    },
  );

  it('GIVEN a ConcurrencyError WHEN mapped THEN 409 CONCURRENT_MODIFICATION', () => {
    const http = toHttpError(new ConcurrencyError('ord-1', 3));

    expect(http).toBeInstanceOf(HttpError);
    expect(http?.statusCode).toBe(409);
    expect(http?.code).toBe('CONCURRENT_MODIFICATION');
    expect(http?.errors).toEqual([]);
    expect(http?.message).toBe('The resource was changed by concurrent requests; retry the request');
    // the internal aggregate id does not leak into the response
    expect(JSON.stringify(http?.body)).not.toContain('ord-1');
  });

  it('GIVEN an HttpError WHEN mapped THEN the same error', () => {
    const original = new HttpError(413, 'Too large', [{ path: '', message: 'big' }]);

    expect(toHttpError(original)).toBe(original);
  });

  it.each([
    ['a plain Error', new Error('boom')],
    ['a TypeError', new TypeError('x is undefined')],
    ['an InvalidEventError', new InvalidEventError('bad event')],
    [
      'a lookalike with a statusCode',
      Object.assign(new Error('x'), { statusCode: 400, code: 'INVALID_COMMAND' }),
    ],
    ['a string', 'boom'],
    ['undefined', undefined],
  ])('GIVEN %s WHEN mapped THEN undefined (a server fault)', (_what, error) => {
    expect(toHttpError(error)).toBeUndefined();
  });
});

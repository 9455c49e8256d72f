/**
 * Parsing of the parts of an HTTP request with zod: every failure is an HttpError 400 (413 for a
 * body over the limit) with one field error per problem. Pure: takes strings, not Lambda events.
 */
import * as z from 'zod';
import { fieldErrors, HttpError } from './errors.js';

/** Bodies of the command routes are small; anything larger is refused before parsing. */
export const MAX_BODY_BYTES = 32 * 1024;

export interface RawBody {
  readonly body: string | null;
  readonly isBase64Encoded: boolean;
}

/** Parses a JSON body against `schema`; an absent body is parsed as `emptyAs` when given. */
export function parseJsonBody<T>(
  raw: RawBody,
  schema: z.ZodType<T>,
  options: { maxBytes?: number; emptyAs?: unknown } = {},
): T {
  const maxBytes = options.maxBytes ?? MAX_BODY_BYTES;
  const text =
    raw.body === null
      ? ''
      : raw.isBase64Encoded
        ? Buffer.from(raw.body, 'base64').toString('utf8')
        : raw.body;
  const size = Buffer.byteLength(text, 'utf8');
  if (size > maxBytes) {
    throw new HttpError(413, `Request body is ${size} bytes; the limit is ${maxBytes}`, [
      { path: '', message: `body must be at most ${maxBytes} bytes` },
    ]);
  }
  let value: unknown;
  if (text.trim() === '') {
    if (options.emptyAs === undefined) {
      throw new HttpError(400, 'Request body is required', [{ path: '', message: 'body is required' }]);
    }
    value = options.emptyAs;
  } else {
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new HttpError(400, 'Request body is not valid JSON', [
        { path: '', message: (error as Error).message },
      ]);
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new HttpError(400, 'Invalid request body', fieldErrors(parsed.error));
  return parsed.data;
}

/** Parses path or query parameters; field paths are prefixed with `path.` or `query.`. */
export function parseParameters<T>(
  where: 'path' | 'query',
  params: Readonly<Record<string, string | undefined>> | null,
  schema: z.ZodType<T>,
): T {
  const parsed = schema.safeParse(params ?? {});
  if (!parsed.success) {
    throw new HttpError(400, `Invalid ${where} parameters`, fieldErrors(parsed.error, where));
  }
  return parsed.data;
}

/** A path or query id: 1..128 characters without `/` or control characters. */
export const idParameter = (name: string) =>
  z
    .string({ error: `${name} is required` })
    .min(1, `${name} must not be empty`)
    .max(128, `${name} must be at most 128 characters`)
    .regex(/^[^/\p{Cc}]+$/u, `${name} must not contain '/' or control characters`);

/** Opaque pagination cursor: base64url JSON of DynamoDB's LastEvaluatedKey. */
export function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key), 'utf8').toString('base64url') : undefined;
}

/** The key a cursor encodes, checked to have exactly `keyNames` with string or number values. */
export function decodeCursor(
  cursor: string | undefined,
  keyNames: readonly string[],
  param = 'nextToken',
): Record<string, unknown> | undefined {
  if (cursor === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const entries = Object.entries(value);
      const valid =
        entries.length === keyNames.length &&
        entries.every(([k, v]) => keyNames.includes(k) && (typeof v === 'string' || typeof v === 'number'));
      if (valid) return value as Record<string, unknown>;
    }
  } catch {
    // fall through
  }
  throw new HttpError(400, 'Invalid query parameters', [
    { path: `query.${param}`, message: `${param} is not a cursor this API returned` },
  ]);
}

/** The `limit` and `nextToken` query parameters of every paginated list (spread into its schema). */
export const pageParameters = {
  limit: z.coerce
    .number({ error: 'limit must be a number' })
    .int('limit must be an integer')
    .min(1, 'limit must be at least 1')
    .max(100, 'limit must be at most 100')
    .default(25),
  nextToken: z.string().optional(),
};

/**
 * The start key of the next page of a query on one partition: the cursor must carry exactly
 * `keyNames` and belong to that partition (`{name: value}`), else 400 at `query.nextToken`.
 */
export function startKeyOf(
  nextToken: string | undefined,
  keyNames: readonly string[],
  partition: { readonly name: string; readonly value: string; readonly of: string },
): Record<string, unknown> | undefined {
  const startKey = decodeCursor(nextToken, keyNames);
  if (startKey && startKey[partition.name] !== partition.value) {
    throw new HttpError(400, 'Invalid query parameters', [
      { path: 'query.nextToken', message: `nextToken belongs to another ${partition.of}` },
    ]);
  }
  return startKey;
}

/** A page of a list: `{items, nextToken?}`. */
export function pageOf(
  items: readonly unknown[] | undefined,
  lastEvaluatedKey: Record<string, unknown> | undefined,
) {
  const nextToken = encodeCursor(lastEvaluatedKey);
  return { items: items ?? [], ...(nextToken ? { nextToken } : {}) };
}

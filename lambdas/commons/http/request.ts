/**
 * Parsing of the parts of an HTTP request with zod: every failure is an HttpError 400 (413 for a
 * body over the limit) with one field error per problem. Pure: takes strings, not Lambda events.
 *
 * Before any schema sees them, every string of a request (body keys and values at any depth, path
 * and query parameter names and values, the headers a handler reads) is checked to be well-formed
 * Unicode: a lone UTF-16 surrogate (`"\ud800"` is valid JSON) passes zod's string checks but makes
 * the AWS SDK, DynamoDB or a broker fail later, which would be a 500. It is a 400 at the field's
 * path instead. The walk over a body is iterative and depth-bounded, so a deeply nested body is a
 * 400 too, never a stack overflow.
 */
import * as z from 'zod';
import { type FieldError, fieldErrors, HttpError } from './errors.js';

/** Bodies of the command routes are small; anything larger is refused before parsing. */
export const MAX_BODY_BYTES = 32 * 1024;
/** No body of ours nests deeper than a few levels; 32 leaves room and bounds every walk. */
export const MAX_JSON_DEPTH = 32;
/** Enough problems to fix a request; a hostile body with thousands of bad strings gets this many. */
const MAX_REPORTED = 20;

// A lone surrogate is the only way a JS string can be ill-formed; with the `u` flag a surrogate
// range only matches code units that are not half of a pair.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const LONE_SURROGATES = /[\uD800-\uDFFF]/gu;

/** True when `text` has no lone UTF-16 surrogate (`String.prototype.isWellFormed`, ES2024). */
export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/** `text` with every lone surrogate written as `\uXXXX`: safe to put into a field path or a log. */
export function printable(text: string): string {
  return text.replace(LONE_SURROGATES, (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export const NOT_WELL_FORMED = 'must be well-formed Unicode (it holds a lone UTF-16 surrogate)';

const joinPath = (parent: string, segment: string): string => (parent ? `${parent}.${segment}` : segment);

/**
 * The problems of a parsed JSON value: object keys and strings that are not well-formed Unicode,
 * and nesting deeper than `maxDepth`, each at its dotted path under `prefix`. Iterative (an explicit
 * stack), so no input can overflow the call stack; stops after `MAX_REPORTED` problems.
 */
export function jsonValueIssues(
  value: unknown,
  options: {
    prefix?: string;
    maxDepth?: number;
    /** Paths whose value the caller checks itself (not walked here). */
    skip?: (path: string) => boolean;
  } = {},
): FieldError[] {
  const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH;
  const skip = options.skip ?? (() => false);
  const issues: FieldError[] = [];
  const stack: { value: unknown; path: string; depth: number }[] = [
    { value, path: options.prefix ?? '', depth: 0 },
  ];
  while (stack.length > 0 && issues.length < MAX_REPORTED) {
    const node = stack.pop() as { value: unknown; path: string; depth: number };
    if (node.depth > 0 && skip(node.path)) continue;
    if (typeof node.value === 'string') {
      if (!isWellFormed(node.value)) issues.push({ path: node.path, message: NOT_WELL_FORMED });
      continue;
    }
    if (node.value === null || typeof node.value !== 'object') continue;
    if (node.depth >= maxDepth) {
      issues.push({ path: node.path, message: `must not nest deeper than ${maxDepth} levels` });
      continue;
    }
    const children: { value: unknown; path: string; depth: number }[] = [];
    if (Array.isArray(node.value)) {
      node.value.forEach((child, index) => {
        children.push({ value: child, path: joinPath(node.path, String(index)), depth: node.depth + 1 });
      });
    } else {
      for (const [key, child] of Object.entries(node.value)) {
        const path = joinPath(node.path, printable(key));
        if (!isWellFormed(key)) {
          issues.push({ path, message: `field name ${NOT_WELL_FORMED}` });
          continue;
        }
        children.push({ value: child, path, depth: node.depth + 1 });
      }
    }
    // Reversed so that problems are reported in document order.
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i] as (typeof children)[number]);
  }
  return issues.slice(0, MAX_REPORTED);
}

export interface RawBody {
  readonly body: string | null;
  readonly isBase64Encoded: boolean;
}

/**
 * Parses a JSON body against `schema`; an absent body is parsed as `emptyAs` when given. Keys and
 * strings that are not well-formed Unicode, and nesting deeper than `MAX_JSON_DEPTH`, are a 400 at
 * their path before the schema runs. `itemsCheckedByCaller` names a top-level array field whose
 * items the caller checks one by one with `jsonValueIssues` (a batch that accepts some items and
 * rejects others); its items are not walked here.
 */
export function parseJsonBody<T>(
  raw: RawBody,
  schema: z.ZodType<T>,
  options: { maxBytes?: number; emptyAs?: unknown; itemsCheckedByCaller?: string } = {},
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
        { path: '', message: printable((error as Error).message) },
      ]);
    }
  }
  const batch = options.itemsCheckedByCaller;
  const issues = jsonValueIssues(value, {
    skip:
      batch === undefined
        ? undefined
        : (path) => path.startsWith(`${batch}.`) && !path.slice(batch.length + 1).includes('.'),
  });
  if (issues.length > 0) throw new HttpError(400, 'Invalid request body', issues);
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new HttpError(400, 'Invalid request body', fieldErrors(parsed.error));
  return parsed.data;
}

/**
 * Parses path or query parameters; field paths are prefixed with `path.` or `query.`. Names and
 * values must be well-formed Unicode; only own entries are read (a parameter named `constructor`
 * or `__proto__` is just an unknown parameter).
 */
export function parseParameters<T>(
  where: 'path' | 'query',
  params: Readonly<Record<string, string | undefined>> | null | undefined,
  schema: z.ZodType<T>,
): T {
  const own: Record<string, unknown> = Object.create(null);
  const issues: FieldError[] = [];
  for (const [name, value] of Object.entries(params ?? {})) {
    const path = `${where}.${printable(name)}`;
    if (!isWellFormed(name)) issues.push({ path, message: `parameter name ${NOT_WELL_FORMED}` });
    else if (typeof value === 'string' && !isWellFormed(value))
      issues.push({ path, message: NOT_WELL_FORMED });
    else own[name] = value;
  }
  if (issues.length > 0) {
    throw new HttpError(400, `Invalid ${where} parameters`, issues.slice(0, MAX_REPORTED));
  }
  // A plain object again: zod reads the shape's keys from it and reports unknown ones by name.
  const parsed = schema.safeParse({ ...own });
  if (!parsed.success) {
    throw new HttpError(400, `Invalid ${where} parameters`, fieldErrors(parsed.error, where));
  }
  return parsed.data;
}

/**
 * A header a handler reads, parsed with `schema`: a value that is not well-formed Unicode or fails
 * the schema is a 400 at `header.<name>` (`name` as documented, e.g. `Idempotency-Key`).
 */
export function parseHeader<T>(name: string, value: string | undefined, schema: z.ZodType<T>): T {
  if (value !== undefined && !isWellFormed(value)) {
    throw new HttpError(400, `Invalid ${name} header`, [
      { path: `header.${name}`, message: NOT_WELL_FORMED },
    ]);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new HttpError(
      400,
      `Invalid ${name} header`,
      parsed.error.issues.map((issue) => ({ path: `header.${name}`, message: issue.message })),
    );
  }
  return parsed.data;
}

/** A path or query id: 1..128 characters without `/` or control characters, well-formed. */
export const idParameter = (name: string) =>
  z
    .string({ error: `${name} is required` })
    .min(1, `${name} must not be empty`)
    .max(128, `${name} must be at most 128 characters`)
    .regex(/^[^/\p{Cc}]+$/u, `${name} must not contain '/' or control characters`)
    .refine(isWellFormed, `${name} ${NOT_WELL_FORMED}`);

/** Opaque pagination cursor: base64url JSON of DynamoDB's LastEvaluatedKey. */
export function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key), 'utf8').toString('base64url') : undefined;
}

/** Our keys are a few ids and a timestamp; a cursor longer than this was not made by us. */
export const MAX_CURSOR_LENGTH = 2048;
/** DynamoDB's limit on a sort key value (a partition key may have 2048); ours are far shorter. */
const MAX_KEY_VALUE_BYTES = 1024;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The type of each key attribute, as in DynamoDB's key schema: `S` string, `N` number. */
export type CursorKeys = readonly string[] | Readonly<Record<string, 'S' | 'N'>>;

function keyValueIsValid(value: unknown, type: 'S' | 'N'): boolean {
  if (type === 'N') return typeof value === 'number' && Number.isFinite(value);
  // DynamoDB refuses an empty, oversized or ill-formed key string with a ValidationException.
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    isWellFormed(value) &&
    Buffer.byteLength(value, 'utf8') <= MAX_KEY_VALUE_BYTES
  );
}

/**
 * The key a cursor encodes, checked strictly so that DynamoDB never sees a start key it would
 * refuse (a 500 otherwise): at most `MAX_CURSOR_LENGTH` base64url characters of UTF-8 JSON, an
 * object with exactly the key attributes, each of its type (`keys` as a list: all strings), strings
 * non-empty, well-formed and at most 1024 bytes. Anything else is a 400 at `query.<param>`.
 */
export function decodeCursor(
  cursor: string | undefined,
  keys: CursorKeys,
  param = 'nextToken',
): Record<string, unknown> | undefined {
  if (cursor === undefined) return undefined;
  const types: Readonly<Record<string, 'S' | 'N'>> = Array.isArray(keys)
    ? Object.fromEntries(keys.map((name) => [name, 'S' as const]))
    : (keys as Readonly<Record<string, 'S' | 'N'>>);
  if (cursor.length <= MAX_CURSOR_LENGTH && BASE64URL.test(cursor)) {
    try {
      const value: unknown = JSON.parse(utf8.decode(Buffer.from(cursor, 'base64url')));
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        const entries = Object.entries(value);
        const valid =
          entries.length === Object.keys(types).length &&
          entries.every(([k, v]) => Object.hasOwn(types, k) && keyValueIsValid(v, types[k] as 'S' | 'N'));
        if (valid) return Object.fromEntries(entries);
      }
    } catch {
      // not UTF-8 or not JSON: refused below
    }
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
  nextToken: z.string().max(MAX_CURSOR_LENGTH, 'nextToken is not a cursor this API returned').optional(),
};

/**
 * The start key of the next page of a query on one partition: the cursor must carry exactly
 * `keyNames` and belong to that partition (`{name: value}`), else 400 at `query.nextToken`.
 */
export function startKeyOf(
  nextToken: string | undefined,
  keys: CursorKeys,
  partition: { readonly name: string; readonly value: string; readonly of: string },
): Record<string, unknown> | undefined {
  const startKey = decodeCursor(nextToken, keys);
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

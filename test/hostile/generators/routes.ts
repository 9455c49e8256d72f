/**
 * Hostile HTTP requests for every route of the app, generated from the route's schemas: the zod
 * schemas its handler parses with (exported by the domain and `commons/http`, or restated below
 * where the handler keeps them private), through `schema-arbitrary.ts` to valid values, then
 * mutated into hostile ones in the body, the path parameters, the query, the headers and the
 * Authorization header, one part or several at once.
 *
 * Each case carries what the platform owes it beyond "no 5xx, no timeout, refusals in the error
 * shape": when the request is invalid by the handler's own schema (or holds ill-formed Unicode,
 * or a malformed percent-encoding, or a bad token), it must be refused with a 4xx; a lone
 * surrogate put in one body field must be refused naming that field; an invalid event of a
 * `POST /events` batch must be listed as rejected.
 */
import fc from 'fast-check';
import * as z from 'zod';
import { activityEventSchema, ingestBodySchema } from '../../../lambdas/analytics/domain/activity.js';
import { idParameter, MAX_BODY_BYTES, pageParameters } from '../../../lambdas/commons/http/request.js';
import {
  changeEmailBodySchema,
  deactivateCustomerCommandSchema,
  reactivateCustomerCommandSchema,
  registerCustomerBodySchema,
} from '../../../lambdas/customers/domain/customer-schemas.js';
import { placeOrderBodySchema } from '../../../lambdas/orders/domain/order-schemas.js';
import {
  deeplyNested,
  ENCODED_SPECIALS,
  exactly,
  LONE_SURROGATES,
  MALFORMED_PERCENT,
  PROTOTYPE_KEYS,
} from './hostile-values.js';
import { hasLoneSurrogate, type Json, objectOf, pathPattern, RawJson, toJsonText } from './json.js';
import { type Mutated, mutationsOf, surrogateMutation } from './mutate.js';
import { arbitraryOf, type JsonSchema, jsonSchemaOf } from './schema-arbitrary.js';

// ---- Schemas the handlers keep private, restated (keep in step with the handlers) ---------------

/** lambdas/orders/handlers/place-order.ts */
const placeOrderQuery = z.object({
  wait: z.enum(['inventory']).optional(),
  timeoutMs: z.coerce.number().int().min(100).max(8000).default(5000),
});
const idempotencyKey = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/);
/** lambdas/orders/handlers/cancel-order.ts */
const cancelBody = z.strictObject({ reason: z.string().trim().min(1).max(500).optional() });
/** lambdas/customers/handlers/find-customers.ts */
const findCustomersQuery = z.object({
  emailDomain: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/)
    .max(253),
  active: z.enum(['true', 'false']).optional(),
  ...pageParameters,
});
/** lambdas/inventory/handlers/put-stock.ts */
const skuParameter = idParameter('sku').refine((sku) => !sku.includes('#'), 'sku must not contain #');
const putStockBody = z.strictObject({ available: z.int().min(0).max(1_000_000_000) });
/** lambdas/analytics/handlers/get-user-analytics.ts (window names of the dev stage) */
const userAnalyticsQuery = z.object({
  window: z.enum(['tumbling-60s', 'hopping-300s-every-60s']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
/** lambdas/analytics/handlers/ingest-events.ts */
const INGEST_MAX_BYTES = 256 * 1024;

// ---- Route table -----------------------------------------------------------------------------------

type Fixture = 'order' | 'customer' | 'sku' | 'user';

interface ParamSpec {
  readonly schema: z.ZodType;
  /** An id the fixtures created, so that valid cases reach the handler's happy path too. */
  readonly fixture: Fixture;
}

interface BodySpec {
  readonly schema: z.ZodType;
  readonly json: JsonSchema;
  readonly required: boolean;
  readonly maxBytes: number;
  /** POST /events: each event is validated on its own. */
  readonly events?: true;
}

export interface RouteSpec {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly params: Readonly<Record<string, ParamSpec>>;
  readonly query?: z.ZodType;
  /** The query has a `nextToken` cursor: one the API did not issue must be refused. */
  readonly paginated?: true;
  readonly body?: BodySpec;
  readonly idempotencyKey?: true;
  /** GET /health answers 503 (with its report) when unhealthy: not a fault. */
  readonly documented503?: true;
}

const recent = fc
  .integer({ min: -3_600_000, max: 0 })
  .map((offset) => new Date(Date.UTC(2026, 10, 26, 12) + offset).toISOString());

const ingestJson: JsonSchema = {
  type: 'object',
  properties: {
    events: { type: 'array', items: jsonSchemaOf(activityEventSchema), minItems: 1, maxItems: 500 },
  },
  required: ['events'],
  additionalProperties: false,
};

const id = (name: string, fixture: Fixture): ParamSpec => ({ schema: idParameter(name), fixture });
const body = (schema: z.ZodType, required: boolean, maxBytes = MAX_BODY_BYTES): BodySpec => ({
  schema,
  json: jsonSchemaOf(schema),
  required,
  maxBytes,
});

export const ROUTES: readonly RouteSpec[] = [
  {
    name: 'POST /orders',
    method: 'POST',
    path: '/orders',
    params: {},
    query: placeOrderQuery,
    body: body(placeOrderBodySchema, true),
    idempotencyKey: true,
  },
  {
    name: 'GET /orders/{orderId}',
    method: 'GET',
    path: '/orders/{orderId}',
    params: { orderId: id('orderId', 'order') },
  },
  {
    name: 'POST /orders/{orderId}/cancel',
    method: 'POST',
    path: '/orders/{orderId}/cancel',
    params: { orderId: id('orderId', 'order') },
    body: body(cancelBody, false),
  },
  {
    name: 'GET /customers/{customerId}/orders',
    method: 'GET',
    path: '/customers/{customerId}/orders',
    params: { customerId: id('customerId', 'customer') },
    query: z.object(pageParameters),
    paginated: true,
  },
  {
    name: 'POST /customers',
    method: 'POST',
    path: '/customers',
    params: {},
    body: body(registerCustomerBodySchema, true),
  },
  {
    name: 'GET /customers',
    method: 'GET',
    path: '/customers',
    params: {},
    query: findCustomersQuery,
    paginated: true,
  },
  {
    name: 'GET /customers/{customerId}',
    method: 'GET',
    path: '/customers/{customerId}',
    params: { customerId: id('customerId', 'customer') },
  },
  {
    name: 'PUT /customers/{customerId}/email',
    method: 'PUT',
    path: '/customers/{customerId}/email',
    params: { customerId: id('customerId', 'customer') },
    body: body(changeEmailBodySchema, true),
  },
  {
    name: 'POST /customers/{customerId}/deactivate',
    method: 'POST',
    path: '/customers/{customerId}/deactivate',
    params: { customerId: id('customerId', 'customer') },
    body: body(deactivateCustomerCommandSchema, false),
  },
  {
    name: 'POST /customers/{customerId}/reactivate',
    method: 'POST',
    path: '/customers/{customerId}/reactivate',
    params: { customerId: id('customerId', 'customer') },
    body: body(reactivateCustomerCommandSchema, false),
  },
  {
    name: 'PUT /inventory/{sku}',
    method: 'PUT',
    path: '/inventory/{sku}',
    params: { sku: { schema: skuParameter, fixture: 'sku' } },
    body: body(putStockBody, true),
  },
  {
    name: 'POST /events',
    method: 'POST',
    path: '/events',
    params: {},
    body: {
      schema: ingestBodySchema,
      json: ingestJson,
      required: true,
      maxBytes: INGEST_MAX_BYTES,
      events: true,
    },
  },
  {
    name: 'GET /analytics/users/{userId}',
    method: 'GET',
    path: '/analytics/users/{userId}',
    params: { userId: id('userId', 'user') },
    query: userAnalyticsQuery,
  },
  { name: 'GET /health', method: 'GET', path: '/health', params: {}, documented503: true },
];

// ---- Cases ----------------------------------------------------------------------------------------

/** How the Authorization header is made (tokens need the running app's issuer: made at send time). */
export const AUTH_KINDS = {
  valid: 'ok',
  'lower-case scheme': 'ok',
  'two spaces after Bearer': 'ok',
  'subject with a lone surrogate': 'ok',
  'subject __proto__': 'ok',
  'numeric subject': 'ok',
  missing: 'refuse',
  'Bearer only': 'refuse',
  'Bearer and a space': 'refuse',
  'Bearer a.b': 'refuse',
  'Bearer a.b.c': 'refuse',
  'garbage base64': 'refuse',
  'wrong signature': 'refuse',
  expired: 'refuse',
  'alg none': 'refuse',
  'header is null': 'refuse',
  'claims are null': 'refuse',
  'claims are an array': 'refuse',
  'claims are a string': 'refuse',
  'wrong issuer': 'refuse',
  'Basic scheme': 'refuse',
  '7 KB token': 'refuse',
  'token of prototype names': 'refuse',
} as const;
export type AuthKind = keyof typeof AUTH_KINDS;

export interface Expectation {
  /** Why a 4xx is owed (the request is invalid); absent: any answer below 500 will do. */
  readonly refuse?: string;
  /** A refusal must name this field (a lone surrogate put there). */
  readonly fieldPath?: string;
  /** POST /events: indexes of events that must be rejected (all of them: 400). */
  readonly invalidEvents?: readonly number[];
  readonly eventCount?: number;
}

export interface HttpCase {
  readonly route: string;
  /** What was made hostile, for grouping (`body items.*.sku: lone surrogate`, `path: %ED%A0%80`). */
  readonly label: string;
  readonly method: string;
  /** Raw request target; `{{order}}`, `{{customer}}`, `{{sku}}`, `{{user}}` stand for fixture ids. */
  readonly target: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly auth: AuthKind;
  /** `null`: no Content-Type header. */
  readonly contentType: string | null;
  /** The body's bytes, or a size for a generated oversize body (built at send time). */
  readonly body?: Buffer | { readonly oversizeBytes: number };
  readonly expect: Expectation;
}

interface Part<T> {
  readonly value: T;
  readonly label?: string;
  readonly refuse?: string;
}

const valid = <T>(value: T): Part<T> => ({ value });

// -- path ------------------------------------------------------------------------------------------

const memo = new WeakMap<object, fc.Arbitrary<never>>();
/** Arbitraries are built once per spec: building one parses its regexes again. */
function once<T>(key: object, make: () => fc.Arbitrary<T>): fc.Arbitrary<T> {
  let arbitrary = memo.get(key) as fc.Arbitrary<T> | undefined;
  if (!arbitrary) {
    arbitrary = make();
    memo.set(key, arbitrary as fc.Arbitrary<never>);
  }
  return arbitrary;
}

function validSegment(spec: ParamSpec): fc.Arbitrary<string> {
  return once(spec, () =>
    fc.oneof(
      { weight: 2, arbitrary: fc.constant(`{{${spec.fixture}}}`) },
      {
        weight: 3,
        arbitrary: arbitraryOf(jsonSchemaOf(spec.schema)).map((v) => encodeURIComponent(String(v))),
      },
    ),
  );
}

const hostileSegment = (base: string): fc.Arbitrary<{ raw: string; what: string }> =>
  fc.oneof(
    fc
      .record({ at: fc.nat({ max: base.length }), bad: fc.constantFrom(...MALFORMED_PERCENT) })
      .map(({ at, bad }) => ({
        raw: base.slice(0, at) + bad + base.slice(at),
        what: `malformed percent-encoding ${bad}`,
      })),
    fc
      .constantFrom(...MALFORMED_PERCENT)
      .map((bad) => ({ raw: bad, what: `malformed percent-encoding ${bad}` })),
    fc.constantFrom(...ENCODED_SPECIALS).map((s) => ({ raw: `a${s}b`, what: `encoded ${s}` })),
    fc.constantFrom(129, 1000, 4000).map((n) => ({ raw: exactly(n, 'i'), what: `id of ${n} characters` })),
    fc.constantFrom(...PROTOTYPE_KEYS).map((k) => ({ raw: k, what: 'prototype name as id' })),
    fc
      .constantFrom("!$&'()*+,;=:@~", '.', '..', '...', '%2e', 'a.b')
      .map((raw) => ({ raw, what: `raw ${raw}` })),
    fc.constantFrom(...LONE_SURROGATES).map((s) => ({
      raw: encodeURIComponent('x').concat(s === '\ud800' ? '%ED%A0%80' : '%ED%B0%80'),
      what: 'encoded lone surrogate',
    })),
  );

/** Why a raw path segment must be refused, or undefined when it may be accepted. */
function segmentProblem(raw: string, spec: ParamSpec, name: string): string | undefined {
  if (raw.startsWith('{{')) return undefined;
  // The URL parser resolves dot segments before routing: another route, or none, answers.
  if (/^(\.|%2e){1,2}$/i.test(raw)) return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return `path.${name} has a malformed percent-encoding`;
  }
  if (/\p{Cs}/u.test(decoded)) return `path.${name} holds ill-formed Unicode`;
  if (!spec.schema.safeParse(decoded).success) return `path.${name} is invalid by its schema`;
  return undefined;
}

function pathOf(route: RouteSpec, hostile: boolean, forced?: Focus['segment']): fc.Arbitrary<Part<string>> {
  const names = Object.keys(route.params);
  if (names.length === 0) return fc.constant(valid(route.path));
  return fc
    .tuple(...names.map((n) => validSegment(route.params[n] as ParamSpec)), fc.nat({ max: names.length - 1 }))
    .chain((values) => {
      const segments = values.slice(0, names.length) as string[];
      const which = values[names.length] as number;
      const make = (raws: string[], what?: string): Part<string> => {
        let path = route.path;
        const problems: string[] = [];
        names.forEach((name, i) => {
          path = path.replace(`{${name}}`, raws[i] as string);
          const problem = segmentProblem(raws[i] as string, route.params[name] as ParamSpec, name);
          if (problem) problems.push(problem);
        });
        return {
          value: path,
          ...(what ? { label: what } : {}),
          ...(problems[0] ? { refuse: problems[0] } : {}),
        };
      };
      if (forced) {
        const raws = [...segments];
        raws[names.indexOf(forced.name)] = forced.raw;
        return fc.constant(make(raws, `path.${forced.name}: ${forced.what}`));
      }
      if (!hostile) return fc.constant(make(segments));
      const base = decodeURIComponent(segments[which] as string).startsWith('{{')
        ? 'o-1'
        : (segments[which] as string);
      return hostileSegment(base).map(({ raw, what }) => {
        const raws = [...segments];
        raws[which] = raw;
        return make(raws, `path.${names[which]}: ${what}`);
      });
    });
}

// -- query -----------------------------------------------------------------------------------------

function validQuery(route: RouteSpec): fc.Arbitrary<[string, string][]> {
  const query = route.query;
  if (!query) return fc.constant([]);
  return once(query, () =>
    arbitraryOf(jsonSchemaOf(query), {
      byName: {
        timeoutMs: fc.integer({ min: 100, max: 600 }),
        emailDomain: fc.constantFrom('example.com', 'shop.example', 'a-b.example.org'),
        // A cursor comes from the API only: generated ones are the hostile kind.
        nextToken: fc.constant('$omit'),
      },
    }).map((value) =>
      Object.entries((value ?? {}) as Record<string, Json>)
        .filter(([, v]) => v !== '$omit')
        .map(([k, v]) => [encodeURIComponent(k), encodeURIComponent(String(v))] as [string, string]),
    ),
  );
}

const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

const hostileCursor = fc.oneof(
  fc.string({ unit: 'grapheme-ascii', maxLength: 40 }).map((s) => encodeURIComponent(s)),
  fc.base64String({ maxLength: 60 }).map((s) => encodeURIComponent(s)),
  fc.constantFrom(
    cursorOf({ __proto__: null }),
    cursorOf(JSON.parse('{"__proto__":{"polluted":true},"orderId":"x"}')),
    cursorOf({ constructor: 'x', toString: 1 }),
    cursorOf(null),
    cursorOf([1, 2]),
    cursorOf('s'),
    cursorOf({ orderId: { $ne: null }, customerId: 'c', placedAt: 1 }),
    cursorOf({ customerId: '\ud800', orderId: 'o', sortKey: 'x' }),
    cursorOf({ a: 'x'.repeat(3000) }),
    Buffer.from([0xff, 0xfe, 0xfd]).toString('base64url'),
    '%%%',
    '%ED%A0%80',
    '',
    '=',
    'eyJ',
  ),
);

const hostileQueryPairs = (route: RouteSpec): fc.Arbitrary<{ pairs: [string, string][]; what: string }> => {
  const known = Object.keys((route.query && (jsonSchemaOf(route.query).properties ?? {})) ?? {});
  const options: fc.Arbitrary<{ pairs: [string, string][]; what: string }>[] = [
    fc
      .tuple(fc.constantFrom(...PROTOTYPE_KEYS), fc.constantFrom('1', 'x', '', '%ED%A0%80'))
      .map(([k, v]) => ({ pairs: [[k, v]], what: `query name ${k}` })),
    fc
      .constantFrom(...MALFORMED_PERCENT)
      .map((bad) => ({ pairs: [[`a${bad}`, bad]], what: `malformed percent-encoding in the query` })),
    fc
      .constantFrom('flag', '=x', '&&', 'a=b=c', exactly(6000, 'q'))
      .map((raw) => ({ pairs: [[raw, '']], what: 'odd query syntax' })),
  ];
  if (known.length > 0) {
    options.push(
      fc
        .tuple(
          fc.constantFrom(...known),
          fc.constantFrom(
            '1e309',
            '-0',
            '0x10',
            exactly(400, '9'),
            '',
            ' 5',
            '5.5',
            'NaN',
            'Infinity',
            '-1',
            '%00',
            exactly(5000, 'v'),
          ),
        )
        .map(([k, v]) => ({ pairs: [[k, v]], what: `query ${k}: hostile value` })),
      fc
        .tuple(
          fc.constantFrom(...known),
          fc.constantFrom('1', 'true', 'inventory'),
          fc.constantFrom('2', 'x', ''),
        )
        .map(([k, a, b]) => ({
          pairs: [
            [k, a],
            [k, b],
          ],
          what: `query ${k} twice`,
        })),
    );
  }
  if (route.paginated) {
    options.push(hostileCursor.map((c) => ({ pairs: [['nextToken', c]], what: 'malformed nextToken' })));
  }
  return fc.oneof(...options);
};

/** Why the query must be refused, read as API Gateway hands it over (the last of duplicates wins). */
function queryProblem(route: RouteSpec, pairs: [string, string][]): string | undefined {
  const params = new URLSearchParams(pairs.map(([k, v]) => `${k}=${v}`).join('&'));
  if (route.paginated && params.has('nextToken')) return 'query.nextToken was not issued by the API';
  if (!route.query) return undefined;
  const last: [string, string][] = [];
  for (const [k, v] of params) {
    const at = last.findIndex(([name]) => name === k);
    if (at >= 0) last.splice(at, 1);
    last.push([k, v]);
  }
  return route.query.safeParse(objectOf(last)).success ? undefined : 'the query is invalid by its schema';
}

function queryOf(
  route: RouteSpec,
  hostile: boolean,
  forced?: Focus['query'],
): fc.Arbitrary<Part<[string, string][]>> {
  return validQuery(route).chain((pairs) => {
    const make = (all: [string, string][], what?: string): Part<[string, string][]> => {
      const problem = queryProblem(route, all);
      return { value: all, ...(what ? { label: what } : {}), ...(problem ? { refuse: problem } : {}) };
    };
    if (forced) return fc.constant(make([...pairs, ...forced.pairs], forced.what));
    if (!hostile) return fc.constant(make(pairs));
    return hostileQueryPairs(route).map(({ pairs: extra, what }) => make([...pairs, ...extra], what));
  });
}

// -- headers ---------------------------------------------------------------------------------------

interface HeaderPart {
  readonly headers: [string, string][];
  readonly what: string;
  readonly refuse?: string;
  /** Replaces the body's `application/json`. */
  readonly contentType?: string;
}

const hostileHeaders = (route: RouteSpec): fc.Arbitrary<HeaderPart> => {
  const options: fc.Arbitrary<HeaderPart>[] = [
    fc
      .tuple(fc.constantFrom(...PROTOTYPE_KEYS), fc.constantFrom('1', 'x', '', '{}'))
      .map(([k, v]) => ({ headers: [[k, v]], what: `header name ${k}` })),
    fc
      .constantFrom('', exactly(7000, 'c'), '\xff\xfe', '__proto__', '../..', 'a,b', ' ', 'x\ty')
      .map((v) => ({ headers: [['X-Correlation-Id', v]], what: 'hostile X-Correlation-Id' })),
    fc
      .constantFrom(
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/octet-stream',
        'application/json; charset=utf-16',
        '\xff',
      )
      .map((v) => ({ headers: [], contentType: v, what: 'odd Content-Type' })),
    fc.constant({ headers: [['Content-Encoding', 'gzip']], what: 'Content-Encoding gzip of a plain body' }),
    fc
      .tuple(
        fc.constantFrom('X-Forwarded-For', 'Host', 'X-Amz-Date', 'Cookie', 'Origin'),
        fc.constantFrom('', exactly(4000, 'h'), '\xff', '::1, 10.0.0.1'),
      )
      .map(([k, v]) => ({ headers: [[k, v]], what: `odd ${k}` })),
  ];
  if (route.idempotencyKey) {
    options.push(
      fc
        .constantFrom(
          '',
          exactly(256, 'k'),
          'has space',
          '\xff\xfe',
          'tab\tkey',
          exactly(255, 'k'),
          '__proto__',
          'constructor',
        )
        .map((v) => ({
          headers: [['Idempotency-Key', v]],
          what: 'hostile Idempotency-Key',
          ...(idempotencyKey.safeParse(Buffer.from(v, 'latin1').toString('latin1')).success || v === ''
            ? v === ''
              ? { refuse: 'an empty Idempotency-Key is invalid' }
              : {}
            : { refuse: 'the Idempotency-Key is invalid' }),
        })),
      fc.constant({
        headers: [
          ['Idempotency-Key', 'k-1'],
          ['Idempotency-Key', 'k-2'],
        ],
        what: 'Idempotency-Key twice',
      }),
    );
  }
  return fc.oneof(...options);
};

// -- body ------------------------------------------------------------------------------------------

function validBody(spec: BodySpec): fc.Arbitrary<Json> {
  return once(spec, () => arbitraryOf(spec.json, { byName: { occurredAt: recent, receivedAt: recent } }));
}

const MALFORMED_JSON = [
  '{',
  '{"a":1,}',
  "{'a':1}",
  'NaN',
  'undefined',
  '{"a":01}',
  '/*c*/{}',
  '{"a":"\\x"}',
  '{"a":"unterminated}',
  '\ufeff{}',
  '{"a":1}{"b":2}',
  '{"a":1} trailing',
  '{"\\ud800":1',
  '[',
  ']',
  '{"a":[1,2}',
  '{"a" 1}',
] as const;

interface BodyPart {
  readonly bytes?: Buffer | { readonly oversizeBytes: number };
  readonly label?: string;
  readonly mutated?: Mutated;
}

const hostileWholeBody = (spec: BodySpec, value: Json): fc.Arbitrary<BodyPart> => {
  const text = toJsonText(value);
  return fc.oneof(
    fc.constantFrom(...MALFORMED_JSON).map((t) => ({ bytes: Buffer.from(t), label: 'body: malformed JSON' })),
    fc
      .nat({ max: Math.max(0, text.length - 1) })
      .map((n) => ({ bytes: Buffer.from(text.slice(0, n)), label: 'body: truncated JSON' })),
    fc
      .constantFrom('[]', '"s"', '1', 'null', 'true', `[${text}]`)
      .map((t) => ({ bytes: Buffer.from(t), label: 'body: not an object' })),
    fc.constant({ bytes: Buffer.alloc(0), label: 'body: empty' }),
    fc
      .constantFrom(
        Buffer.from([0xff, 0xfe]),
        Buffer.from([0xc0, 0xaf]),
        Buffer.from([0xed, 0xa0, 0x80]),
        Buffer.from([0x80]),
      )
      .map((bad) => {
        const at = text.indexOf('"') + 1;
        return at > 0
          ? {
              bytes: Buffer.concat([Buffer.from(text.slice(0, at)), bad, Buffer.from(text.slice(at))]),
              label: 'body: invalid UTF-8 in a string',
            }
          : { bytes: Buffer.concat([bad, Buffer.from(text)]), label: 'body: invalid UTF-8' };
      }),
    fc
      .constantFrom(spec.maxBytes + 1, spec.maxBytes * 2)
      .map((n) => ({ bytes: { oversizeBytes: n }, label: 'body: over the size limit' })),
    fc.constant({ bytes: Buffer.from(toJsonText(deeplyNested(15_000))), label: 'body: deeply nested' }),
  );
};

/** The expectation of a body, judged as the handler reads it (UTF-8, JSON.parse, its zod schema). */
function bodyExpectation(
  spec: BodySpec,
  bytes: Buffer | { oversizeBytes: number } | undefined,
  mutated?: Mutated,
): Expectation {
  if (bytes === undefined) return spec.required ? { refuse: 'the body is required' } : {};
  if (!Buffer.isBuffer(bytes)) return { refuse: 'the body is over the size limit' };
  if (bytes.length > spec.maxBytes) return { refuse: 'the body is over the size limit' };
  const text = bytes.toString('utf8');
  if (text.trim() === '') return spec.required ? { refuse: 'the body is required' } : {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { refuse: 'the body is not JSON' };
  }
  const single = mutated && !mutated.label.includes(' + ') ? mutated : undefined;
  const fieldPath = single?.surrogateAt && !spec.events ? { fieldPath: single.surrogateAt.join('.') } : {};
  if (!spec.schema.safeParse(parsed).success)
    return { refuse: 'the body is invalid by its schema', ...fieldPath };
  if (spec.events) {
    const events = (parsed as { events: unknown[] }).events;
    if (Object.keys(parsed as object).some((k) => /\p{Cs}/u.test(k)))
      return { refuse: 'a body key holds ill-formed Unicode' };
    const invalid = events.flatMap((e, i) =>
      !activityEventSchema.safeParse(e).success || hasLoneSurrogate(e) ? [i] : [],
    );
    if (invalid.length === events.length)
      return { refuse: 'no event of the batch is valid', invalidEvents: invalid, eventCount: events.length };
    return invalid.length > 0 ? { invalidEvents: invalid, eventCount: events.length } : {};
  }
  if (hasLoneSurrogate(parsed)) return { refuse: 'the body holds ill-formed Unicode', ...fieldPath };
  return {};
}

function bodyOf(
  spec: BodySpec,
  kind: 'valid' | 'field' | 'whole' | 'absent',
  surrogateAt?: string,
): fc.Arbitrary<BodyPart> {
  if (kind === 'absent') return fc.constant({ label: 'body: absent' });
  if (surrogateAt !== undefined) {
    // A valid body that has the field (optional ones are sometimes absent), a surrogate put there.
    return validBody(spec)
      .filter((value) => surrogateMutation(value, spec.json, surrogateAt) !== undefined)
      .chain((value) => surrogateMutation(value, spec.json, surrogateAt) as fc.Arbitrary<Mutated>)
      .map((mutated) => ({
        bytes: Buffer.from(toJsonText(mutated.value)),
        label: `body ${mutated.label}`,
        mutated,
      }));
  }
  return validBody(spec).chain((value) => {
    if (kind === 'valid') return fc.constant({ bytes: Buffer.from(toJsonText(value)) });
    if (kind === 'whole') return hostileWholeBody(spec, value);
    return mutationsOf(value, spec.json).map((mutated) => ({
      bytes: Buffer.from(toJsonText(mutated.value)),
      label: `body ${mutated.label}`,
      mutated,
    }));
  });
}

// -- whole cases -----------------------------------------------------------------------------------

type Target =
  | 'valid'
  | 'body-field'
  | 'body-whole'
  | 'body-absent'
  | 'path'
  | 'query'
  | 'headers'
  | 'auth'
  | 'several';

function targetsOf(route: RouteSpec): fc.Arbitrary<Target> {
  const weighted: { weight: number; arbitrary: fc.Arbitrary<Target> }[] = [
    { weight: 1, arbitrary: fc.constant('valid') },
    { weight: 2, arbitrary: fc.constant('headers') },
    { weight: 3, arbitrary: fc.constant('auth') },
    { weight: 2, arbitrary: fc.constant('several') },
  ];
  if (route.body) {
    weighted.push(
      { weight: 8, arbitrary: fc.constant('body-field') },
      { weight: 3, arbitrary: fc.constant('body-whole') },
      { weight: 1, arbitrary: fc.constant('body-absent') },
    );
  }
  if (Object.keys(route.params).length > 0) weighted.push({ weight: 5, arbitrary: fc.constant('path') });
  if (route.query || route.paginated) weighted.push({ weight: 3, arbitrary: fc.constant('query') });
  else weighted.push({ weight: 1, arbitrary: fc.constant('query') });
  return fc.oneof(...weighted);
}

/**
 * One part of a case made hostile in a given way: the cases every CI run sends whatever the seed
 * (`essentialCases`), so that each class issue 14 names reaches each route, parameter and field.
 */
export interface Focus {
  readonly segment?: { readonly name: string; readonly raw: string; readonly what: string };
  readonly auth?: AuthKind;
  readonly headers?: HeaderPart;
  readonly query?: { readonly pairs: [string, string][]; readonly what: string };
  /** A lone surrogate in the body: in the string field at this path pattern, or as a key ('(key)'). */
  readonly surrogateAt?: string;
  readonly valid?: true;
}

const authOf = (hostile: boolean): fc.Arbitrary<AuthKind> =>
  hostile
    ? fc.constantFrom(...(Object.keys(AUTH_KINDS) as AuthKind[]).filter((k) => k !== 'valid'))
    : fc.constant('valid');

export function caseOf(route: RouteSpec, focus?: Focus): fc.Arbitrary<HttpCase> {
  const targets: fc.Arbitrary<Target> = focus ? fc.constant('valid') : targetsOf(route);
  return targets.chain((target) => {
    const several = target === 'several';
    const coin = several ? fc.boolean() : fc.constant(false);
    return fc
      .record({
        path: coin,
        query: coin,
        headers: coin,
        body: coin,
      })
      .chain((pick) => {
        const hostilePath = target === 'path' || (several && pick.path);
        const hostileQuery = target === 'query' || (several && pick.query);
        const hostileHeader = target === 'headers' || (several && pick.headers);
        const bodyKind: 'valid' | 'field' | 'whole' | 'absent' =
          target === 'body-field' || (several && pick.body)
            ? 'field'
            : target === 'body-whole'
              ? 'whole'
              : target === 'body-absent'
                ? 'absent'
                : 'valid';
        return fc.record({
          path: pathOf(route, hostilePath, focus?.segment),
          query: queryOf(route, hostileQuery, focus?.query),
          headers: focus?.headers
            ? fc.constant(focus.headers)
            : hostileHeader
              ? hostileHeaders(route)
              : fc.constant<HeaderPart | undefined>(undefined),
          auth: focus?.auth ? fc.constant(focus.auth) : authOf(target === 'auth'),
          body: route.body ? bodyOf(route.body, bodyKind, focus?.surrogateAt) : fc.constant<BodyPart>({}),
        });
      })
      .chain((parts) =>
        // Most POST /orders cases that send no Idempotency-Key of their own replay one fixed key:
        // the request is parsed in full, but only the first valid body places an order (the others
        // get the first answer or 422). Hundreds of placed orders would each run the whole
        // fulfilment on the single-threaded moto and slow every other case down.
        route.idempotencyKey && !parts.headers?.headers.some(([k]) => k === 'Idempotency-Key')
          ? fc.nat({ max: 4 }).map((n) => ({ ...parts, replayKey: n > 0 }))
          : fc.constant({ ...parts, replayKey: false }),
      )
      .map(({ path, query, headers, auth, body: bodyPart, replayKey }): HttpCase => {
        const labels = [
          path.label,
          query.label,
          headers?.what,
          auth === 'valid' ? undefined : `Authorization: ${auth}`,
          bodyPart.label,
        ].filter((l): l is string => l !== undefined);
        const bodyExpect = route.body ? bodyExpectation(route.body, bodyPart.bytes, bodyPart.mutated) : {};
        const refuse =
          (AUTH_KINDS[auth] === 'refuse' ? `Authorization: ${auth}` : undefined) ??
          path.refuse ??
          headers?.refuse ??
          bodyExpect.refuse ??
          query.refuse;
        const target =
          query.value.length > 0
            ? `${path.value}?${query.value.map(([k, v]) => `${k}=${v}`).join('&')}`
            : path.value;
        return {
          route: route.name,
          label: labels.join(' + ') || 'valid request',
          method: route.method,
          target,
          headers: [
            ...(headers?.headers ?? []),
            ...(replayKey ? [['Idempotency-Key', 'hostile-replayed-key'] as [string, string]] : []),
          ],
          auth,
          contentType: headers?.contentType ?? (bodyPart.bytes === undefined ? null : 'application/json'),
          ...(bodyPart.bytes !== undefined ? { body: bodyPart.bytes } : {}),
          expect: {
            ...(refuse ? { refuse } : {}),
            ...(bodyExpect.fieldPath && labels.length === 1 && refuse === bodyExpect.refuse
              ? { fieldPath: bodyExpect.fieldPath }
              : {}),
            ...(bodyExpect.invalidEvents
              ? { invalidEvents: bodyExpect.invalidEvents, eventCount: bodyExpect.eventCount }
              : {}),
          },
        };
      });
  });
}

/** The string fields of a body schema, as path patterns (`items.*.sku`, `events.*.page`). */
function stringFieldsOf(schema: JsonSchema, path: string[] = []): string[] {
  const branches = schema.oneOf ?? schema.anyOf;
  if (branches) return [...new Set(branches.flatMap((b) => stringFieldsOf(b, path)))];
  if (schema.type === 'string' && path.length > 0) return [path.join('.')];
  if (schema.type === 'array' && schema.items) return stringFieldsOf(schema.items, [...path, '*']);
  return Object.entries(schema.properties ?? {}).flatMap(([k, sub]) => stringFieldsOf(sub, [...path, k]));
}

/** Malformed (and one control) percent-encodings every path parameter gets, alone and inside an id. */
const ESSENTIAL_PERCENT = ['%', '%ZZ', '%E0%A4%A', '%FF%FE', '%C0%AF', '%ED%A0%80', '%00', '%2F'] as const;
const ESSENTIAL_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'] as const;

/** The focused cases of a route: each issue-14 class on each parameter, field, header and query. */
export function essentialFoci(route: RouteSpec): Focus[] {
  const foci: Focus[] = [{ valid: true }];
  for (const name of Object.keys(route.params)) {
    for (const bad of ESSENTIAL_PERCENT) {
      const what = bad === '%00' || bad === '%2F' ? `encoded ${bad}` : `malformed percent-encoding ${bad}`;
      foci.push({ segment: { name, raw: bad, what } }, { segment: { name, raw: `o-1${bad}x`, what } });
    }
    foci.push({ segment: { name, raw: exactly(4000, 'i'), what: 'id of 4000 characters' } });
  }
  for (const kind of Object.keys(AUTH_KINDS) as AuthKind[]) if (kind !== 'valid') foci.push({ auth: kind });
  for (const name of ESSENTIAL_NAMES) {
    foci.push({ headers: { headers: [[name, '1']], what: `header name ${name}` } });
    foci.push({ query: { pairs: [[name, '1']], what: `query name ${name}` } });
  }
  if (route.paginated) {
    for (const cursor of [
      '%%%',
      'eyJ',
      cursorOf({ __proto__: null }),
      cursorOf(null),
      cursorOf({ a: 'x'.repeat(3000) }),
    ]) {
      foci.push({ query: { pairs: [['nextToken', cursor]], what: 'malformed nextToken' } });
    }
  }
  if (route.body) {
    for (const field of stringFieldsOf(route.body.json)) foci.push({ surrogateAt: field });
    foci.push({ surrogateAt: '(key)' });
  }
  return foci;
}

/** The label without the specific values, so cases of one kind group together in reports. */
export const labelClass = (label: string) =>
  label
    .replace(/\.\d+(?=[.:])/g, '.*')
    .replace(/number literal \S+/g, 'number literal')
    .replace(/ (twice|hostile value)$/g, ' $1');

export { pathPattern, RawJson };

/**
 * The `n` cases of a route for a seed: the essential ones (every issue-14 class on every parameter,
 * field, header and query name, whatever the seed), then generated ones up to `n`.
 */
export function casesFor(route: RouteSpec, seed: number, n: number): HttpCase[] {
  const essentials = essentialFoci(route).map(
    (focus, k) => fc.sample(caseOf(route, focus), { seed: seed + k + 1, numRuns: 1 })[0] as HttpCase,
  );
  const generated = fc.sample(caseOf(route), { seed, numRuns: Math.max(0, n - essentials.length) });
  return [...essentials, ...generated].slice(0, Math.max(n, 1));
}

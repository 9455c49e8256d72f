/**
 * Hostile messages for every queue, topic and exchange the platform consumes, generated from the
 * message shapes its consumers parse: the event envelope (`storedEnvelopeSchema`) with the `data`
 * schema of each event type the queue subscribes to, the stock-check request, the warehouse's
 * shipment confirmation and the activity event on Kafka. Valid messages are made from the schemas,
 * then mutated (`mutate.ts`) or replaced whole (not JSON, truncated, not an object, a claim check
 * that resolves to nothing, a body near the size limit), and only the cases that are bad by the
 * consumer's own schemas (or hold ill-formed Unicode) are kept: every one of them owes a dead
 * letter with a reason.
 */
import fc from 'fast-check';
import type * as z from 'zod';
import { activityEventSchema } from '../../../lambdas/analytics/domain/activity.js';
import { shipmentConfirmationSchema } from '../../../lambdas/broker/domain/shipment-confirmation.js';
import { storedEnvelopeSchema } from '../../../lambdas/commons/event-store/stored-record.js';
import { customerEventDataSchemas } from '../../../lambdas/customers/domain/customer-schemas.js';
import { orderEventDataSchemas } from '../../../lambdas/orders/domain/order-schemas.js';
import { deeplyNested, exactly, PROTOTYPE_KEYS } from './hostile-values.js';
import { hasLoneSurrogate, type Json, toJsonText } from './json.js';
import { mutationsOf } from './mutate.js';
import { arbitraryOf, type JsonSchema, jsonSchemaOf } from './schema-arbitrary.js';

const DATA_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  ...orderEventDataSchemas,
  ...customerEventDataSchemas,
};

export interface MessageCase {
  readonly label: string;
  /** The body; `__DEADLINE__` stands for "a moment after it is sent" (stock-check requests). */
  readonly body: string;
  /** String message attributes (SQS) or headers (Kafka, AMQP). */
  readonly attributes: Readonly<Record<string, string>>;
}

const isoNear = fc
  .integer({ min: -86_400_000, max: 0 })
  .map((offset) => new Date(Date.UTC(2026, 10, 26, 12) + offset).toISOString());
const uuid = fc.uuid();

const parse = (text: string): { ok: true; value: unknown } | { ok: false } => {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
};

function envelopeSchema(type: string): JsonSchema {
  const base = jsonSchemaOf(storedEnvelopeSchema);
  return {
    ...base,
    properties: {
      ...base.properties,
      type: { type: 'string', const: type },
      schemaVersion: { type: 'integer', const: 1 },
      data: jsonSchemaOf(DATA_SCHEMAS[type] as z.ZodType),
    },
  };
}

const envelopeOptions = {
  byName: {
    eventId: uuid as fc.Arbitrary<Json>,
    correlationId: uuid as fc.Arbitrary<Json>,
    causationId: uuid as fc.Arbitrary<Json>,
    occurredAt: isoNear as fc.Arbitrary<Json>,
    confirmedAt: isoNear as fc.Arbitrary<Json>,
    aggregateType: fc.constantFrom('Order', 'Customer') as fc.Arbitrary<Json>,
    version: fc.integer({ min: 1, max: 12 }) as fc.Arbitrary<Json>,
  },
};

/** Why an envelope body is bad for a consumer of `types`, or undefined when it is a valid event. */
export function envelopeProblem(body: string, types: readonly string[]): string | undefined {
  const parsed = parse(body);
  if (!parsed.ok) return 'not JSON';
  const value = parsed.value as Record<string, unknown> | null;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not an object';
  if ('claimCheck' in value) return 'a claim check that resolves to nothing';
  // The envelope tolerates extra keys (later versions may add some): only what the consumer
  // reads must be well-formed.
  const read = Object.keys(storedEnvelopeSchema.shape).map((k) => (value as Record<string, unknown>)[k]);
  if (hasLoneSurrogate(read)) return 'ill-formed Unicode';
  const envelope = storedEnvelopeSchema.safeParse(value);
  if (!envelope.success) return 'not an envelope';
  if (!types.includes(envelope.data.type)) {
    // An event of the platform the queue's filter would not let through is ignored (with a log
    // line), not dead-lettered: the consumer may rightly skip what is not for it.
    return Object.hasOwn(DATA_SCHEMAS, envelope.data.type) ? undefined : 'a type unknown to the platform';
  }
  const data = DATA_SCHEMAS[envelope.data.type]?.safeParse(envelope.data.data);
  if (!data?.success) return 'data invalid for its type';
  if (envelope.data.schemaVersion !== 1) return 'a schema version the consumer does not know';
  return undefined;
}

const wholeBodies = (valid: string): fc.Arbitrary<{ body: string; what: string }> =>
  fc.oneof(
    fc
      .constantFrom(
        'not json',
        '{',
        '{"a":1,}',
        "{'a':1}",
        'NaN',
        '<xml/>',
        '\ufeff{}',
        '{"type":"OrderPlaced"',
      )
      .map((body) => ({ body, what: 'not JSON' })),
    fc
      .nat({ max: Math.max(1, valid.length - 1) })
      .map((n) => ({ body: valid.slice(0, n) || '{', what: 'truncated JSON' })),
    fc
      .constantFrom('[]', '"s"', '1', 'null', 'true', `[${valid}]`)
      .map((body) => ({ body, what: 'not an object' })),
    fc.constant({ body: toJsonText(deeplyNested(5000)), what: 'deeply nested' }),
    fc
      .constantFrom(
        {
          claimCheck: { bucket: 'no-such-bucket-hostile', key: 'events/x.json' },
          eventId: 'e',
          type: 'OrderPlaced',
          bytes: 1,
        },
        {
          claimCheck: { bucket: '__CLAIM_BUCKET__', key: 'events/no-such-key.json' },
          eventId: 'e',
          type: 'OrderPlaced',
          bytes: 1,
        },
        { claimCheck: { bucket: '', key: '' } },
        { claimCheck: { bucket: '\ud800', key: '../..' } },
      )
      .map((ref) => ({ body: JSON.stringify(ref), what: 'claim check that resolves to nothing' })),
    fc.constant({ body: JSON.stringify({ recordType: 'snapshot', aggregateId: 'x' }), what: 'a snapshot' }),
    // Near the 256 KiB limit: the dead-letter copy, with its reason attributes, must still fit.
    fc.constantFrom(200_000, 255_000, 262_000).map((n) => ({
      body: `${valid.slice(0, -1)},"pad":"${exactly(n - valid.length - 10)}"}`,
      what: `body of ${n} bytes`,
    })),
  );

/** Bad messages for a queue whose consumer handles `types` (and dead-letters the rest). */
export function envelopeCase(types: readonly string[]): fc.Arbitrary<MessageCase> {
  return fc
    .constantFrom(...types)
    .chain((type) => arbitraryOf(envelopeSchema(type), envelopeOptions).map((value) => ({ type, value })))
    .chain(({ type, value }) => {
      const schema = envelopeSchema(type);
      const valid = toJsonText(value);
      const eventType = { eventType: type };
      return fc.oneof(
        {
          weight: 6,
          arbitrary: mutationsOf(value, schema).map((m) => ({
            label: `${type} ${m.label}`,
            body: toJsonText(m.value),
            attributes: eventType,
          })),
        },
        {
          weight: 3,
          arbitrary: wholeBodies(valid).map((w) => ({ label: w.what, body: w.body, attributes: eventType })),
        },
        {
          weight: 1,
          arbitrary: fc
            .constantFrom('ShipmentTeleported', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '')
            .map((other) => ({
              label: 'a type unknown to the platform',
              body: valid.replace(`"type":"${type}"`, `"type":${JSON.stringify(other)}`),
              attributes: { eventType: other || 'x' },
            })),
        },
      );
    })
    .map((c) => ({ ...c, attributes: hostileAttributes(c.attributes, c.label.length) }))
    .filter((c) => envelopeProblem(c.body.replace('__CLAIM_BUCKET__', 'x'), types) !== undefined);
}

/**
 * Sometimes a prototype-named attribute beside the real ones. Attribute values stay SQS text: SQS
 * refuses a lone surrogate in an attribute, so no consumer meets one (and moto, which stores it,
 * then fails every receive of the queue).
 */
function hostileAttributes(base: Readonly<Record<string, string>>, n: number): Record<string, string> {
  const out: Record<string, string> = { ...base };
  if (n % 5 === 0) {
    Object.defineProperty(out, PROTOTYPE_KEYS[n % PROTOTYPE_KEYS.length] as string, {
      value: 'x',
      enumerable: true,
    });
  }
  if (n % 7 === 0) out.correlationId = `c-${exactly(n % 300, 'c')}\u200b`;
  return out;
}

// ---- Stock-check requests (request-reply) ---------------------------------------------------------

const STOCK_CHECK_REQUEST: JsonSchema = {
  type: 'object',
  properties: { orderId: { type: 'string', minLength: 1, maxLength: 128 }, deadline: { type: 'integer' } },
  required: ['orderId', 'deadline'],
  additionalProperties: false,
};

/**
 * `__REPLY__` stands for the service's reply queue, `__ENDPOINT__` for the SQS endpoint; the
 * deadline of a request that is bad only by its reply queue is "just after sending", so that the
 * responder tries to answer (a request nobody waits for any more is rightly dropped).
 */
export function stockCheckCase(): fc.Arbitrary<MessageCase> {
  const request = arbitraryOf(STOCK_CHECK_REQUEST, { byName: { deadline: fc.constant(0) } });
  const goodAttributes = { correlationId: 'c-1', replyTo: '__REPLY__' };
  return request
    .chain((value) => {
      const soon = toJsonText(value).replace(/"deadline":-?\d+/, '"deadline":__DEADLINE__');
      return fc.oneof(
        {
          weight: 5,
          arbitrary: mutationsOf(value, STOCK_CHECK_REQUEST).map((m) => ({
            label: `request ${m.label}`,
            body: toJsonText(m.value),
            attributes: goodAttributes,
          })),
        },
        {
          weight: 2,
          arbitrary: wholeBodies(soon).map((w) => ({
            label: w.what,
            body: w.body,
            attributes: goodAttributes,
          })),
        },
        {
          weight: 3,
          arbitrary: fc
            .constantFrom<[string, Record<string, string>]>(
              ['no correlationId', { replyTo: '__REPLY__' }],
              ['no replyTo', { correlationId: 'c-1' }],
              ['empty replyTo', { correlationId: 'c-1', replyTo: '' }],
              ['replyTo not a URL', { correlationId: 'c-1', replyTo: 'not a url' }],
              [
                'replyTo of another host',
                { correlationId: 'c-1', replyTo: 'http://evil.example/123456789012/q' },
              ],
              [
                'replyTo to no queue',
                { correlationId: 'c-1', replyTo: '__ENDPOINT__/123456789012/no-such-queue-hostile' },
              ],
              ['replyTo __proto__', { correlationId: 'c-1', replyTo: '__proto__' }],
              [
                'correlationId of 2,000 characters',
                { correlationId: exactly(2000, 'c'), replyTo: '__REPLY__' },
              ],
              ['replyTo with a non-ASCII character', { correlationId: 'c-1', replyTo: '__REPLY__\u00e9' }],
            )
            .map(([what, attributes]) => ({ label: what, body: soon, attributes })),
        },
      );
    })
    .filter((c) => stockCheckProblem(c) !== undefined);
}

export function stockCheckProblem(c: MessageCase): string | undefined {
  const parsed = parse(c.body.replace('__DEADLINE__', String(Date.now() + 60_000)));
  if (!parsed.ok) return 'not JSON';
  const value = parsed.value as Record<string, unknown> | null;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not an object';
  const keys = Object.keys(value);
  if (keys.length !== 2 || !keys.includes('orderId') || !keys.includes('deadline')) return 'not a request';
  if (typeof value.orderId !== 'string' || value.orderId === '' || value.orderId.length > 128)
    return 'bad orderId';
  if (!Number.isInteger(value.deadline)) return 'bad deadline';
  if (hasLoneSurrogate(value) || hasLoneSurrogate(c.attributes)) return 'ill-formed Unicode';
  if (!c.attributes.correlationId) return 'no correlationId';
  if (c.attributes.replyTo !== '__REPLY__') return 'replyTo is not the reply queue';
  return undefined;
}

// ---- Shipment confirmations (RabbitMQ) -------------------------------------------------------------

export interface AmqpCase {
  readonly label: string;
  readonly body: Buffer;
  readonly headers: Readonly<Record<string, unknown>>;
  readonly correlationId?: string;
  readonly contentType?: string;
}

export function confirmationProblem(c: AmqpCase): string | undefined {
  const parsed = parse(c.body.toString('utf8'));
  if (!parsed.ok) return 'not JSON';
  if (hasLoneSurrogate(parsed.value)) return 'ill-formed Unicode';
  return shipmentConfirmationSchema.safeParse(parsed.value).success ? undefined : 'not a confirmation';
}

export function confirmationCase(): fc.Arbitrary<AmqpCase> {
  const schema = jsonSchemaOf(shipmentConfirmationSchema);
  return arbitraryOf(schema, envelopeOptions)
    .chain((value) => {
      const valid = toJsonText(value);
      return fc.oneof(
        {
          weight: 6,
          arbitrary: mutationsOf(value, schema).map((m) => ({
            label: m.label,
            body: Buffer.from(toJsonText(m.value)),
          })),
        },
        {
          weight: 2,
          arbitrary: wholeBodies(valid).map((w) => ({ label: w.what, body: Buffer.from(w.body) })),
        },
        {
          weight: 1,
          arbitrary: fc
            .constantFrom(
              Buffer.from([0xff, 0xfe]),
              Buffer.from([0xed, 0xa0, 0x80]),
              Buffer.from([0xc0, 0xaf]),
            )
            .map((bad) => ({ label: 'invalid UTF-8', body: Buffer.concat([bad, Buffer.from(valid)]) })),
        },
        { weight: 1, arbitrary: fc.constant({ label: 'empty body', body: Buffer.alloc(0) }) },
      );
    })
    .chain((c) =>
      fc
        .record({
          headers: fc.oneof(
            { weight: 3, arbitrary: fc.constant({}) },
            {
              weight: 1,
              arbitrary: fc
                .tuple(
                  fc.constantFrom(...PROTOTYPE_KEYS, 'x-platform-reason', 'x-death', 'correlationId'),
                  fc.constantFrom<unknown>('x', 1, null, '\ud800', ['a']),
                )
                .map(
                  ([k, v]) =>
                    Object.defineProperty({}, k, { value: v, enumerable: true }) as Record<string, unknown>,
                ),
            },
          ),
          correlationId: fc.option(fc.constantFrom('c-1', '', exactly(255, 'c'), '__proto__', '\ud800'), {
            nil: undefined,
          }),
          contentType: fc.option(
            fc.constantFrom('application/json', 'text/plain', 'application/octet-stream', ''),
            { nil: undefined },
          ),
        })
        .map((extra) => ({ ...c, ...extra })),
    )
    .filter((c) => confirmationProblem(c as AmqpCase) !== undefined) as fc.Arbitrary<AmqpCase>;
}

// ---- Activity events (Kafka user_activity) -----------------------------------------------------------

export interface KafkaCase {
  readonly label: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, Buffer>>;
}

export function activityProblem(value: Buffer | null): string | undefined {
  if (value === null || value.length === 0) return 'no value';
  const parsed = parse(value.toString('utf8'));
  if (!parsed.ok) return 'not JSON';
  if (hasLoneSurrogate(parsed.value)) return 'ill-formed Unicode';
  return activityEventSchema.safeParse(parsed.value).success ? undefined : 'not an activity event';
}

export function activityCase(): fc.Arbitrary<KafkaCase> {
  const schema = jsonSchemaOf(activityEventSchema);
  return arbitraryOf(schema, { byName: { occurredAt: isoNear, receivedAt: isoNear } })
    .chain((value) => {
      const valid = toJsonText(value);
      return fc.oneof(
        {
          weight: 6,
          arbitrary: mutationsOf(value, schema).map((m) => ({
            label: m.label,
            value: Buffer.from(toJsonText(m.value)) as Buffer | null,
          })),
        },
        {
          weight: 2,
          arbitrary: wholeBodies(valid).map((w) => ({
            label: w.what,
            value: Buffer.from(w.body) as Buffer | null,
          })),
        },
        {
          weight: 1,
          arbitrary: fc
            .constantFrom<[string, Buffer | null]>(
              ['tombstone (no value)', null],
              ['empty value', Buffer.alloc(0)],
              ['invalid UTF-8', Buffer.from([0xff, 0xfe, 0xfd])],
              ['binary', Buffer.from([0, 1, 2, 3, 0x80])],
            )
            .map(([label, v]) => ({ label, value: v })),
        },
      );
    })
    .chain((c) =>
      fc
        .record({
          key: fc.constantFrom<Buffer | null>(
            null,
            Buffer.from('u-1'),
            Buffer.from([0xff]),
            Buffer.from('__proto__'),
          ),
          headers: fc.oneof(
            { weight: 3, arbitrary: fc.constant({}) },
            {
              weight: 1,
              arbitrary: fc
                .tuple(
                  fc.constantFrom(...PROTOTYPE_KEYS, 'correlationId', 'reason'),
                  fc.constantFrom(Buffer.from('x'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.alloc(0)),
                )
                .map(
                  ([k, v]) =>
                    Object.defineProperty({}, k, { value: v, enumerable: true }) as Record<string, Buffer>,
                ),
            },
          ),
        })
        .map((extra) => ({ ...c, ...extra })),
    )
    .filter((c) => activityProblem(c.value) !== undefined);
}

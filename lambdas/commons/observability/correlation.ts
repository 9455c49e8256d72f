/**
 * The correlation id, carried end to end: one id per request or conversation, from the HTTP API
 * (`X-Correlation-Id`, or one we make) onto every event in the event store, the SNS message
 * attributes and so SQS, Kafka record headers, RabbitMQ messages (the AMQP `correlationId`
 * property and a `correlationId` header), and back. Every hop names it `correlationId` (log key,
 * envelope field, SNS/SQS attribute, Kafka header, AMQP header); only HTTP uses the header name.
 *
 * `withCorrelation` puts it on every log line of one record's processing, and only of that record's:
 * the keys live in the record's asynchronous scope (`log-scope.ts`), not in the Logger's global
 * keys, so records processed concurrently never see each other's id.
 */
import { randomUUID } from 'node:crypto';
import { runWithLogKeys } from './log-scope.js';

/** The name of the id everywhere but HTTP: log key, SNS/SQS attribute, Kafka header, AMQP header. */
export const CORRELATION_ID = 'correlationId';
/** The HTTP header a client sends the id in, and gets it back in. */
export const CORRELATION_ID_HEADER = 'x-correlation-id';

const VALID = /^[A-Za-z0-9._:-]{1,128}$/;

/** 1 to 128 of letters, digits and `._:-`: safe in a header, an attribute, a log line. */
export const isCorrelationId = (value: unknown): value is string =>
  typeof value === 'string' && VALID.test(value);

/** The first candidate that is a valid correlation id, or a fresh UUID when none is. */
export function correlationIdOf(...candidates: readonly unknown[]): string {
  for (const candidate of candidates) if (isCorrelationId(candidate)) return candidate;
  return randomUUID();
}

type LogKeys = Readonly<Record<string, string | number | undefined>>;

/**
 * Runs `work` with `correlationId` (and `keys`) on every line it logs, inner scopes overriding
 * outer ones; nothing is left behind afterwards. An absent id or key adds nothing.
 */
export function withCorrelation<T>(
  correlationId: string | undefined,
  work: () => Promise<T>,
  keys: LogKeys = {},
): Promise<T> {
  const added: Record<string, string | number> = {};
  if (correlationId !== undefined) added[CORRELATION_ID] = correlationId;
  for (const [key, value] of Object.entries(keys)) if (value !== undefined) added[key] = value;
  return runWithLogKeys(added, work);
}

// --- SQS (and SNS message attributes, which raw delivery turns into SQS ones) ---------------------

interface SqsAttributeCarrier {
  readonly messageAttributes?: Readonly<Record<string, { readonly stringValue?: string } | undefined>>;
}

/** The `correlationId` message attribute of an SQS record (set by the outbox relay on SNS). */
export function correlationIdOfSqsRecord(record: SqsAttributeCarrier): string | undefined {
  const value = record.messageAttributes?.[CORRELATION_ID]?.stringValue;
  return isCorrelationId(value) ? value : undefined;
}

// --- Kafka ------------------------------------------------------------------------------------------

/** The headers of a produced Kafka record, with the correlation id as the `correlationId` header. */
export function kafkaHeadersWith(
  correlationId: string,
  headers: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return { ...headers, [CORRELATION_ID]: correlationId };
}

/**
 * A header of a record as Lambda's Kafka event source delivers it: a list of `{name: bytes}`
 * objects, bytes as numbers (signed or not). A plain string value is read as is.
 */
export function kafkaHeaderText(headers: unknown, name: string): string | undefined {
  if (!Array.isArray(headers)) return undefined;
  for (const entry of headers) {
    if (entry === null || typeof entry !== 'object' || !Object.hasOwn(entry, name)) continue;
    const value = (entry as Record<string, unknown>)[name];
    if (typeof value === 'string') return value;
    if (Array.isArray(value)) return Buffer.from(value.map((b) => Number(b) & 0xff)).toString('utf8');
  }
  return undefined;
}

/** The `correlationId` header of a Kafka record from Lambda's event, when present and valid. */
export function correlationIdOfKafkaRecord(record: { readonly headers?: unknown }): string | undefined {
  const value = kafkaHeaderText(record.headers, CORRELATION_ID);
  return isCorrelationId(value) ? value : undefined;
}

// --- RabbitMQ -----------------------------------------------------------------------------------------

interface RabbitMqPropertiesCarrier {
  readonly basicProperties: {
    readonly correlationId?: string | null;
    readonly headers?: Readonly<Record<string, unknown>> | null;
  };
}

/** A header value as Lambda's Amazon MQ event source delivers it: a value, or `{bytes}` for a string. */
function amqpHeaderText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && Array.isArray((value as { bytes?: unknown }).bytes)) {
    return Buffer.from((value as { bytes: number[] }).bytes.map((b) => Number(b) & 0xff)).toString('utf8');
  }
  return undefined;
}

/**
 * The correlation id of a RabbitMQ message from Lambda's event: the AMQP `correlationId`
 * property, else the `correlationId` header; undefined when neither is a valid id.
 */
export function correlationIdOfRabbitMqMessage(message: RabbitMqPropertiesCarrier): string | undefined {
  const { correlationId, headers } = message.basicProperties;
  if (isCorrelationId(correlationId)) return correlationId;
  const header = amqpHeaderText(headers?.[CORRELATION_ID]);
  return isCorrelationId(header) ? header : undefined;
}

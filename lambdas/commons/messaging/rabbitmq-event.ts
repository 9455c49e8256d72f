/**
 * The event Lambda delivers from an Amazon MQ for RabbitMQ event source, as zod schemas
 * (Powertools' parser has none for it): messages grouped by `<queue>::<vhost>`, each with its
 * basic properties and its body in base64. Header values arrive either as plain values or, for
 * strings, as `{bytes: number[]}`; `headerText` reads both.
 *
 * The event is read in two steps, so that one bad message never fails its batch: the event's own
 * shape (`rabbitMqEventEnvelopeSchema`, messages left unparsed), then each message on its own
 * (`readRabbitMqMessage`), which says why a message cannot be read (properties missing or of the
 * wrong type, `data` not base64, a body that is not UTF-8) and keeps its raw bytes for the dead
 * letter. Pure.
 */
import * as z from 'zod';
import { formatIssues } from '../domain/validation-issues.js';

export const rabbitMqBasicPropertiesSchema = z.object({
  contentType: z.string().nullish(),
  contentEncoding: z.string().nullish(),
  headers: z.record(z.string(), z.unknown()).nullish(),
  deliveryMode: z.number().int().nullish(),
  priority: z.number().int().nullish(),
  correlationId: z.string().nullish(),
  replyTo: z.string().nullish(),
  expiration: z.string().nullish(),
  messageId: z.string().nullish(),
  timestamp: z.union([z.string(), z.number()]).nullish(),
  type: z.string().nullish(),
  userId: z.string().nullish(),
  appId: z.string().nullish(),
  clusterId: z.string().nullish(),
  bodySize: z.number().int().nonnegative().nullish(),
});

export const rabbitMqMessageSchema = z.object({
  basicProperties: rabbitMqBasicPropertiesSchema,
  redelivered: z.boolean(),
  /** The body, base64-encoded. */
  data: z.string(),
});

/** The event with its messages unread: what must hold for the batch to be handled at all. */
export const rabbitMqEventEnvelopeSchema = z.object({
  eventSource: z.literal('aws:rmq'),
  eventSourceArn: z.string().startsWith('arn:'),
  rmqMessagesByQueue: z.record(z.string(), z.array(z.unknown())),
});

/** The whole event, every message parsed (one bad message fails it: prefer the two steps above). */
export const rabbitMqEventSchema = z.object({
  eventSource: z.literal('aws:rmq'),
  eventSourceArn: z.string().startsWith('arn:'),
  rmqMessagesByQueue: z.record(
    z.string().regex(/^.+::.+$/, 'keys are <queue>::<vhost>'),
    z.array(rabbitMqMessageSchema),
  ),
});

export type RabbitMqEvent = z.infer<typeof rabbitMqEventSchema>;
export type RabbitMqEventEnvelope = z.infer<typeof rabbitMqEventEnvelopeSchema>;
export type RabbitMqMessage = z.infer<typeof rabbitMqMessageSchema>;

/** What is known of any message, readable or not: enough to dead-letter it. */
interface MessageBasics {
  /** The body's bytes (of `data` decoded, or `data` itself when it is not base64). */
  readonly body: Buffer;
  /** `basicProperties.messageId` when it is a string. */
  readonly messageId: string | undefined;
}

export type ReadRabbitMqMessage =
  | (MessageBasics & { readonly ok: true; readonly message: RabbitMqMessage; readonly text: string })
  | (MessageBasics & { readonly ok: false; readonly reason: string; readonly raw: unknown });

/** Canonical base64 (what Lambda sends): `Buffer.from(…, 'base64')` would silently skip anything else. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** One message of the event, read on its own; never throws. */
export function readRabbitMqMessage(raw: unknown): ReadRabbitMqMessage {
  const fields = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const data = fields.data;
  const properties = fields.basicProperties;
  const messageIdValue =
    properties !== null && typeof properties === 'object'
      ? (properties as Record<string, unknown>).messageId
      : undefined;
  const messageId = typeof messageIdValue === 'string' ? messageIdValue : undefined;
  const isBase64 = typeof data === 'string' && BASE64.test(data);
  const body = typeof data === 'string' ? Buffer.from(data, isBase64 ? 'base64' : 'utf8') : Buffer.alloc(0);
  const fail = (reason: string): ReadRabbitMqMessage => ({ ok: false, reason, raw, body, messageId });

  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    return fail('the message is not an object');
  const parsed = rabbitMqMessageSchema.safeParse(raw);
  if (!parsed.success) return fail(`not a RabbitMQ message: ${formatIssues(parsed.error)}`);
  if (!isBase64) return fail('data is not base64');
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return fail('the body is not UTF-8 text');
  }
  return { ok: true, message: parsed.data, text, body, messageId };
}

/** The body of a message as UTF-8 text (invalid sequences replaced). */
export const bodyText = (message: RabbitMqMessage): string =>
  Buffer.from(message.data, 'base64').toString('utf8');

/** A header as text, whether Lambda sent it as a value or as `{bytes}`. */
export function headerText(message: RabbitMqMessage, name: string): string | undefined {
  const value = message.basicProperties.headers?.[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'object' && Array.isArray((value as { bytes?: unknown }).bytes)) {
    return Buffer.from((value as { bytes: unknown[] }).bytes.map((b) => Number(b) & 0xff)).toString('utf8');
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A header as a number (e.g. `x-delivery-count`), whether a number, a numeric string or `{bytes}`. */
export function headerNumber(message: RabbitMqMessage, name: string): number | undefined {
  const value = message.basicProperties.headers?.[name];
  const n = typeof value === 'number' ? value : Number(headerText(message, name));
  return Number.isFinite(n) ? n : undefined;
}

/** `<queue>::<vhost>` → its parts (a key without `::` is all queue, vhost `/`). */
export function queueOf(key: string): { queue: string; vhost: string } {
  const at = key.lastIndexOf('::');
  if (at < 0) return { queue: key, vhost: '/' };
  return { queue: key.slice(0, at), vhost: key.slice(at + 2) };
}

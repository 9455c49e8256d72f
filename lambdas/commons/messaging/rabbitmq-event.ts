/**
 * The event Lambda delivers from an Amazon MQ for RabbitMQ event source, as a zod schema
 * (Powertools' parser has none for it): messages grouped by `<queue>::<vhost>`, each with its
 * basic properties and its body in base64. Header values arrive either as plain values or, for
 * strings, as `{bytes: number[]}`; `headerText` reads both.
 */
import * as z from 'zod';

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

export const rabbitMqEventSchema = z.object({
  eventSource: z.literal('aws:rmq'),
  eventSourceArn: z.string().startsWith('arn:'),
  rmqMessagesByQueue: z.record(
    z.string().regex(/^.+::.+$/, 'keys are <queue>::<vhost>'),
    z.array(rabbitMqMessageSchema),
  ),
});

export type RabbitMqEvent = z.infer<typeof rabbitMqEventSchema>;
export type RabbitMqMessage = z.infer<typeof rabbitMqMessageSchema>;

/** The body of a message as UTF-8 text. */
export const bodyText = (message: RabbitMqMessage): string =>
  Buffer.from(message.data, 'base64').toString('utf8');

/** A header as text, whether Lambda sent it as a value or as `{bytes}`. */
export function headerText(message: RabbitMqMessage, name: string): string | undefined {
  const value = message.basicProperties.headers?.[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'object' && Array.isArray((value as { bytes?: unknown }).bytes)) {
    return Buffer.from((value as { bytes: number[] }).bytes).toString('utf8');
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** `<queue>::<vhost>` → its parts. */
export function queueOf(key: string): { queue: string; vhost: string } {
  const at = key.lastIndexOf('::');
  return { queue: key.slice(0, at), vhost: key.slice(at + 2) };
}

/**
 * One RabbitMQ connection and confirm channel per container, as the application user whose
 * credentials are in Secrets Manager. Read from the environment (set by `RabbitMqBroker.grantConnect`):
 *
 * - `RABBITMQ_ENDPOINT`: `amqps://<host>:5671` (Amazon MQ) or `amqp://<host>:<port>` (local).
 * - `RABBITMQ_VHOST`: the virtual host.
 * - `RABBITMQ_SECRET_ARN`: `{username, password}`.
 *
 * The channel is a confirm channel with a prefetch, so publishes are confirmed by the broker and
 * consumers never hold more than `prefetch` unacknowledged messages.
 */

import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { readCredentials } from '../clients/secrets-manager.js';
import { requiredEnv } from '../env.js';
import { isWellFormed, toWellFormed } from '../messaging/well-formed.js';
import { CORRELATION_ID } from '../observability/correlation.js';

export interface RabbitMqEndpoint {
  readonly endpoint: string;
  readonly vhost: string;
  readonly secretArn: string;
}

export function rabbitMqEndpointFromEnv(env: NodeJS.ProcessEnv = process.env): RabbitMqEndpoint {
  return {
    endpoint: env.RABBITMQ_ENDPOINT ?? requiredEnv('RABBITMQ_ENDPOINT'),
    vhost: env.RABBITMQ_VHOST ?? '/',
    secretArn: env.RABBITMQ_SECRET_ARN ?? requiredEnv('RABBITMQ_SECRET_ARN'),
  };
}

/** The AMQP URL of an endpoint with credentials and vhost (`amqps` keeps TLS). */
export function amqpUrl(endpoint: string, vhost: string, username: string, password: string): string {
  const url = new URL(endpoint);
  url.username = encodeURIComponent(username);
  url.password = encodeURIComponent(password);
  url.pathname = `/${encodeURIComponent(vhost)}`;
  return url.toString();
}

export interface RabbitMqSession {
  readonly connection: ChannelModel;
  readonly channel: ConfirmChannel;
}

export async function connectRabbitMq(endpoint: RabbitMqEndpoint, prefetch = 10): Promise<RabbitMqSession> {
  const { username, password } = await readCredentials(endpoint.secretArn);
  const url = new URL(amqpUrl(endpoint.endpoint, endpoint.vhost, username, password));
  url.searchParams.set('heartbeat', '30');
  const connection = await amqp.connect(url.toString());
  const channel = await connection.createConfirmChannel();
  await channel.prefetch(prefetch);
  return { connection, channel };
}

let shared: Promise<RabbitMqSession> | undefined;

/** The container's session, opened on first use and reopened after the connection drops. */
export function rabbitMqFromEnv(): Promise<RabbitMqSession> {
  shared ??= connectRabbitMq(rabbitMqEndpointFromEnv()).then(
    (session) => {
      const reset = () => {
        shared = undefined;
      };
      session.connection.on('close', reset);
      session.connection.on('error', reset);
      return session;
    },
    (error: unknown) => {
      shared = undefined;
      throw error;
    },
  );
  return shared;
}

export interface OutgoingAmqpMessage {
  readonly routingKey: string;
  /** Text (sent as UTF-8) or bytes as they are (a dead letter keeps a body that is not text). */
  readonly body: string | Buffer;
  readonly messageId?: string;
  /** The end-to-end correlation id: the AMQP `correlationId` property and a `correlationId` header. */
  readonly correlationId?: string;
  readonly headers?: Record<string, string>;
  /** @default 'application/json' */
  readonly contentType?: string;
}

/** AMQP short strings (messageId, correlationId) hold at most 255 bytes: a longer one is left out. */
const shortString = (value: string | undefined): string | undefined =>
  value && isWellFormed(value) && Buffer.byteLength(value, 'utf8') <= 255 ? value : undefined;

/**
 * The AMQP properties a message is published with (persistent JSON). Properties that AMQP could
 * not carry faithfully are left out (a short string over 255 bytes would fail the publish), and
 * header values are well-formed text.
 */
export function publishOptionsOf(m: OutgoingAmqpMessage): amqp.Options.Publish {
  const messageId = shortString(m.messageId);
  const correlationId = shortString(m.correlationId);
  // Own properties only (`fromEntries`), whatever the names.
  const headers: Record<string, string> = Object.fromEntries([
    ...(correlationId ? [[CORRELATION_ID, correlationId]] : []),
    ...Object.entries(m.headers ?? {}).map(([name, value]) => [toWellFormed(name), toWellFormed(value)]),
  ]);
  return {
    persistent: true,
    contentType: shortString(m.contentType) ?? 'application/json',
    ...(messageId ? { messageId } : {}),
    ...(correlationId ? { correlationId } : {}),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
  };
}

/**
 * Publishes persistent messages and resolves once the broker confirmed all of them (one wait
 * for the batch, not one per message); rejects if the broker refused any.
 */
export async function publishConfirmed(
  channel: ConfirmChannel,
  exchange: string,
  messages: readonly OutgoingAmqpMessage[],
): Promise<void> {
  for (const m of messages) {
    const body = typeof m.body === 'string' ? Buffer.from(m.body, 'utf8') : m.body;
    channel.publish(exchange, m.routingKey, body, publishOptionsOf(m));
  }
  await channel.waitForConfirms();
}

/**
 * Live analytics updates (e.g. window results) broadcast over Redis PUB/SUB. Best effort, by
 * design: PUB/SUB keeps nothing. A subscriber receives only what is published while it is
 * connected and subscribed; one that connects later, or reconnects after a network blip, misses
 * what was published meanwhile, and nothing is retried or acknowledged. Use it for dashboards and
 * listeners that can catch up from the source of truth (GET /analytics/users/{userId}), never for
 * work that must happen. On one connection, messages arrive in publish order.
 *
 * Messages are JSON `{type, timestamp, data}`; `timestamp` is ISO-8601 (publish time unless given).
 * A subscriber needs a connection of its own (a subscribed ioredis connection accepts only
 * subscription commands), so `subscribeUpdates` opens one: from a URL, or a duplicate of the client
 * it is given, which stays usable for other commands.
 */
import { Redis } from 'ioredis';

export interface LiveUpdate<D = unknown> {
  readonly type: string;
  /** ISO-8601. */
  readonly timestamp: string;
  readonly data: D;
}

export interface UpdateToPublish<D = unknown> {
  readonly type: string;
  readonly data: D;
  /** @default now */
  readonly timestamp?: Date | string;
}

/** Publishes one update; returns how many subscribers (connections) received it. */
export async function publishUpdate<D>(
  redis: Redis,
  channel: string,
  update: UpdateToPublish<D>,
): Promise<number> {
  const timestamp =
    update.timestamp === undefined
      ? new Date().toISOString()
      : typeof update.timestamp === 'string'
        ? update.timestamp
        : update.timestamp.toISOString();
  const message: LiveUpdate<D> = { type: update.type, timestamp, data: update.data };
  return redis.publish(channel, JSON.stringify(message));
}

export type Unsubscribe = () => Promise<void>;

/**
 * Calls `onUpdate` for every update published on `channel` from the moment the returned promise
 * resolves (the subscription is confirmed by then) until the unsubscribe it resolves to is called.
 * Messages that are not updates are passed to `onError` (default: ignored).
 */
export async function subscribeUpdates<D = unknown>(
  redisUrlOrClient: string | Redis,
  channel: string,
  onUpdate: (update: LiveUpdate<D>) => void,
  options: { onError?: (error: Error) => void } = {},
): Promise<Unsubscribe> {
  const subscriber =
    typeof redisUrlOrClient === 'string' ? new Redis(redisUrlOrClient) : redisUrlOrClient.duplicate();
  subscriber.on('error', (error: Error) => options.onError?.(error));
  subscriber.on('message', (from: string, raw: string) => {
    if (from !== channel) return;
    let update: LiveUpdate<D>;
    try {
      update = JSON.parse(raw) as LiveUpdate<D>;
    } catch {
      options.onError?.(new Error(`channel ${channel}: message is not JSON`));
      return;
    }
    if (typeof update?.type !== 'string' || typeof update.timestamp !== 'string') {
      options.onError?.(new Error(`channel ${channel}: message is not an update`));
      return;
    }
    onUpdate(update);
  });
  try {
    await subscriber.subscribe(channel);
  } catch (error) {
    subscriber.disconnect();
    throw error;
  }
  let closed: Promise<void> | undefined;
  return () => {
    closed ??= (async () => {
      subscriber.removeAllListeners('message');
      await subscriber.quit().catch(() => subscriber.disconnect());
    })();
    return closed;
  };
}

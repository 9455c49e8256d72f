/**
 * One Redis connection per container, to ElastiCache over TLS as the application user whose
 * password is in Secrets Manager. Read from the environment:
 *
 * - `REDIS_HOST`, `REDIS_PORT`: the endpoint.
 * - `REDIS_AUTH_SECRET_ARN`: a secret `{username, password}`.
 *
 * An endpoint on this machine (the local runtime's Redis; ElastiCache never is) is reached in
 * plain text without credentials.
 */

import { Redis } from 'ioredis';
import { readCredentials } from '../clients/secrets-manager.js';
import { requiredEnv } from '../env.js';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1)$/;

export interface RedisEndpoint {
  readonly host: string;
  readonly port: number;
  readonly secretArn?: string;
}

export const isLocalEndpoint = (host: string): boolean => LOOPBACK.test(host);

export function redisEndpointFromEnv(env: NodeJS.ProcessEnv = process.env): RedisEndpoint {
  return {
    host: env.REDIS_HOST ?? requiredEnv('REDIS_HOST'),
    port: Number(env.REDIS_PORT ?? 6379),
    ...(env.REDIS_AUTH_SECRET_ARN ? { secretArn: env.REDIS_AUTH_SECRET_ARN } : {}),
  };
}

export async function connectRedis(endpoint: RedisEndpoint): Promise<Redis> {
  const local = isLocalEndpoint(endpoint.host);
  const auth =
    !local && endpoint.secretArn
      ? await readCredentials(endpoint.secretArn, { defaultUsername: 'default' })
      : undefined;
  const redis = new Redis({
    host: endpoint.host,
    port: endpoint.port,
    ...(local ? {} : { tls: { servername: endpoint.host } }),
    ...(auth ?? {}),
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    enableAutoPipelining: true,
  });
  await redis.connect();
  return redis;
}

let shared: Promise<Redis> | undefined;

/** The container's connection, opened on first use (a failed open is retried on the next call). */
export function redisFromEnv(): Promise<Redis> {
  shared ??= connectRedis(redisEndpointFromEnv()).catch((error: unknown) => {
    shared = undefined;
    throw error;
  });
  return shared;
}

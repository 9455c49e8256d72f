/**
 * How a function reaches Kafka: MSK with IAM authentication (SASL/OAUTHBEARER over TLS, the token
 * signed with the function's own credentials by aws-msk-iam-sasl-signer-js), or a plain broker
 * (the local runtime's Kafka). Read once per container from the environment:
 *
 * - `KAFKA_BOOTSTRAP_BROKERS`: comma-separated `host:port` list.
 * - `KAFKA_AUTH`: `iam` or `none`. @default - from the brokers' port: MSK serves IAM clients on
 *   9098 (9198 public), so those get IAM; any other port (a local broker's 9092) gets none.
 */
import type { BaseOptions } from '@platformatic/kafka';
import { generateAuthToken } from 'aws-msk-iam-sasl-signer-js';

export interface KafkaConnection {
  readonly bootstrapBrokers: readonly string[];
  readonly auth: 'iam' | 'none';
  readonly region: string;
}

const MSK_IAM_PORTS = new Set(['9098', '9198']);

/** A connection to these brokers (`host:port,...`), with the auth their port implies unless `auth` is given. */
export function connectionFor(
  bootstrapBrokers: string,
  options: { auth?: string; region?: string } = {},
): KafkaConnection {
  const brokers = bootstrapBrokers
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (brokers.length === 0) throw new Error('no bootstrap broker given');
  const auth =
    options.auth ??
    (brokers.some((b) => MSK_IAM_PORTS.has(b.slice(b.lastIndexOf(':') + 1))) ? 'iam' : 'none');
  if (auth !== 'iam' && auth !== 'none') throw new Error(`KAFKA_AUTH must be iam or none, got ${auth}`);
  return { bootstrapBrokers: brokers, auth, region: options.region ?? process.env.AWS_REGION ?? 'us-east-1' };
}

export function kafkaConnectionFromEnv(env: NodeJS.ProcessEnv = process.env): KafkaConnection {
  const brokers = env.KAFKA_BOOTSTRAP_BROKERS;
  if (!brokers) throw new Error('KAFKA_BOOTSTRAP_BROKERS is not set');
  return connectionFor(brokers, { auth: env.KAFKA_AUTH, region: env.AWS_REGION ?? 'us-east-1' });
}

/** Client options for a connection: brokers, and TLS with an IAM token for MSK. */
export function clientOptions(connection: KafkaConnection, clientId: string): BaseOptions {
  const base: BaseOptions = { clientId, bootstrapBrokers: [...connection.bootstrapBrokers] };
  if (connection.auth === 'none') return base;
  return {
    ...base,
    tls: {},
    sasl: {
      mechanism: 'OAUTHBEARER',
      // Called on every (re)authentication: tokens live 15 minutes, connections may outlive them.
      token: async () => (await generateAuthToken({ region: connection.region })).token,
    },
  };
}

import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  clientOptions,
  connectionFor,
  type KafkaConnection,
  kafkaConnectionFromEnv,
} from '../../../lambdas/commons/kafka/connection.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('connectionFor', () => {
  it.each([
    ['b-1.msk.example.com:9098', 'iam'],
    ['b-1.msk.example.com:9198', 'iam'],
    ['b-1.msk.example.com:9098,b-2.msk.example.com:9098', 'iam'],
    ['localhost:9092', 'none'],
    ['localhost:9094', 'none'],
    ['kafka:29092', 'none'],
    ['localhost:19098', 'none'],
  ] as const)('infers the auth of %s from its port: %s', (brokers, auth) => {
    expect(connectionFor(brokers, { region: 'eu-west-1' }).auth).toBe(auth);
  });

  it('lets an explicit auth override the port', () => {
    // GIVEN an MSK IAM port, and a plain broker
    // WHEN the auth is given explicitly
    // THEN it wins over the inference
    expect(connectionFor('b-1.msk.example.com:9098', { auth: 'none' }).auth).toBe('none');
    expect(connectionFor('localhost:9092', { auth: 'iam' }).auth).toBe('iam');
  });

  it.each(['IAM', 'scram', 'tls', ''])('refuses the auth %j', (auth) => {
    expect(() => connectionFor('localhost:9092', { auth })).toThrow(
      `KAFKA_AUTH must be iam or none, got ${auth}`,
    );
  });

  it('trims the brokers and drops blank entries', () => {
    const connection = connectionFor(' b-1:9098 , ,b-2:9098,, ', { region: 'eu-west-1' });
    expect(connection).toEqual({
      bootstrapBrokers: ['b-1:9098', 'b-2:9098'],
      auth: 'iam',
      region: 'eu-west-1',
    });
  });

  it.each(['', ' ', ',', ' , ,'])('refuses a broker list without a broker (%j)', (brokers) => {
    expect(() => connectionFor(brokers)).toThrow('no bootstrap broker given');
  });

  it('takes the region from AWS_REGION, else us-east-1', () => {
    vi.stubEnv('AWS_REGION', 'ap-southeast-2');
    expect(connectionFor('localhost:9092').region).toBe('ap-southeast-2');
    vi.stubEnv('AWS_REGION', undefined);
    expect(connectionFor('localhost:9092').region).toBe('us-east-1');
    expect(connectionFor('localhost:9092', { region: 'eu-central-1' }).region).toBe('eu-central-1');
  });
});

describe('kafkaConnectionFromEnv', () => {
  it('reads the brokers, auth and region from the environment given', () => {
    const connection = kafkaConnectionFromEnv({
      KAFKA_BOOTSTRAP_BROKERS: 'localhost:9092',
      KAFKA_AUTH: 'iam',
      AWS_REGION: 'eu-west-3',
    });
    expect(connection).toEqual({ bootstrapBrokers: ['localhost:9092'], auth: 'iam', region: 'eu-west-3' });
  });

  it('infers the auth when KAFKA_AUTH is not set', () => {
    expect(
      kafkaConnectionFromEnv({ KAFKA_BOOTSTRAP_BROKERS: 'b-1:9198', AWS_REGION: 'eu-west-1' }).auth,
    ).toBe('iam');
    expect(
      kafkaConnectionFromEnv({ KAFKA_BOOTSTRAP_BROKERS: 'localhost:9092', AWS_REGION: 'eu-west-1' }).auth,
    ).toBe('none');
  });

  it('refuses an invalid KAFKA_AUTH', () => {
    expect(() =>
      kafkaConnectionFromEnv({ KAFKA_BOOTSTRAP_BROKERS: 'localhost:9092', KAFKA_AUTH: 'sasl' }),
    ).toThrow('KAFKA_AUTH must be iam or none, got sasl');
  });

  it('reads process.env by default', () => {
    vi.stubEnv('KAFKA_BOOTSTRAP_BROKERS', 'b-1:9098,b-2:9098');
    vi.stubEnv('KAFKA_AUTH', undefined);
    vi.stubEnv('AWS_REGION', 'us-west-2');
    expect(kafkaConnectionFromEnv()).toEqual({
      bootstrapBrokers: ['b-1:9098', 'b-2:9098'],
      auth: 'iam',
      region: 'us-west-2',
    });
  });

  it('fails when no broker is configured', () => {
    vi.stubEnv('KAFKA_BOOTSTRAP_BROKERS', undefined);
    expect(() => kafkaConnectionFromEnv({})).toThrow('KAFKA_BOOTSTRAP_BROKERS');
    expect(() => kafkaConnectionFromEnv({ KAFKA_BOOTSTRAP_BROKERS: ' , ' })).toThrow(
      'no bootstrap broker given',
    );
  });
});

describe('clientOptions', () => {
  const iam: KafkaConnection = {
    bootstrapBrokers: ['b-1:9098', 'b-2:9098'],
    auth: 'iam',
    region: 'eu-west-1',
  };
  const none: KafkaConnection = { bootstrapBrokers: ['localhost:9092'], auth: 'none', region: 'eu-west-1' };

  it('connects to MSK with IAM over TLS with an OAUTHBEARER token provider', () => {
    // GIVEN an IAM connection
    // WHEN its client options are made
    const options = clientOptions(iam, 'analytics-windowing');
    // THEN they carry the brokers, TLS, and SASL/OAUTHBEARER with a token function (not called: it signs
    // with AWS credentials)
    expect(options.clientId).toBe('analytics-windowing');
    expect(options.bootstrapBrokers).toEqual(['b-1:9098', 'b-2:9098']);
    expect(options.tls).toBeDefined();
    expect(options.sasl?.mechanism).toBe('OAUTHBEARER');
    expect(typeof (options.sasl as { token?: unknown } | undefined)?.token).toBe('function');
  });

  it('connects to a plain broker without TLS or SASL', () => {
    const options = clientOptions(none, 'local');
    expect(options).toEqual({ clientId: 'local', bootstrapBrokers: ['localhost:9092'] });
    expect(options).not.toHaveProperty('tls');
    expect(options).not.toHaveProperty('sasl');
  });

  it('does not share the broker array with the connection', () => {
    const options = clientOptions(none, 'local');
    expect(options.bootstrapBrokers).not.toBe(none.bootstrapBrokers);
  });
});

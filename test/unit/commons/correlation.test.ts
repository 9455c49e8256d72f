import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.POWERTOOLS_SERVICE_NAME = 'unit-service';
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'UnitNamespace';
});

import type { SQSClient } from '@aws-sdk/client-sqs';
import type { ConfirmChannel } from 'amqplib';
import { rabbitMqMessageSchema } from '../../../lambdas/commons/messaging/rabbitmq-event.js';
import {
  CORRELATION_ATTRIBUTE,
  ORIGIN_CORRELATION_ATTRIBUTE,
  sendReply,
  sendRequest,
} from '../../../lambdas/commons/messaging/request-reply.js';
import {
  correlationIdOf,
  correlationIdOfKafkaRecord,
  correlationIdOfRabbitMqMessage,
  correlationIdOfSqsRecord,
  isCorrelationId,
  kafkaHeadersWith,
  withCorrelation,
} from '../../../lambdas/commons/observability/correlation.js';
import { logger } from '../../../lambdas/commons/powertools.js';
import { publishConfirmed, publishOptionsOf } from '../../../lambdas/commons/rabbitmq/connection.js';
import { type Captured, captureStdout } from './stdout-capture.js';

/** A Kafka record's headers as Lambda's event source delivers them: `[{name: bytes}]`. */
const asLambdaKafkaHeaders = (headers: Record<string, string>) =>
  Object.entries(headers).map(([k, v]) => ({ [k]: [...Buffer.from(v)] }));

describe('correlation ids', () => {
  it('takes the first valid candidate, else makes a UUID', () => {
    expect(correlationIdOf('client-id-1', 'request-id')).toBe('client-id-1');
    expect(correlationIdOf('bad id with spaces', 'request-id')).toBe('request-id');
    expect(correlationIdOf(undefined, '', 'x'.repeat(129))).toMatch(/^[0-9a-f-]{36}$/);
    expect(isCorrelationId('a:b.c_d-e')).toBe(true);
    expect(isCorrelationId(42)).toBe(false);
  });
});

describe('withCorrelation', () => {
  let out: Captured;
  beforeEach(() => {
    out = captureStdout();
  });
  afterEach(() => out.restore());

  it('puts the id on every line of the record, and only of that record, even when records run concurrently', async () => {
    const record = (id: string, delays: number[]) =>
      withCorrelation(id, async () => {
        for (const [step, delay] of delays.entries()) {
          await new Promise((r) => setTimeout(r, delay));
          logger.info('step', { record: id, step });
        }
      });
    await Promise.all([record('corr-a', [5, 1, 8]), record('corr-b', [1, 6, 1])]);
    logger.info('after');
    const logs = out.logs();
    const steps = logs.filter((l) => l.message === 'step');
    expect(steps).toHaveLength(6);
    for (const line of steps) expect(line.correlationId).toBe(line.record);
    // nothing is left behind
    expect(logs.find((l) => l.message === 'after')?.correlationId).toBeUndefined();
  });

  it('lets an inner scope (the envelope) override the outer one (the transport), and adds extra keys', async () => {
    await withCorrelation('from-attribute', async () => {
      logger.info('outer');
      await withCorrelation('from-envelope', async () => logger.info('inner'), { eventId: 'e-1' });
      logger.info('outer again');
    });
    const byMessage = Object.fromEntries(out.logs().map((l) => [l.message, l]));
    expect(byMessage.outer?.correlationId).toBe('from-attribute');
    expect(byMessage.inner).toMatchObject({ correlationId: 'from-envelope', eventId: 'e-1' });
    expect(byMessage['outer again']?.correlationId).toBe('from-attribute');
    expect(byMessage['outer again']?.eventId).toBeUndefined();
  });

  it('wins over a global appended key for the lines of its scope', async () => {
    logger.appendKeys({ correlationId: 'global' });
    try {
      await withCorrelation('scoped', async () => logger.info('inside'));
      logger.info('outside');
    } finally {
      logger.removeKeys(['correlationId']);
    }
    const byMessage = Object.fromEntries(out.logs().map((l) => [l.message, l]));
    expect(byMessage.inside?.correlationId).toBe('scoped');
    expect(byMessage.outside?.correlationId).toBe('global');
  });
});

describe('Kafka hop', () => {
  it('puts the id in the produced headers and reads it back from the event Lambda delivers', () => {
    const headers = kafkaHeadersWith('corr-kafka-1', { eventType: 'page_view', schemaVersion: '1' });
    expect(headers).toEqual({ eventType: 'page_view', schemaVersion: '1', correlationId: 'corr-kafka-1' });
    expect(correlationIdOfKafkaRecord({ headers: asLambdaKafkaHeaders(headers) })).toBe('corr-kafka-1');
  });

  it('reads signed bytes, and ignores records without a valid id', () => {
    const signed = [...Buffer.from('corr-é')].map((b) => (b > 127 ? b - 256 : b));
    expect(correlationIdOfKafkaRecord({ headers: [{ correlationId: [...Buffer.from('ok-1')] }] })).toBe(
      'ok-1',
    );
    expect(correlationIdOfKafkaRecord({ headers: [{ correlationId: signed }] })).toBeUndefined();
    expect(correlationIdOfKafkaRecord({ headers: [] })).toBeUndefined();
    expect(correlationIdOfKafkaRecord({})).toBeUndefined();
    expect(correlationIdOfKafkaRecord({ headers: 'nonsense' })).toBeUndefined();
  });
});

describe('RabbitMQ hop', () => {
  it('publishes the id as the AMQP correlationId property and a correlationId header', async () => {
    const published: { exchange: string; routingKey: string; options: Record<string, unknown> }[] = [];
    const channel = {
      publish: (exchange: string, routingKey: string, _body: Buffer, options: Record<string, unknown>) => {
        published.push({ exchange, routingKey, options });
        return true;
      },
      waitForConfirms: async () => undefined,
    } as unknown as ConfirmChannel;
    await publishConfirmed(channel, 'order_events', [
      {
        routingKey: 'order.shipping.shipped',
        body: '{}',
        messageId: 'evt-1',
        correlationId: 'corr-amqp-1',
        headers: { eventType: 'OrderShipped' },
      },
    ]);
    expect(published).toEqual([
      {
        exchange: 'order_events',
        routingKey: 'order.shipping.shipped',
        options: {
          persistent: true,
          contentType: 'application/json',
          messageId: 'evt-1',
          correlationId: 'corr-amqp-1',
          headers: { correlationId: 'corr-amqp-1', eventType: 'OrderShipped' },
        },
      },
    ]);
  });

  it('adds no header when there is no id', () => {
    expect(publishOptionsOf({ routingKey: 'k', body: '{}' })).toEqual({
      persistent: true,
      contentType: 'application/json',
    });
  });

  it('reads the id back from the property, else the header (plain or as bytes)', () => {
    const message = (basicProperties: Record<string, unknown>) =>
      rabbitMqMessageSchema.parse({ basicProperties, redelivered: false, data: '' });
    expect(correlationIdOfRabbitMqMessage(message({ correlationId: 'corr-prop' }))).toBe('corr-prop');
    expect(correlationIdOfRabbitMqMessage(message({ headers: { correlationId: 'corr-header' } }))).toBe(
      'corr-header',
    );
    expect(
      correlationIdOfRabbitMqMessage(
        message({
          correlationId: null,
          headers: { correlationId: { bytes: [...Buffer.from('corr-bytes')] } },
        }),
      ),
    ).toBe('corr-bytes');
    expect(correlationIdOfRabbitMqMessage(message({ correlationId: 'not valid!' }))).toBeUndefined();
    expect(correlationIdOfRabbitMqMessage(message({}))).toBeUndefined();
  });

  it('round-trips: what publishConfirmed sets is what the consumer reads', () => {
    const options = publishOptionsOf({ routingKey: 'k', body: '{}', correlationId: 'corr-round' });
    const delivered = rabbitMqMessageSchema.parse({
      basicProperties: { correlationId: options.correlationId, headers: options.headers },
      redelivered: false,
      data: '',
    });
    expect(correlationIdOfRabbitMqMessage(delivered)).toBe('corr-round');
    const headerOnly = rabbitMqMessageSchema.parse({
      basicProperties: { headers: options.headers },
      redelivered: false,
      data: '',
    });
    expect(correlationIdOfRabbitMqMessage(headerOnly)).toBe('corr-round');
  });
});

describe('SQS hops', () => {
  it('reads the correlationId message attribute the outbox puts on SNS', () => {
    expect(
      correlationIdOfSqsRecord({
        messageAttributes: { correlationId: { stringValue: 'corr-sns-1' } },
      }),
    ).toBe('corr-sns-1');
    expect(correlationIdOfSqsRecord({ messageAttributes: {} })).toBeUndefined();
  });

  it('carries the conversation id beside request-reply’s own on the request and the reply', async () => {
    const sent: { input: { MessageAttributes?: Record<string, { StringValue?: string }> } }[] = [];
    const sqs = {
      send: async (command: (typeof sent)[number]) => void sent.push(command),
    } as unknown as SQSClient;
    await sendRequest(
      sqs,
      'req-q',
      'reply-q',
      'request-1',
      { orderId: 'o' },
      { originCorrelationId: 'corr-http' },
    );
    await sendReply(sqs, 'reply-q', 'request-1', { ok: true }, { originCorrelationId: 'corr-http' });
    await sendReply(sqs, 'reply-q', 'request-2', { ok: true });
    const attributes = sent.map((c) => c.input.MessageAttributes ?? {});
    expect(attributes[0]?.[CORRELATION_ATTRIBUTE]?.StringValue).toBe('request-1');
    expect(attributes[0]?.[ORIGIN_CORRELATION_ATTRIBUTE]?.StringValue).toBe('corr-http');
    expect(attributes[1]?.[ORIGIN_CORRELATION_ATTRIBUTE]?.StringValue).toBe('corr-http');
    expect(attributes[2]?.[ORIGIN_CORRELATION_ATTRIBUTE]).toBeUndefined();
  });
});

/**
 * The shipment-confirmation consumer with RabbitMQ and the order commands faked: the message's
 * correlation id (property or header) reaches the order's events and every log line, a dead
 * letter keeps it, and the batch's metrics are emitted.
 */
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.POWERTOOLS_SERVICE_NAME = 'unit-broker';
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'UnitNamespace';
});

const calls = vi.hoisted(() => ({
  recorded: [] as { orderId: string; metadata: { correlationId: string; causationId: string } }[],
  published: [] as { exchange: string; key: string; body: Buffer; options: Record<string, unknown> }[],
}));
vi.mock('../../../lambdas/orders/application/order-commands-from-env.js', () => ({
  orderCommandsFromEnv: () => ({
    record: async (
      orderId: string,
      _command: unknown,
      metadata: { correlationId: string; causationId: string },
    ) => {
      if (orderId === 'flaky-order')
        throw Object.assign(new Error('DynamoDB down'), { name: 'InternalServerError' });
      if (orderId === 'refused-order') {
        const { DomainError } = await import('../../../lambdas/commons/domain/decider.js');
        throw new DomainError('SHIPMENT_MISMATCH', 'another shipment');
      }
      calls.recorded.push({ orderId, metadata });
      return orderId === 'unknown-order' ? 'stale' : 'recorded';
    },
  }),
}));
vi.mock('../../../lambdas/commons/rabbitmq/connection.js', async (importOriginal) => ({
  ...(await importOriginal<object>()),
  rabbitMqFromEnv: async () => ({
    channel: {
      publish: (exchange: string, key: string, body: Buffer, options: Record<string, unknown>) => {
        calls.published.push({ exchange, key, body, options });
        return true;
      },
      waitForConfirms: async () => undefined,
    },
  }),
}));

import { handler } from '../../../lambdas/broker/handlers/shipment-confirmations.js';
import { type Captured, captureStdout } from '../commons/stdout-capture.js';

const context = { functionName: 'confirmations', awsRequestId: 'aws-1' } as Context;
const confirmation = (orderId: string) =>
  Buffer.from(
    JSON.stringify({
      orderId,
      shipmentId: `shp-${orderId}`,
      trackingNumber: 'TRK-1',
      confirmedAt: '2026-01-01T00:00:00Z',
    }),
  ).toString('base64');
const message = (data: string, basicProperties: Record<string, unknown>) => ({
  basicProperties,
  redelivered: false,
  data,
});

describe('shipment confirmations', () => {
  let out: Captured;
  beforeEach(() => {
    out = captureStdout();
    calls.recorded.length = 0;
    calls.published.length = 0;
  });
  afterEach(() => out.restore());

  it('records the confirmation under the message’s correlation id, from the property or the header', async () => {
    await handler(
      {
        eventSource: 'aws:rmq',
        eventSourceArn: 'arn:aws:mq:eu-west-1:000000000000:broker:b:b-1',
        rmqMessagesByQueue: {
          'shipment_confirmations::platform': [
            message(confirmation('o-1'), { correlationId: 'corr-prop', messageId: 'msg-1' }),
            message(confirmation('o-2'), {
              headers: { correlationId: { bytes: [...Buffer.from('corr-header')] } },
            }),
            message(confirmation('o-3'), {}),
          ],
        },
      },
      context,
    );
    expect(calls.recorded).toEqual([
      { orderId: 'o-1', metadata: { correlationId: 'corr-prop', causationId: 'msg-1' } },
      { orderId: 'o-2', metadata: { correlationId: 'corr-header', causationId: 'corr-header' } },
      { orderId: 'o-3', metadata: { correlationId: 'shipment-shp-o-3', causationId: 'shipment-shp-o-3' } },
    ]);
    const confirmed = out.logs().filter((l) => l.message === 'Shipment confirmed');
    expect(confirmed.map((l) => l.correlationId)).toEqual(['corr-prop', 'corr-header', 'shipment-shp-o-3']);
    expect(out.metric('BatchSize')).toEqual([3]);
    expect(out.metric('EventsConsumed')).toEqual([1, 1, 1]);
    expect(out.metric('ShipmentsConfirmed')).toEqual([1, 1, 1]);
    expect(out.metric('ProcessingTime')).toHaveLength(1);
  });

  it('dead-letters a refused confirmation with its correlation id (property and header)', async () => {
    await handler(
      {
        eventSource: 'aws:rmq',
        eventSourceArn: 'arn:aws:mq:eu-west-1:000000000000:broker:b:b-1',
        rmqMessagesByQueue: {
          'shipment_confirmations::platform': [
            message(confirmation('unknown-order'), { correlationId: 'corr-dlq' }),
          ],
        },
      },
      context,
    );
    expect(calls.published).toHaveLength(1);
    expect(calls.published[0]?.options).toMatchObject({
      correlationId: 'corr-dlq',
      headers: { correlationId: 'corr-dlq', 'x-platform-source-queue': 'shipment_confirmations' },
    });
    const deadLettered = out.logs().find((l) => l.message === 'Confirmation dead-lettered');
    expect(deadLettered?.correlationId).toBe('corr-dlq');
    expect(out.metric('EventsFailed')).toEqual([1]);
    expect(out.metric('ConfirmationsDeadLettered')).toEqual([1]);
  });

  const event = (messages: unknown[]) => ({
    eventSource: 'aws:rmq',
    eventSourceArn: 'arn:aws:mq:eu-west-1:000000000000:broker:b:b-1',
    rmqMessagesByQueue: { 'shipment_confirmations::platform': messages },
  });
  const reasons = () =>
    calls.published.map((p) => (p.options.headers as Record<string, string>)['x-platform-reason']);

  it('dead-letters each poison message alone, with its reason, and records the good ones of its batch', async () => {
    const json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');
    const poison: [unknown, RegExp][] = [
      [{ redelivered: false, data: confirmation('x') }, /^not a RabbitMQ message: basicProperties: /],
      [message('%%% not base64 %%%', { messageId: 'b64' }), /^data is not base64$/],
      [message(Buffer.from([0xff, 0xfe, 0x7b]).toString('base64'), {}), /^the body is not UTF-8 text$/],
      [
        message(
          json({
            orderId: 'o-\ud800',
            shipmentId: 's',
            trackingNumber: 't',
            confirmedAt: '2026-01-01T00:00:00Z',
          }),
          {},
        ),
        /orderId: must be well-formed Unicode/,
      ],
      [message(Buffer.from('{"orderId": 1').toString('base64'), {}), /^the body is not JSON/],
      [
        message(confirmation('o-h'), { headers: 'not a table' }),
        /^not a RabbitMQ message: basicProperties.headers: /,
      ],
      [message(confirmation('refused-order'), {}), /^SHIPMENT_MISMATCH: another shipment$/],
      ['not even an object', /^the message is not an object$/],
      [null, /^the message is not an object$/],
    ];
    await handler(
      event([
        message(confirmation('good-1'), { messageId: 'g1' }),
        ...poison.map(([m]) => m),
        message(confirmation('good-2'), {
          messageId: 'g2',
          // Headers of any AMQP type: tables, arrays, numbers, byte arrays, decimals, nulls.
          headers: {
            n: 1.5,
            t: { deep: [1, { x: null }] },
            bin: { type: 'Buffer', data: [0, 255] },
            d: { '!': 'decimal', value: { places: 2, digits: 123 } },
            huge: 'h'.repeat(100_000),
          },
        }),
      ]),
      context,
    );
    expect(calls.recorded.map((r) => r.orderId)).toEqual(['good-1', 'good-2']);
    expect(calls.published).toHaveLength(poison.length);
    for (const [i, [, reason]] of poison.entries()) expect(reasons()[i]).toMatch(reason);
    expect(
      calls.published.every((p) => p.exchange === 'order_events.dlx' && p.key === 'shipment_confirmations'),
    ).toBe(true);
    // The dead letter keeps the original bytes, text or not.
    expect([...(calls.published[2]?.body ?? [])]).toEqual([0xff, 0xfe, 0x7b]);
    expect(calls.published[1]?.options).toMatchObject({ messageId: 'b64' });
  });

  it('fails the invocation only for a transient failure, after handling the rest of the batch', async () => {
    await expect(
      handler(
        event([
          message(confirmation('flaky-order'), {}),
          message('@@@', {}),
          message(confirmation('good-3'), {}),
        ]),
        context,
      ),
    ).rejects.toThrow(/1 of 3 confirmations failed transiently: InternalServerError: DynamoDB down/);
    expect(calls.recorded.map((r) => r.orderId)).toEqual(['good-3']);
    expect(reasons()).toEqual(['data is not base64']);
  });

  it('dead-letters a transient failure with its error on the last delivery the queue allows', async () => {
    await handler(
      event([message(confirmation('flaky-order'), { headers: { 'x-delivery-count': 5 } })]),
      context,
    );
    expect(reasons()).toEqual(['gave up after 6 deliveries: InternalServerError: DynamoDB down']);
  });

  it('fails an event that is not an Amazon MQ event at all', async () => {
    await expect(handler({ Records: [] }, context)).rejects.toThrow(/not an Amazon MQ \(RabbitMQ\) event/);
  });
});

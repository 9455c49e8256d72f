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
  published: [] as { exchange: string; options: Record<string, unknown> }[],
}));
vi.mock('../../../lambdas/orders/application/order-commands-from-env.js', () => ({
  orderCommandsFromEnv: () => ({
    record: async (
      orderId: string,
      _command: unknown,
      metadata: { correlationId: string; causationId: string },
    ) => {
      calls.recorded.push({ orderId, metadata });
      return orderId === 'unknown-order' ? 'stale' : 'recorded';
    },
  }),
}));
vi.mock('../../../lambdas/commons/rabbitmq/connection.js', async (importOriginal) => ({
  ...(await importOriginal<object>()),
  rabbitMqFromEnv: async () => ({
    channel: {
      publish: (exchange: string, _key: string, _body: Buffer, options: Record<string, unknown>) => {
        calls.published.push({ exchange, options });
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
});

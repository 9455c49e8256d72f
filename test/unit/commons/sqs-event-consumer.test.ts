/**
 * The SQS consumer adapter with its AWS edges faked: the envelope's correlation id is on every
 * log line of its record (records run concurrently), and the batch's metrics are emitted.
 */
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.POWERTOOLS_SERVICE_NAME = 'unit-consumer';
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'UnitNamespace';
  process.env.DEAD_LETTER_QUEUE_URL = 'http://sqs.local/000000000000/dlq';
  process.env.IDEMPOTENCY_TABLE_NAME = 'idempotency';
  process.env.MAX_RECEIVE_COUNT = '5';
});

const sent = vi.hoisted(() => [] as { input: Record<string, unknown> }[]);
vi.mock('../../../lambdas/commons/clients/sqs.js', () => ({
  sqsClient: () => ({ send: async (command: { input: Record<string, unknown> }) => void sent.push(command) }),
}));
vi.mock('@aws-lambda-powertools/idempotency/dynamodb', () => ({ DynamoDBPersistenceLayer: class {} }));
vi.mock('@aws-lambda-powertools/idempotency', () => ({
  IdempotencyConfig: class {
    registerLambdaContext() {}
  },
  // Idempotency is not what this test is about: run the function every time.
  makeIdempotent: (fn: (...args: unknown[]) => unknown) => fn,
}));

import { createEnvelope } from '../../../lambdas/commons/event-store/envelope.js';
import {
  PoisonMessageError,
  sqsEventConsumer,
} from '../../../lambdas/commons/messaging/sqs-event-consumer.js';
import { isSqsText } from '../../../lambdas/commons/messaging/well-formed.js';
import { logger } from '../../../lambdas/commons/powertools.js';
import { orderEventDataSchemas } from '../../../lambdas/orders/domain/order-schemas.js';
import { type Captured, captureStdout } from './stdout-capture.js';

const context = { functionName: 'consumer', awsRequestId: 'aws-1' } as Context;

function recordOf(correlationId: string, type: string, messageId: string): SQSRecord {
  const envelope = createEnvelope(
    { type, data: { orderId: messageId } },
    { aggregateType: 'Order', aggregateId: messageId, version: 1, correlationId, causationId: correlationId },
  );
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: JSON.stringify(envelope),
    attributes: { ApproximateReceiveCount: '1' },
    // What the outbox sets on SNS and raw delivery hands to SQS.
    messageAttributes: { correlationId: { stringValue: correlationId, dataType: 'String' } },
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:000000000000:orders',
    awsRegion: 'eu-west-1',
  } as unknown as SQSRecord;
}

describe('sqsEventConsumer', () => {
  let out: Captured;
  beforeEach(() => {
    out = captureStdout();
    sent.length = 0;
  });
  afterEach(() => out.restore());

  it('logs each record with its own correlation id and emits the batch metrics', async () => {
    const handler = sqsEventConsumer(async (event) => {
      // Interleave the records: the first one waits longest.
      await new Promise((r) => setTimeout(r, event.aggregateId === 'm1' ? 15 : 1));
      logger.info('handled', { aggregateId: event.aggregateId });
      if (event.type === 'Broken') throw new PoisonMessageError('cannot be handled');
    });
    const event: SQSEvent = {
      Records: [
        recordOf('corr-1', 'OrderPlaced', 'm1'),
        recordOf('corr-2', 'OrderPlaced', 'm2'),
        recordOf('corr-3', 'Broken', 'm3'),
      ],
    };
    const response = await handler(event, context);
    expect(response.batchItemFailures).toEqual([]);

    const handled = out.logs().filter((l) => l.message === 'handled');
    expect(handled.map((l) => [l.aggregateId, l.correlationId]).sort()).toEqual([
      ['m1', 'corr-1'],
      ['m2', 'corr-2'],
      ['m3', 'corr-3'],
    ]);
    const deadLettered = out.logs().find((l) => l.message === 'Message dead-lettered');
    expect(deadLettered?.correlationId).toBe('corr-3');
    // The dead letter keeps the correlation id as an attribute.
    const attributes = sent[0]?.input.MessageAttributes as Record<string, { StringValue: string }>;
    expect(attributes.correlationId?.StringValue).toBe('corr-3');

    expect(out.metric('BatchSize')).toEqual([3]);
    expect(out.metric('EventsConsumed')).toEqual([1, 1]);
    expect(out.metric('EventsFailed')).toEqual([1]);
    expect(out.metric('ProcessingTime')).toHaveLength(1);
  });

  it('logs a body that is no envelope with the correlation id of the message attributes', async () => {
    const handler = sqsEventConsumer(async () => undefined);
    const record = { ...recordOf('corr-attr', 'OrderPlaced', 'm9'), body: 'not json' };
    await handler({ Records: [record] }, context);
    const deadLettered = out.logs().find((l) => l.message === 'Message dead-lettered');
    expect(deadLettered?.correlationId).toBe('corr-attr');
    expect(out.metric('EventsFailed')).toEqual([1]);
  });

  const attributesOf = (n: number) =>
    sent[n]?.input.MessageAttributes as Record<string, { StringValue: string }> | undefined;

  it('dead-letters at once, with the reason, an event whose data its type refuses', async () => {
    const handled: string[] = [];
    const handler = sqsEventConsumer(
      async (event) => {
        handled.push(event.aggregateId);
      },
      { dataSchemas: orderEventDataSchemas },
    );
    const good = recordOf('corr-g', 'InventoryReserved', 'g1');
    const goodBody = JSON.parse(good.body);
    goodBody.data = { orderId: 'g1', reservationId: 'r-1' };
    const invalid = recordOf('corr-i', 'InventoryReserved', 'i1'); // data lacks reservationId
    const unknown = recordOf('corr-u', 'NoSuchEvent', 'u1');
    const response = await handler(
      { Records: [{ ...good, body: JSON.stringify(goodBody) }, invalid, unknown] },
      context,
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(handled).toEqual(['g1']);
    expect(sent.map((_, n) => attributesOf(n)?.reason?.StringValue)).toEqual([
      expect.stringMatching(/^data of InventoryReserved is invalid: reservationId: /),
      'unknown event type "NoSuchEvent"',
    ]);
    expect(attributesOf(0)?.sourceMessageId?.StringValue).toBe('i1');
  });

  it('dead-letters an envelope with a lone-surrogate id with a reason, in attributes SQS accepts', async () => {
    const handler = sqsEventConsumer(async () => undefined);
    for (const field of ['eventId', 'aggregateId', 'correlationId']) {
      sent.length = 0;
      const record = recordOf('corr-s', 'OrderPlaced', `s-${field}`);
      const body = { ...JSON.parse(record.body), [field]: 'x\ud800' };
      const response = await handler(
        {
          Records: [
            {
              ...record,
              body: JSON.stringify(body),
              messageAttributes: { correlationId: { stringValue: '\ud800', dataType: 'String' } },
            } as SQSRecord,
          ],
        },
        context,
      );
      expect(response.batchItemFailures).toEqual([]);
      const attributes = attributesOf(0) ?? {};
      expect(attributes.reason?.StringValue).toMatch(new RegExp(`${field}: must be well-formed Unicode`));
      for (const [name, value] of Object.entries(attributes)) {
        expect(isSqsText(name) && isSqsText(value.StringValue)).toBe(true);
      }
    }
  });

  it('retries a transient failure, and dead-letters it with the error on the last attempt', async () => {
    const handler = sqsEventConsumer(async () => {
      throw new Error('DynamoDB unavailable');
    });
    const first = await handler({ Records: [recordOf('corr-t', 'OrderPlaced', 't1')] }, context);
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: 't1' }]);
    expect(sent).toHaveLength(0);
    const last = recordOf('corr-t', 'OrderPlaced', 't1');
    const response = await handler(
      { Records: [{ ...last, attributes: { ApproximateReceiveCount: '5' } } as unknown as SQSRecord] },
      context,
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(attributesOf(0)?.reason?.StringValue).toBe(
      'gave up after 5 attempts: Error: DynamoDB unavailable',
    );
  });
});

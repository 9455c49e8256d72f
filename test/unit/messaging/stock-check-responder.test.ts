/**
 * The stock-check responder with SQS and the orders faked: a request it cannot answer is
 * dead-lettered at once with a reason naming the field; replies go only to an allowed queue.
 */
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.POWERTOOLS_SERVICE_NAME = 'unit-stock-check';
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'UnitNamespace';
  process.env.DEAD_LETTER_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/requests-dlq';
  process.env.MAX_RECEIVE_COUNT = '3';
  delete process.env.REPLY_QUEUE_URL;
  delete process.env.AWS_ENDPOINT_URL;
  delete process.env.AWS_ENDPOINT_URL_SQS;
});

const sent = vi.hoisted(
  () => [] as { QueueUrl: string; MessageAttributes: Record<string, { StringValue: string }> }[],
);
vi.mock('../../../lambdas/commons/clients/sqs.js', () => ({
  sqsClient: () => ({
    send: async (command: {
      input: { QueueUrl: string; MessageAttributes: Record<string, { StringValue: string }> };
    }) => {
      if (command.input.QueueUrl.endsWith('/missing')) {
        throw Object.assign(new Error('The specified queue does not exist.'), { name: 'QueueDoesNotExist' });
      }
      if (command.input.QueueUrl.endsWith('/throttled')) {
        throw Object.assign(new Error('slow down'), { name: 'RequestThrottled' });
      }
      sent.push(command.input);
      return {};
    },
  }),
}));
vi.mock('../../../lambdas/orders/application/order-commands-from-env.js', () => ({
  orderCommandsFromEnv: () => ({
    load: async () => ({ status: 'INVENTORY_RESERVED', reservationId: 'res-1' }),
  }),
}));

const { handler } = await import('../../../lambdas/inventory/handlers/stock-check-responder.js');

const context = {
  functionName: 'responder',
  awsRequestId: 'aws-1',
  getRemainingTimeInMillis: () => 10_000,
} as unknown as Context;
const replies = 'https://sqs.eu-west-1.amazonaws.com/123456789012/replies';
const dlq = process.env.DEAD_LETTER_QUEUE_URL as string;

function request(
  id: string,
  body: unknown,
  attributes: Record<string, string | undefined>,
  receiveCount = 1,
): SQSRecord {
  return {
    messageId: id,
    receiptHandle: `rh-${id}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: { ApproximateReceiveCount: String(receiveCount) },
    messageAttributes: Object.fromEntries(
      Object.entries(attributes)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, { stringValue: v, dataType: 'String' }]),
    ),
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:requests',
    awsRegion: 'eu-west-1',
  } as unknown as SQSRecord;
}

const good = { orderId: 'o-1', deadline: Date.now() + 60_000 };
/** Dead letters sent, as [source message id, reason], by id (records run concurrently). */
const reasonsSent = () =>
  sent
    .filter((m) => m.QueueUrl === dlq)
    .map((m) => [
      m.MessageAttributes.sourceMessageId?.StringValue ?? '',
      m.MessageAttributes.reason?.StringValue,
    ])
    .sort(([a], [b]) => String(a).localeCompare(String(b)));

describe('stock-check responder', () => {
  beforeEach(() => {
    sent.length = 0;
  });

  it('answers a good request on its reply queue', async () => {
    const response = await handler(
      { Records: [request('ok', good, { correlationId: 'req-1', replyTo: replies })] } as SQSEvent,
      context,
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(sent.map((m) => [m.QueueUrl, m.MessageAttributes.correlationId?.StringValue])).toEqual([
      [replies, 'req-1'],
    ]);
  });

  it('dead-letters each bad request at once, with a reason naming the field and why', async () => {
    const response = await handler(
      {
        Records: [
          request('no-reply', good, { correlationId: 'req-2' }),
          request('foreign', good, {
            correlationId: 'req-3',
            replyTo: 'https://attacker.example/123456789012/q',
          }),
          request('other-account', good, {
            correlationId: 'req-4',
            replyTo: 'https://sqs.eu-west-1.amazonaws.com/999999999999/q',
          }),
          request('missing', good, {
            correlationId: 'req-5',
            replyTo: 'https://sqs.eu-west-1.amazonaws.com/123456789012/missing',
          }),
          request(
            'bad-body',
            { orderId: '\ud800', deadline: 'soon' },
            { correlationId: 'req 6', replyTo: replies },
          ),
          request('not-json', '{', { correlationId: 'req-7', replyTo: replies }),
        ],
      } as SQSEvent,
      context,
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(reasonsSent()).toEqual([
      [
        'bad-body',
        expect.stringMatching(
          /^not a stock-check request: body is not a stock-check request: orderId: must be well-formed Unicode.*deadline: .*; correlationId must be 1 to 128 printable ASCII/,
        ),
      ],
      [
        'foreign',
        expect.stringMatching(
          /replyTo "https:\/\/attacker.example\/123456789012\/q" is not an SQS queue URL of region eu-west-1/,
        ),
      ],
      [
        'missing',
        expect.stringMatching(/^reply not delivered: replyTo ".*\/missing": the reply queue does not exist$/),
      ],
      ['no-reply', 'not a stock-check request: replyTo is missing (message attribute replyTo)'],
      ['not-json', expect.stringMatching(/^not a stock-check request: body is not JSON/)],
      [
        'other-account',
        expect.stringMatching(/replyTo names a queue of account 999999999999, not of this account/),
      ],
    ]);
    // No reply went anywhere but the allowed queues.
    expect(sent.every((m) => m.QueueUrl === dlq)).toBe(true);
  });

  it('retries a transient failure, and dead-letters it with the error on the last attempt', async () => {
    const throttled = {
      correlationId: 'req-8',
      replyTo: 'https://sqs.eu-west-1.amazonaws.com/123456789012/throttled',
    };
    const first = await handler({ Records: [request('t', good, throttled)] } as SQSEvent, context);
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: 't' }]);
    const last = await handler({ Records: [request('t', good, throttled, 3)] } as SQSEvent, context);
    expect(last.batchItemFailures).toEqual([]);
    expect(reasonsSent()).toEqual([['t', 'gave up after 3 attempts: RequestThrottled: slow down']]);
  });
});

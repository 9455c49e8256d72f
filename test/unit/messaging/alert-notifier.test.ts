/**
 * The alert notifier through the one dead-letter sender: an unreadable alert is dead-lettered at
 * once with its reason; an alert no channel takes is retried, then dead-lettered with the
 * channels' errors on the last attempt the queue allows (never moved by SQS without a reason).
 */
import type { Context, SQSRecord } from 'aws-lambda';
import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.POWERTOOLS_SERVICE_NAME = 'unit-notifier';
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'UnitNamespace';
  process.env.DEAD_LETTER_QUEUE_URL = 'http://sqs.local/000000000000/alerts-dlq';
  process.env.IDEMPOTENCY_TABLE_NAME = 'idempotency';
  process.env.MAX_RECEIVE_COUNT = '5';
});

const sent = vi.hoisted(
  () => [] as { input: { MessageAttributes: Record<string, { StringValue: string }> } }[],
);
vi.mock('../../../lambdas/commons/clients/sqs.js', () => ({
  sqsClient: () => ({ send: async (command: (typeof sent)[number]) => void sent.push(command) }),
}));
vi.mock('@aws-lambda-powertools/idempotency/dynamodb', () => ({ DynamoDBPersistenceLayer: class {} }));
vi.mock('@aws-lambda-powertools/idempotency', () => ({
  IdempotencyConfig: class {
    registerLambdaContext() {}
  },
  makeIdempotent: (fn: (...args: unknown[]) => unknown) => fn,
}));
vi.mock('../../../lambdas/observability/adapters/alert-channels.js', () => ({
  logChannel: async () => {
    throw new Error('log sink down');
  },
  sesChannel: () => async () => undefined,
  chatWebhookChannel: () => async () => undefined,
  tracedSes: () => ({}),
}));
vi.mock('../../../lambdas/observability/domain/alerts.js', () => ({
  parseAlert: (message: string) =>
    message === 'alert' ? { ok: true, alert: { id: 'a-1' } } : { ok: false, error: 'unknown message' },
}));

const { handler } = await import('../../../lambdas/observability/handlers/alert-notifier.js');

const context = { functionName: 'notifier', awsRequestId: 'aws-1' } as Context;
const record = (id: string, message: string, receiveCount: number): SQSRecord =>
  ({
    messageId: id,
    receiptHandle: `rh-${id}`,
    body: JSON.stringify({ Type: 'Notification', MessageId: id, Message: message }),
    attributes: { ApproximateReceiveCount: String(receiveCount) },
    messageAttributes: {},
    eventSourceARN: 'arn:aws:sqs:eu-west-1:000000000000:alerts',
  }) as unknown as SQSRecord;
const reasons = () => sent.map((c) => c.input.MessageAttributes.reason?.StringValue);

describe('alert notifier dead letters', () => {
  beforeEach(() => {
    sent.length = 0;
  });

  it('dead-letters an unreadable alert at once, with the reason', async () => {
    const response = await handler({ Records: [record('bad', 'nonsense', 1)] }, context);
    expect(response.batchItemFailures).toEqual([]);
    expect(reasons()).toEqual(['not an alert: unknown message']);
  });

  it('retries an alert no channel took, and dead-letters it with the errors on the last attempt', async () => {
    const first = await handler({ Records: [record('a', 'alert', 4)] }, context);
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: 'a' }]);
    expect(sent).toHaveLength(0);
    const last = await handler({ Records: [record('a', 'alert', 5)] }, context);
    expect(last.batchItemFailures).toEqual([]);
    expect(reasons()).toEqual(['gave up after 5 attempts: alert a-1 not delivered to log: log sink down']);
  });
});

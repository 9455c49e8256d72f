import { randomUUID } from 'node:crypto';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { describe, expect, inject, it } from 'vitest';
import { SqsEventSource } from '../../../scripts/local-cloud/event-sources/sqs.js';
import type { InvokeOutcome, Invoker } from '../../../scripts/local-cloud/event-sources/types.js';
import { eventually } from '../eventually.js';

describe('an event source whose function call throws', () => {
  it('keeps polling and redelivers the message instead of dying or dropping it', async () => {
    // GIVEN a queue with a 1 s visibility timeout and a function whose first call throws outright
    const sqs = new SQSClient({ endpoint: inject('engines').awsEndpointUrl, region: 'us-east-1' });
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({
        QueueName: `resilience-${randomUUID()}`,
        Attributes: { VisibilityTimeout: '1' },
      }),
    );
    const url = QueueUrl as string;
    const bodies: string[] = [];
    let calls = 0;
    const fn: Invoker = {
      async invoke(event: unknown): Promise<InvokeOutcome> {
        calls++;
        if (calls === 1) throw new Error('runner broke');
        bodies.push(...(event as { Records: { body: string }[] }).Records.map((r) => r.body));
        return { ok: true, result: null, requestId: String(calls) };
      },
    };
    const logs: string[] = [];
    const source = new SqsEventSource(
      {
        functionName: 'fn',
        queueUrl: url,
        queueArn: 'arn:aws:sqs:us-east-1:123456789012:q',
        region: 'us-east-1',
        maxConcurrency: 1,
      },
      fn,
      sqs,
      (line) => logs.push(line),
    );
    source.start();
    try {
      // WHEN a message arrives
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'keep me' }));
      // THEN it is delivered on the next receive, the failure is logged, and the queue empties
      await eventually(() => (bodies.includes('keep me') ? true : undefined), 20_000);
      expect(logs.some((l) => l.includes('delivery failed: runner broke'))).toBe(true);
      await eventually(async () => {
        const a = await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: url,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        );
        return a.Attributes?.ApproximateNumberOfMessages === '0' &&
          a.Attributes.ApproximateNumberOfMessagesNotVisible === '0'
          ? true
          : undefined;
      });
    } finally {
      await source.stop();
    }
  }, 40_000);
});

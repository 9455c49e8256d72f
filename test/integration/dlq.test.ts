/**
 * `npm run dlq` against the local emulator: listing leaves every message in the DLQ, redriving
 * moves every one back to the source queue, none lost and none twice, with and without SQS's
 * message move task (which moto does not implement: the automatic mode falls back). One fresh
 * queue pair per test, a dozen messages each (moto's SQS is linear in the queue depth).
 */
import { randomUUID } from 'node:crypto';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import {
  forwardedAttributes,
  isUnsupportedOperation,
  listDeadLetters,
  REDRIVEN_FROM_ATTRIBUTE,
  redrive,
  type SqsSender,
} from '../../scripts/lib/dlq.js';

const engines = inject('engines');
const sqs = new SQSClient({
  endpoint: engines.awsEndpointUrl,
  region: process.env.AWS_REGION ?? 'us-east-1',
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
  },
});

const COUNT = 12;

interface Pair {
  dlqUrl: string;
  dlqArn: string;
  sourceUrl: string;
  /** The bodies put into the DLQ. */
  bodies: string[];
}
let pair: Pair;

async function createQueue(name: string, attributes: Record<string, string> = {}): Promise<string> {
  const out = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  if (!out.QueueUrl) throw new Error(`no URL for ${name}`);
  return out.QueueUrl;
}

async function depth(queueUrl: string): Promise<number> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(out.Attributes?.ApproximateNumberOfMessages ?? Number.NaN) +
    Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? Number.NaN)
  );
}

/** Receives and deletes everything in a queue. */
async function drain(queueUrl: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        VisibilityTimeout: 30,
        MessageAttributeNames: ['All'],
      }),
    );
    const batch = out.Messages ?? [];
    if (batch.length === 0) return all;
    all.push(...batch);
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
}

const sorted = (values: readonly string[]) => [...values].sort();

describe('against the local emulator', () => {
  beforeEach(async () => {
    const id = randomUUID().slice(0, 8);
    const dlqUrl = await createQueue(`it-dlq-${id}-dlq`);
    const dlqArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))
    ).Attributes?.QueueArn as string;
    const sourceUrl = await createQueue(`it-dlq-${id}`, {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 3 }),
    });
    // Two messages share a body: the comparison is of multisets, not sets.
    const bodies = Array.from({ length: COUNT }, (_, i) =>
      JSON.stringify({
        eventId: `evt-${i === COUNT - 1 ? 0 : i}`,
        type: 'OrderPlaced',
        n: i === COUNT - 1 ? 0 : i,
      }),
    );
    for (let start = 0; start < COUNT; start += 10) {
      const out = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: dlqUrl,
          Entries: bodies.slice(start, start + 10).map((body, j) => ({
            Id: String(start + j),
            MessageBody: body,
            MessageAttributes: {
              reason: { DataType: 'String', StringValue: `failure ${start + j}` },
              sourceMessageId: { DataType: 'String', StringValue: `src-${start + j}` },
              sourceQueue: { DataType: 'String', StringValue: 'arn:aws:sqs:us-east-1:123456789012:it' },
              eventType: { DataType: 'String', StringValue: 'OrderPlaced' },
            },
          })),
        }),
      );
      expect(out.Failed ?? []).toEqual([]);
    }
    pair = { dlqUrl, dlqArn, sourceUrl, bodies };
  });

  afterEach(async () => {
    await sqs.send(new DeleteQueueCommand({ QueueUrl: pair.sourceUrl }));
    await sqs.send(new DeleteQueueCommand({ QueueUrl: pair.dlqUrl }));
  });

  describe('listDeadLetters', () => {
    it('lists every message with its reason and leaves them all in the DLQ', async () => {
      const first = await listDeadLetters(sqs, pair.dlqUrl);
      expect(first.count).toBe(COUNT);
      expect(first.truncated).toBe(false);
      expect(first.notReleased).toBe(0);
      expect(first.approximateTotal).toBe(COUNT);
      expect(sorted(first.messages.map((m) => m.body))).toEqual(sorted(pair.bodies));
      expect(sorted(first.messages.map((m) => m.reason ?? ''))).toEqual(
        sorted(Array.from({ length: COUNT }, (_, i) => `failure ${i}`)),
      );
      for (const message of first.messages) {
        expect(message.receiveCount).toBeGreaterThanOrEqual(1);
        expect(message.sentAt).toMatch(/^\d{4}-\d\d-\d\dT/);
        expect(message.attributes.eventType).toBe('OrderPlaced');
      }
      expect(new Set(first.messages.map((m) => m.messageId)).size).toBe(COUNT);

      // Still there, and visible at once: a second listing sees the same messages.
      expect(await depth(pair.dlqUrl)).toBe(COUNT);
      const second = await listDeadLetters(sqs, pair.dlqUrl);
      expect(sorted(second.messages.map((m) => m.messageId))).toEqual(
        sorted(first.messages.map((m) => m.messageId)),
      );
      expect(Math.min(...second.messages.map((m) => m.receiveCount ?? 0))).toBeGreaterThan(
        Math.min(...first.messages.map((m) => m.receiveCount ?? 0)),
      );
    });

    it('stops at max and says so, still consuming nothing', async () => {
      const some = await listDeadLetters(sqs, pair.dlqUrl, { max: 5 });
      expect(some.count).toBe(5);
      expect(some.truncated).toBe(true);
      expect(await depth(pair.dlqUrl)).toBe(COUNT);
      expect((await listDeadLetters(sqs, pair.dlqUrl)).count).toBe(COUNT);
    });
  });

  describe('redrive', () => {
    async function expectAllMoved(result: Awaited<ReturnType<typeof redrive>>): Promise<void> {
      expect(result.moved).toBe(COUNT);
      expect(result.remaining).toBe(0);
      expect(await depth(pair.dlqUrl)).toBe(0);
      const arrived = await drain(pair.sourceUrl);
      // No loss, no duplicate: the same bodies, each as often as it was dead-lettered.
      expect(sorted(arrived.map((m) => m.Body ?? ''))).toEqual(sorted(pair.bodies));
      expect(sorted(result.messages.map((m) => m.body))).toEqual(sorted(pair.bodies));
      for (const message of arrived) {
        const attributes = message.MessageAttributes ?? {};
        expect(Object.keys(attributes).sort()).toEqual(['eventType', REDRIVEN_FROM_ATTRIBUTE]);
        expect(attributes.eventType?.StringValue).toBe('OrderPlaced');
        expect(attributes[REDRIVEN_FROM_ATTRIBUTE]?.StringValue).toBe(pair.dlqArn);
      }
    }

    it('moves every message back to the source queue (falling back where there is no move task)', async () => {
      const result = await redrive(sqs, { dlqUrl: pair.dlqUrl, sourceUrl: pair.sourceUrl });
      // moto 5 does not implement StartMessageMoveTask; should a later one do so, this still holds.
      if (result.mode === 'manual') expect(result.fallbackReason).toMatch(/StartMessageMoveTask/);
      await expectAllMoved(result);
    });

    it('gives the same result in manual mode, without trying the move task', async () => {
      const progress: number[] = [];
      const result = await redrive(
        sqs,
        { dlqUrl: pair.dlqUrl, sourceUrl: pair.sourceUrl },
        { manual: true, onProgress: (n) => progress.push(n) },
      );
      expect(result.mode).toBe('manual');
      expect(result.fallbackReason).toBeUndefined();
      expect(progress).toEqual(Array.from({ length: COUNT }, (_, i) => i + 1));
      await expectAllMoved(result);
    });

    it('moves at most max messages and leaves the rest in the DLQ', async () => {
      const result = await redrive(
        sqs,
        { dlqUrl: pair.dlqUrl, sourceUrl: pair.sourceUrl },
        { manual: true, max: 5 },
      );
      expect(result.moved).toBe(5);
      expect(result.remaining).toBe(COUNT - 5);
      expect((await drain(pair.sourceUrl)).length).toBe(5);
      expect(await depth(pair.dlqUrl)).toBe(COUNT - 5);
    });
  });
});

describe('redrive with the message move task (scripted SQS answers)', () => {
  /** An SQS that knows queue ARNs and the move-task calls, and records what it was asked. */
  function fakeSqs(answers: {
    start: () => object;
    list: (call: number) => object;
  }): SqsSender & { calls: string[] } {
    const calls: string[] = [];
    let listCalls = 0;
    const send = async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      calls.push(command.constructor.name);
      if (command instanceof GetQueueAttributesCommand) {
        const url = String(command.input.QueueUrl);
        return { Attributes: { QueueArn: `arn:${url}`, ApproximateNumberOfMessages: '0' } };
      }
      if (command instanceof StartMessageMoveTaskCommand) return answers.start();
      if (command instanceof ListMessageMoveTasksCommand) return answers.list(listCalls++);
      throw new Error(`unexpected ${command.constructor.name}`);
    };
    return { send, calls } as unknown as SqsSender & { calls: string[] };
  }

  it('starts the task and waits for it to complete', async () => {
    const fake = fakeSqs({
      start: () => ({ TaskHandle: 'h-1' }),
      list: (call) => ({
        Results:
          call < 2
            ? [{ TaskHandle: 'h-1', Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 4 * call }]
            : [{ Status: 'COMPLETED', DestinationArn: 'arn:src', ApproximateNumberOfMessagesMoved: 9 }],
      }),
    });
    const result = await redrive(fake, { dlqUrl: 'dlq', sourceUrl: 'src' }, { pollIntervalMs: 1 });
    expect(result).toMatchObject({ mode: 'move-task', moved: 9, messages: [], remaining: 0 });
    expect(fake.calls.filter((c) => c === 'ListMessageMoveTasksCommand')).toHaveLength(3);
    expect(fake.calls).not.toContain('ReceiveMessageCommand');
  });

  it('reports a failed task instead of falling back', async () => {
    const fake = fakeSqs({
      start: () => ({ TaskHandle: 'h-2' }),
      list: () => ({
        Results: [{ Status: 'FAILED', FailureReason: 'AccessDenied', ApproximateNumberOfMessagesMoved: 3 }],
      }),
    });
    await expect(redrive(fake, { dlqUrl: 'dlq', sourceUrl: 'src' }, { pollIntervalMs: 1 })).rejects.toThrow(
      /failed after ~3 message\(s\): AccessDenied/,
    );
    expect(fake.calls).not.toContain('ReceiveMessageCommand');
  });

  it('does not take a refusal for a missing operation', async () => {
    const denied = Object.assign(new Error('not authorized to perform sqs:StartMessageMoveTask'), {
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });
    const fake = fakeSqs({
      start: () => {
        throw denied;
      },
      list: () => ({}),
    });
    await expect(redrive(fake, { dlqUrl: 'dlq', sourceUrl: 'src' })).rejects.toThrow(/--manual/);
    expect(fake.calls).not.toContain('ReceiveMessageCommand');
  });
});

describe('isUnsupportedOperation', () => {
  const error = (name: string, message: string, status?: number) =>
    Object.assign(new Error(message), { name, ...(status ? { $metadata: { httpStatusCode: status } } : {}) });

  it('recognises the ways an endpoint says it lacks an operation', () => {
    expect(isUnsupportedOperation(error('UnsupportedOperation', 'x', 400))).toBe(true);
    expect(isUnsupportedOperation(error('InvalidAction', 'x', 400))).toBe(true);
    expect(isUnsupportedOperation(error('InternalFailure', 'The action is not implemented', 500))).toBe(true);
    expect(
      isUnsupportedOperation(error('SyntaxError', 'Unexpected token <\n  Deserialization error', 500)),
    ).toBe(true);
    expect(isUnsupportedOperation(error('UnknownError', 'x', 501))).toBe(true);
  });

  it('leaves real refusals alone', () => {
    expect(isUnsupportedOperation(error('AccessDenied', 'not authorized', 403))).toBe(false);
    expect(isUnsupportedOperation(error('InvalidParameterValue', 'source is not a DLQ', 400))).toBe(false);
    expect(isUnsupportedOperation(error('QueueDoesNotExist', 'no such queue', 400))).toBe(false);
    expect(isUnsupportedOperation('a string')).toBe(false);
  });
});

describe('forwardedAttributes', () => {
  it('drops the dead-lettering attributes and adds redrivenFrom, within SQS’s ten', () => {
    const s = (v: string) => ({ DataType: 'String', StringValue: v });
    expect(
      forwardedAttributes({ reason: s('r'), sourceQueue: s('q'), eventType: s('E') }, 'arn:dlq'),
    ).toEqual({
      eventType: s('E'),
      redrivenFrom: s('arn:dlq'),
    });
    const ten = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`a${i}`, s(String(i))]));
    expect(Object.keys(forwardedAttributes(ten, 'arn:dlq'))).toHaveLength(10);
    expect(forwardedAttributes(ten, 'arn:dlq')).not.toHaveProperty('redrivenFrom');
  });
});

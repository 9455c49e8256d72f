/**
 * SQS for the message harness: records in the shape Lambda delivers (to invoke a consumer
 * directly, as its event source mapping would), and reading a dead-letter queue for the dead
 * letters of given messages.
 */
import { createHash } from 'node:crypto';
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { mapPool } from './pool.js';

export interface SqsRecordInput {
  readonly messageId: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
  /** The delivery this is (ApproximateReceiveCount). */
  readonly attempt: number;
  readonly queueArn: string;
}

export function sqsRecord({ messageId, body, attributes, attempt, queueArn }: SqsRecordInput) {
  const now = Date.now();
  const messageAttributes: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(attributes)) {
    Object.defineProperty(messageAttributes, name, {
      value: { stringValue: value, stringListValues: [], binaryListValues: [], dataType: 'String' },
      enumerable: true,
    });
  }
  return {
    messageId,
    receiptHandle: `hostile-receipt-${messageId}-${attempt}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(attempt),
      SentTimestamp: String(now - 1000),
      SenderId: 'HOSTILEHARNESS',
      ApproximateFirstReceiveTimestamp: String(now - 500),
    },
    messageAttributes,
    md5OfBody: createHash('md5').update(body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: queueArn.split(':')[3] ?? 'us-east-1',
  };
}

export const queueArnOf = (queueUrl: string, region = 'us-east-1') => {
  const [account, name] = new URL(queueUrl).pathname.split('/').filter(Boolean);
  return `arn:aws:sqs:${region}:${account}:${name}`;
};

export interface DeadLetter {
  readonly body: string;
  readonly reason: string | undefined;
  /** As SQS counts a message's size: body plus each attribute's name, type and value. */
  readonly bytes: number;
  readonly sourceMessageId: string | undefined;
  readonly receivedAt: number;
}

function sizeOf(message: Message): number {
  let bytes = Buffer.byteLength(message.Body ?? '', 'utf8');
  for (const [name, a] of Object.entries(message.MessageAttributes ?? {})) {
    // The SDK's attribute map holds no value under some names (e.g. a prototype name).
    if (!a) continue;
    bytes +=
      Buffer.byteLength(name) + Buffer.byteLength(a.DataType ?? '') + Buffer.byteLength(a.StringValue ?? '');
    bytes += a.BinaryValue?.byteLength ?? 0;
  }
  return bytes;
}

/**
 * Reads `queueUrl` until `wanted` says every dead letter it waits for has come, or `deadline`
 * (epoch ms). Dead letters `wanted` claims are deleted; the others (other tests' or runs') are
 * left invisible for ten minutes, so they are read once.
 */
export async function collectDeadLetters(
  sqs: SQSClient,
  queueUrl: string,
  wanted: (letter: DeadLetter) => boolean,
  done: () => boolean,
  deadline: number,
): Promise<{ receiveErrors: string[] }> {
  const receiver = async () => {
    while (!done() && Date.now() < deadline) {
      const received = await sqs
        .send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            VisibilityTimeout: 600,
            MessageAttributeNames: ['All'],
          }),
        )
        .catch((error: Error) => {
          errors.push(`${error.name}: ${error.message.slice(0, 200)}`);
          return { Messages: [] };
        });
      const Messages = received.Messages ?? [];
      const claimed = Messages.filter((m) =>
        wanted({
          body: m.Body ?? '',
          reason: m.MessageAttributes?.reason?.StringValue,
          bytes: sizeOf(m),
          sourceMessageId: m.MessageAttributes?.sourceMessageId?.StringValue,
          receivedAt: Date.now(),
        }),
      );
      if (claimed.length > 0) {
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: claimed.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
      }
    }
  };
  const errors: string[] = [];
  await mapPool([1, 2, 3], 3, receiver);
  return { receiveErrors: errors };
}

/**
 * Whether SQS (and SNS) accept this text: its allowed characters are #x9, #xA, #xD, #x20 to
 * #xD7FF, #xE000 to #xFFFD and #x10000 to #x10FFFF. A lone surrogate is refused by SQS; moto
 * stores it and then fails every receive of the queue, so the harness never sends one there.
 */
export const sqsAccepts = (text: string): boolean =>
  /^[\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u.test(text);

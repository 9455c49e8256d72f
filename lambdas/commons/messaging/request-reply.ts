/**
 * Request-reply over SQS: the requester sends a request carrying a correlation id and its reply
 * queue, then waits on that queue for the reply with the same correlation id, up to a deadline.
 *
 * The reply queue is shared by every instance of the requester. A reply an instance receives but
 * does not own is made visible again at once for its owner; a reply nobody claims expires with the
 * queue's short retention. This suits the handful of concurrent waiters of a synchronous API call;
 * at high concurrency, give each requester its own queue (or a reply table keyed by correlation id).
 *
 * The `correlationId` attribute here is request-reply's own (it matches a reply to its request).
 * The platform's end-to-end correlation id of the conversation, when given, travels beside it in
 * the `x-correlation-id` attribute (`ORIGIN_CORRELATION_ATTRIBUTE`), on the request and the reply.
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

export const CORRELATION_ATTRIBUTE = 'correlationId';
/** The end-to-end correlation id of the request's conversation (as the HTTP header names it). */
export const ORIGIN_CORRELATION_ATTRIBUTE = 'x-correlation-id';

export interface RequestReplyOptions {
  /** The end-to-end correlation id (logs), distinct from the request-reply correlation id. */
  readonly originCorrelationId?: string;
}

type StringAttributes = Record<string, { DataType: 'String'; StringValue: string }>;

const originAttribute = (options: RequestReplyOptions): StringAttributes =>
  options.originCorrelationId
    ? { [ORIGIN_CORRELATION_ATTRIBUTE]: { DataType: 'String', StringValue: options.originCorrelationId } }
    : {};

export async function sendRequest(
  sqs: SQSClient,
  requestQueueUrl: string,
  replyQueueUrl: string,
  correlationId: string,
  body: unknown,
  options: RequestReplyOptions = {},
): Promise<void> {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: requestQueueUrl,
      MessageBody: JSON.stringify(body),
      MessageAttributes: {
        [CORRELATION_ATTRIBUTE]: { DataType: 'String', StringValue: correlationId },
        replyTo: { DataType: 'String', StringValue: replyQueueUrl },
        ...originAttribute(options),
      },
    }),
  );
}

export async function sendReply(
  sqs: SQSClient,
  replyQueueUrl: string,
  correlationId: string,
  body: unknown,
  options: RequestReplyOptions = {},
): Promise<void> {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: replyQueueUrl,
      MessageBody: JSON.stringify(body),
      MessageAttributes: {
        [CORRELATION_ATTRIBUTE]: { DataType: 'String', StringValue: correlationId },
        ...originAttribute(options),
      },
    }),
  );
}

/** The reply to `correlationId`, or undefined when none arrived within `timeoutMs`. */
export async function awaitReply<T>(
  sqs: SQSClient,
  replyQueueUrl: string,
  correlationId: string,
  timeoutMs: number,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const waitSeconds = Math.max(0, Math.min(20, Math.floor((deadline - Date.now()) / 1000)));
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: replyQueueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: waitSeconds,
        VisibilityTimeout: 5,
        MessageAttributeNames: [CORRELATION_ATTRIBUTE],
      }),
    );
    let mine: T | undefined;
    for (const message of received.Messages ?? []) {
      const id = message.MessageAttributes?.[CORRELATION_ATTRIBUTE]?.StringValue;
      if (id === correlationId && mine === undefined) {
        mine = JSON.parse(message.Body ?? 'null') as T;
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: replyQueueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
      } else {
        // Someone else's: visible again at once for its owner.
        await sqs
          .send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: replyQueueUrl,
              ReceiptHandle: message.ReceiptHandle,
              VisibilityTimeout: 0,
            }),
          )
          .catch(() => undefined);
      }
    }
    if (mine !== undefined) return mine;
    if (waitSeconds === 0)
      await new Promise((r) => setTimeout(r, Math.min(100, Math.max(0, deadline - Date.now()))));
  }
  return undefined;
}

/**
 * Dead-letter queue operations for `npm run dlq`: look at what a DLQ holds without consuming it, and
 * move its messages back to the queue they came from.
 *
 * Listing receives every message with a visibility timeout (so the same message is not returned
 * twice), then makes each one visible again at once (visibility 0): the messages stay in the DLQ.
 * A side effect SQS does not let us avoid: each listing adds one to every message's receive count.
 * If the listing dies half-way, the messages become visible again when the timeout runs out.
 *
 * Redriving prefers SQS's own message move task (StartMessageMoveTask, then ListMessageMoveTasks
 * until it ends). Where the endpoint does not offer it (moto, other emulators) or when asked to
 * (`manual`), it moves the messages itself: receive, SendMessage to the source queue, then
 * DeleteMessage from the DLQ, one message after the other. The send always precedes the delete, so
 * a crash (or a failed delete) between the two leaves that one message in both queues: at worst one
 * duplicate, which the idempotent consumers absorb, and never a lost message. Messages received but
 * not yet sent when something fails are made visible again in the DLQ (or reappear after the
 * visibility timeout if even that fails).
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  type ListMessageMoveTasksResultEntry,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';

/** What the functions below need of an SQS client (a fake in tests). */
export type SqsSender = Pick<SQSClient, 'send'>;

/** One message of a DLQ, as listed. */
export interface DeadLetter {
  readonly messageId: string;
  /** SQS's ApproximateReceiveCount, which includes the receive of this listing. */
  readonly receiveCount: number | undefined;
  /** When the message was first sent (ISO-8601), from SQS's SentTimestamp. */
  readonly sentAt: string | undefined;
  /** The `reason` attribute the consumers set when they dead-letter a message themselves. */
  readonly reason: string | undefined;
  readonly body: string;
  /** String (and number) message attributes; binary ones as `<binary N bytes>`. */
  readonly attributes: Readonly<Record<string, string>>;
}

export interface ListOptions {
  /** Stop after this many messages (default 100). */
  readonly max?: number;
  /** How long listed messages stay hidden if they cannot be made visible again (default 30 s). */
  readonly visibilityTimeoutSeconds?: number;
  /** Long-poll wait of each receive; 0 is a short poll, which SQS may answer empty early (default 1). */
  readonly waitTimeSeconds?: number;
}

export interface ListResult {
  readonly messages: readonly DeadLetter[];
  readonly count: number;
  /** The DLQ's ApproximateNumberOfMessages before the listing. */
  readonly approximateTotal: number | undefined;
  /** True when `max` was reached: there may be more. */
  readonly truncated: boolean;
  /** Messages that could not be made visible again; they reappear after the visibility timeout. */
  readonly notReleased: number;
}

export interface RedriveQueues {
  readonly dlqUrl: string;
  /** The queue the messages go back to. */
  readonly sourceUrl: string;
}

export interface RedriveOptions {
  /** Skip the message move task and move the messages one by one. */
  readonly manual?: boolean;
  /** Manual mode: stop after this many messages (default: until the DLQ answers empty). */
  readonly max?: number;
  /** Manual mode: visibility timeout of the received messages (default 30 s). */
  readonly visibilityTimeoutSeconds?: number;
  /** Manual mode: long-poll wait of each receive (default 1 s). */
  readonly waitTimeSeconds?: number;
  /** Move task: its rate limit (SQS's default when absent). */
  readonly maxMessagesPerSecond?: number;
  /** Move task: how often to poll ListMessageMoveTasks (default 1000 ms). */
  readonly pollIntervalMs?: number;
  /** Move task: give up waiting after this long (the task keeps running in SQS); default no limit. */
  readonly timeoutMs?: number;
  /** Called as messages move: the count so far (approximate for the move task). */
  readonly onProgress?: (moved: number) => void;
}

/** One message moved by the manual mode. */
export interface MovedMessage {
  /** Its id in the DLQ. */
  readonly dlqMessageId: string;
  /** Its new id in the source queue. */
  readonly messageId: string;
  readonly body: string;
}

export interface RedriveResult {
  readonly mode: 'move-task' | 'manual';
  /** Messages moved (SQS's approximate count for the move task). */
  readonly moved: number;
  /** The manual mode's messages; empty for the move task, which does not tell. */
  readonly messages: readonly MovedMessage[];
  /** Why the move task was not used, when the endpoint refused it. */
  readonly fallbackReason?: string;
  /** Visible and in-flight messages left in the DLQ afterwards (approximate). */
  readonly remaining: number | undefined;
}

/**
 * Attributes the consumers add when they dead-letter a message (`lambdas/commons/messaging/
 * dead-letter.ts`): not forwarded on redrive. A claim-checked body is redriven as its reference,
 * which the consumer resolves; a cut body (`bodyTruncated`) goes back cut, and is dead-lettered
 * again as unreadable: its whole text is gone (`bodySha256` identifies it).
 */
export const DEAD_LETTER_ATTRIBUTES: readonly string[] = [
  'reason',
  'sourceMessageId',
  'sourceQueue',
  'bodyTruncated',
  'bodyOriginalBytes',
  'bodySha256',
  'bodyEmpty',
  'bodyClaimChecked',
];
/** Attribute added to every manually redriven message: the DLQ it came back from (its ARN). */
export const REDRIVEN_FROM_ATTRIBUTE = 'redrivenFrom';
/** SQS accepts at most this many message attributes. */
const MAX_MESSAGE_ATTRIBUTES = 10;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function positiveInteger(name: string, value: number): number {
  if (!(Number.isInteger(value) || value === Number.POSITIVE_INFINITY) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

export async function queueAttributes(
  sqs: SqsSender,
  queueUrl: string,
  names: ('QueueArn' | 'ApproximateNumberOfMessages' | 'ApproximateNumberOfMessagesNotVisible')[],
): Promise<Record<string, string>> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: names }));
  return out.Attributes ?? {};
}

export async function queueArn(sqs: SqsSender, queueUrl: string): Promise<string> {
  const arn = (await queueAttributes(sqs, queueUrl, ['QueueArn'])).QueueArn;
  if (!arn) throw new Error(`${queueUrl}: GetQueueAttributes returned no QueueArn`);
  return arn;
}

const optionalNumber = (value: string | undefined): number | undefined =>
  value === undefined || value === '' || Number.isNaN(Number(value)) ? undefined : Number(value);

function receive(sqs: SqsSender, queueUrl: string, max: number, visibility: number, wait: number) {
  return sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: Math.max(1, Math.min(10, max)),
      VisibilityTimeout: visibility,
      WaitTimeSeconds: wait,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
    }),
  );
}

/** Makes received messages visible again; returns how many SQS did not take back. */
async function release(sqs: SqsSender, queueUrl: string, messages: readonly Message[]): Promise<number> {
  let failed = 0;
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10).filter((m) => m.ReceiptHandle);
    if (chunk.length === 0) continue;
    try {
      const out = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((m, j) => ({
            Id: String(j),
            ReceiptHandle: m.ReceiptHandle,
            VisibilityTimeout: 0,
          })),
        }),
      );
      failed += out.Failed?.length ?? 0;
    } catch {
      failed += chunk.length;
    }
  }
  return failed;
}

function toDeadLetter(message: Message): DeadLetter {
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    attributes[name] =
      value.StringValue ?? (value.BinaryValue ? `<binary ${value.BinaryValue.length} bytes>` : '');
  }
  const sent = optionalNumber(message.Attributes?.SentTimestamp);
  return {
    messageId: message.MessageId ?? '',
    receiveCount: optionalNumber(message.Attributes?.ApproximateReceiveCount),
    sentAt: sent === undefined ? undefined : new Date(sent).toISOString(),
    reason: message.MessageAttributes?.reason?.StringValue,
    body: message.Body ?? '',
    attributes,
  };
}

/**
 * Every message of a DLQ (up to `max`), oldest first, without consuming any: each is received with
 * a visibility timeout and made visible again once the listing is complete (or has failed).
 */
export async function listDeadLetters(
  sqs: SqsSender,
  dlqUrl: string,
  opts: ListOptions = {},
): Promise<ListResult> {
  const max = positiveInteger('max', opts.max ?? 100);
  const visibility = opts.visibilityTimeoutSeconds ?? 30;
  const wait = opts.waitTimeSeconds ?? 1;
  const total = optionalNumber(
    (await queueAttributes(sqs, dlqUrl, ['ApproximateNumberOfMessages'])).ApproximateNumberOfMessages,
  );
  // By message id: should a message come round again (its visibility ran out during a long
  // listing), it is listed once and its latest receipt handle is the one released.
  const received = new Map<string, Message>();
  let notReleased = 0;
  try {
    while (received.size < max) {
      const out = await receive(sqs, dlqUrl, max - received.size, visibility, wait);
      const batch = out.Messages ?? [];
      if (batch.length === 0) break;
      for (const message of batch) received.set(message.MessageId ?? message.ReceiptHandle ?? '', message);
    }
  } finally {
    notReleased = await release(sqs, dlqUrl, [...received.values()]);
  }
  const messages = [...received.values()]
    .map(toDeadLetter)
    .sort((a, b) => (a.sentAt ?? '').localeCompare(b.sentAt ?? '') || a.messageId.localeCompare(b.messageId));
  return {
    messages,
    count: messages.length,
    approximateTotal: total,
    truncated: messages.length >= max,
    notReleased,
  };
}

/**
 * Whether an error means the endpoint does not offer the operation at all (as opposed to refusing
 * this request): an emulator's "not implemented", an unknown action, or an answer that is not an
 * SQS response (moto 5 answers StartMessageMoveTask with an HTML error page, which the SDK fails
 * to deserialize).
 */
export function isUnsupportedOperation(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const e = error as Error & { Code?: unknown; code?: unknown; $metadata?: { httpStatusCode?: number } };
  const codes = [e.name, e.Code, e.code].filter((c): c is string => typeof c === 'string');
  if (codes.some((c) => /UnsupportedOperation|InvalidAction|NotImplemented|UnknownOperation/i.test(c))) {
    return true;
  }
  if (/not (yet )?implemented|unsupported operation|unknown operation|invalid action/i.test(e.message)) {
    return true;
  }
  if (e.name === 'SyntaxError' || /Deserialization error/i.test(e.message)) return true;
  const status = e.$metadata?.httpStatusCode;
  return status === 404 || status === 405 || status === 501;
}

/** The message attributes forwarded to the source queue: SQS's own form, without the DLQ's. */
export function forwardedAttributes(
  attributes: Record<string, MessageAttributeValue> | undefined,
  redrivenFrom: string,
): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (DEAD_LETTER_ATTRIBUTES.includes(name)) continue;
    out[name] = {
      DataType: value.DataType,
      ...(value.StringValue === undefined ? {} : { StringValue: value.StringValue }),
      ...(value.BinaryValue === undefined ? {} : { BinaryValue: value.BinaryValue }),
    };
  }
  // A message already at SQS's limit keeps its own attributes rather than gain ours.
  if (Object.keys(out).length < MAX_MESSAGE_ATTRIBUTES || REDRIVEN_FROM_ATTRIBUTE in out) {
    out[REDRIVEN_FROM_ATTRIBUTE] = { DataType: 'String', StringValue: redrivenFrom };
  }
  return out;
}

const TERMINAL_TASK_STATUSES = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/** Our task among the DLQ's recent ones: by handle while it runs, else the newest to our target. */
function findTask(
  results: readonly ListMessageMoveTasksResultEntry[],
  taskHandle: string | undefined,
  destinationArn: string,
): ListMessageMoveTasksResultEntry | undefined {
  return (
    results.find((r) => taskHandle !== undefined && r.TaskHandle === taskHandle) ??
    results.find((r) => r.DestinationArn === destinationArn || r.DestinationArn === undefined)
  );
}

async function redriveWithMoveTask(
  sqs: SqsSender,
  dlqArn: string,
  sourceArn: string,
  opts: RedriveOptions,
): Promise<{ moved: number } | { unsupported: string }> {
  let taskHandle: string | undefined;
  try {
    const started = await sqs.send(
      new StartMessageMoveTaskCommand({
        SourceArn: dlqArn,
        DestinationArn: sourceArn,
        ...(opts.maxMessagesPerSecond === undefined
          ? {}
          : { MaxNumberOfMessagesPerSecond: opts.maxMessagesPerSecond }),
      }),
    );
    taskHandle = started.TaskHandle;
  } catch (error) {
    if (isUnsupportedOperation(error)) {
      const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
      return { unsupported: `StartMessageMoveTask is not supported by this endpoint (${message})` };
    }
    throw new Error(
      `StartMessageMoveTask failed: ${error instanceof Error ? error.message : String(error)} ` +
        '(the move task only moves out of a queue that is some queue’s DLQ; --manual moves from any queue)',
      { cause: error },
    );
  }
  const deadline = opts.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + opts.timeoutMs;
  for (;;) {
    const out = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn, MaxResults: 10 }));
    const task = findTask(out.Results ?? [], taskHandle, sourceArn);
    const moved = task?.ApproximateNumberOfMessagesMoved ?? 0;
    if (task?.Status && TERMINAL_TASK_STATUSES.has(task.Status)) {
      if (task.Status === 'COMPLETED') return { moved };
      throw new Error(
        `message move task ${task.Status.toLowerCase()} after ~${moved} message(s)` +
          (task.FailureReason ? `: ${task.FailureReason}` : ''),
      );
    }
    opts.onProgress?.(moved);
    if (Date.now() > deadline) {
      throw new Error(
        `message move task still ${task?.Status ?? 'unknown'} after ${opts.timeoutMs} ms (~${moved} moved); ` +
          'it keeps running in SQS',
      );
    }
    await sleep(opts.pollIntervalMs ?? 1000);
  }
}

async function redriveManually(
  sqs: SqsSender,
  { dlqUrl, sourceUrl }: RedriveQueues,
  dlqArn: string,
  opts: RedriveOptions,
): Promise<MovedMessage[]> {
  const max = positiveInteger('max', opts.max ?? Number.POSITIVE_INFINITY);
  const visibility = opts.visibilityTimeoutSeconds ?? 30;
  const wait = opts.waitTimeSeconds ?? 1;
  const fifo = sourceUrl.endsWith('.fifo');
  const moved: MovedMessage[] = [];
  // A message SQS hands out again after we deleted it (rare, at-least-once) is not sent twice.
  const sent = new Set<string>();
  while (moved.length < max) {
    const out = await receive(sqs, dlqUrl, max - moved.length, visibility, wait);
    const batch = out.Messages ?? [];
    if (batch.length === 0) break;
    for (let i = 0; i < batch.length; i++) {
      const message = batch[i] as Message;
      try {
        const dlqMessageId = message.MessageId ?? '';
        if (!sent.has(dlqMessageId)) {
          const system = message.Attributes ?? {};
          const result = await sqs.send(
            new SendMessageCommand({
              QueueUrl: sourceUrl,
              MessageBody: message.Body ?? '',
              MessageAttributes: forwardedAttributes(message.MessageAttributes, dlqArn),
              ...(fifo
                ? {
                    MessageGroupId: system.MessageGroupId ?? 'redrive',
                    // A resend after a crash within five minutes is deduplicated by SQS.
                    MessageDeduplicationId: system.MessageDeduplicationId ?? dlqMessageId,
                  }
                : {}),
            }),
          );
          sent.add(dlqMessageId);
          moved.push({ dlqMessageId, messageId: result.MessageId ?? '', body: message.Body ?? '' });
          opts.onProgress?.(moved.length);
        }
        await sqs.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: message.ReceiptHandle }));
      } catch (error) {
        // This message stays where it is (sent or not); the rest of the batch goes back at once.
        await release(sqs, dlqUrl, batch.slice(i + 1));
        throw new Error(
          `redrive stopped after ${moved.length} message(s) at DLQ message ${message.MessageId}: ` +
            `${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
    }
  }
  return moved;
}

/**
 * Moves every message of a DLQ back to its source queue: with SQS's message move task when the
 * endpoint offers it (and `manual` is not set), otherwise one message at a time (see the top of
 * this file for why that never loses a message and duplicates at most one).
 */
export async function redrive(
  sqs: SqsSender,
  queues: RedriveQueues,
  opts: RedriveOptions = {},
): Promise<RedriveResult> {
  const [dlqArn, sourceArn] = await Promise.all([
    queueArn(sqs, queues.dlqUrl),
    queueArn(sqs, queues.sourceUrl),
  ]);
  let fallbackReason: string | undefined;
  let result: Pick<RedriveResult, 'mode' | 'moved' | 'messages'>;
  const viaTask = opts.manual ? undefined : await redriveWithMoveTask(sqs, dlqArn, sourceArn, opts);
  if (viaTask && 'moved' in viaTask) {
    result = { mode: 'move-task', moved: viaTask.moved, messages: [] };
  } else {
    fallbackReason = viaTask?.unsupported;
    const messages = await redriveManually(sqs, queues, dlqArn, opts);
    result = { mode: 'manual', moved: messages.length, messages };
  }
  const left = await queueAttributes(sqs, queues.dlqUrl, [
    'ApproximateNumberOfMessages',
    'ApproximateNumberOfMessagesNotVisible',
  ]);
  const visible = optionalNumber(left.ApproximateNumberOfMessages);
  const inFlight = optionalNumber(left.ApproximateNumberOfMessagesNotVisible);
  return {
    ...result,
    ...(fallbackReason === undefined ? {} : { fallbackReason }),
    remaining: visible === undefined ? undefined : visible + (inFlight ?? 0),
  };
}

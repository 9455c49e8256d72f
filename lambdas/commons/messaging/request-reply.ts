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
 *
 * A responder trusts nothing of a request: its reply queue (`replyTo`) must be the allowed reply
 * queue, or at least an SQS queue URL of the request queue's own account and region (a request
 * must never make us send to an arbitrary URL), and its correlation id a bounded, well-formed id;
 * `readRequestAttributes` says which field is wrong and why. A reply the reply queue refuses for
 * good (it does not exist, we may not send to it) is `isUndeliverableReply`: dead-letter, not retry.
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

/** A request-reply correlation id: an id, not data (bounded, printable ASCII). */
const CORRELATION_ID_PATTERN = /^[\x21-\x7e]{1,128}$/;
/** SQS queue names: 1 to 80 of letters, digits, `-` and `_`, with `.fifo` for a FIFO queue. */
const QUEUE_NAME_PATTERN = /^[A-Za-z0-9_-]{1,80}(\.fifo)?$/;
const ACCOUNT_PATTERN = /^\d{12}$/;

export interface ReplyQueuePolicy {
  /** The ARN of the queue the request came from: the reply queue must be of its account and region. */
  readonly requestQueueArn: string;
  /** When set, the only reply queue a request may name (e.g. REPLY_QUEUE_URL). */
  readonly allowedReplyQueueUrl?: string;
  /** The SQS endpoint the platform talks to, when not AWS's own (the local cloud's emulator). */
  readonly endpoint?: string;
}

export type ReplyToCheck = { ok: true; url: string } | { ok: false; reason: string };

/**
 * Whether `replyTo` names a queue this responder may answer on: the allowed reply queue when one is
 * configured, else an SQS queue URL (`https://sqs.<region>.amazonaws.com/<account>/<name>`, or the
 * configured endpoint's host) of the request queue's account and region. Pure.
 */
export function checkReplyTo(replyTo: string | undefined, policy: ReplyQueuePolicy): ReplyToCheck {
  const no = (why: string): ReplyToCheck => ({ ok: false, reason: `replyTo ${why}` });
  if (replyTo === undefined || replyTo === '') return no('is missing (message attribute replyTo)');
  if (replyTo.length > 1024) return no('is longer than 1024 characters');
  if (!/^[\x21-\x7e]+$/.test(replyTo)) return no('holds characters no queue URL has');
  if (policy.allowedReplyQueueUrl !== undefined) {
    return replyTo === policy.allowedReplyQueueUrl
      ? { ok: true, url: replyTo }
      : no(`${JSON.stringify(replyTo)} is not the reply queue of this service`);
  }
  const [arn, partition, service, region, account] = policy.requestQueueArn.split(':');
  if (arn !== 'arn' || !partition || service !== 'sqs' || !region || !account) {
    return no(
      `cannot be checked: the request queue ARN ${JSON.stringify(policy.requestQueueArn)} is not an SQS ARN`,
    );
  }
  let url: URL;
  try {
    url = new URL(replyTo);
  } catch {
    return no(`${JSON.stringify(replyTo)} is not a URL`);
  }
  if (url.username || url.password || url.search || url.hash) {
    return no(`${JSON.stringify(replyTo)} is not a plain queue URL (credentials, query or fragment)`);
  }
  const awsHosts = [`sqs.${region}.amazonaws.com`, `${region}.queue.amazonaws.com`];
  const endpoint = policy.endpoint ? safeUrl(policy.endpoint) : undefined;
  const onAws = url.protocol === 'https:' && awsHosts.includes(url.hostname) && url.port === '';
  const onEndpoint = endpoint !== undefined && sameOrigin(url, endpoint);
  if (!onAws && !onEndpoint) {
    return no(
      `${JSON.stringify(replyTo)} is not an SQS queue URL of region ${region} (expected https://${awsHosts[0]}/…)`,
    );
  }
  const [queueAccount, name, ...rest] = url.pathname.replace(/^\//, '').split('/');
  if (rest.length > 0 || !queueAccount || !name || !ACCOUNT_PATTERN.test(queueAccount)) {
    return no(`${JSON.stringify(replyTo)} is not a queue URL (expected /<account>/<queue name>)`);
  }
  if (queueAccount !== account) return no(`names a queue of account ${queueAccount}, not of this account`);
  if (!QUEUE_NAME_PATTERN.test(name)) return no(`names no valid queue (${JSON.stringify(name)})`);
  return { ok: true, url: replyTo };
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Same scheme, host and port; the loopback names count as one host (an emulator's URLs vary). */
function sameOrigin(a: URL, b: URL): boolean {
  if (a.protocol !== b.protocol || a.port !== b.port) return false;
  return a.hostname === b.hostname || (LOOPBACK.has(a.hostname) && LOOPBACK.has(b.hostname));
}

function safeUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** Whether a request-reply correlation id is usable (bounded printable ASCII, hence SQS-safe). */
export const isRequestCorrelationId = (value: unknown): value is string =>
  typeof value === 'string' && CORRELATION_ID_PATTERN.test(value);

/** The request-reply attributes of a request, or every reason they are unusable (field by field). */
export function readRequestAttributes(
  attributes: Readonly<Record<string, { readonly stringValue?: string } | undefined>>,
  policy: ReplyQueuePolicy,
): { ok: true; correlationId: string; replyTo: string } | { ok: false; reasons: string[] } {
  const reasons: string[] = [];
  const correlationId = attributes[CORRELATION_ATTRIBUTE]?.stringValue;
  if (correlationId === undefined || correlationId === '') {
    reasons.push(`${CORRELATION_ATTRIBUTE} is missing (message attribute ${CORRELATION_ATTRIBUTE})`);
  } else if (!isRequestCorrelationId(correlationId)) {
    reasons.push(`${CORRELATION_ATTRIBUTE} must be 1 to 128 printable ASCII characters without spaces`);
  }
  const replyTo = checkReplyTo(attributes.replyTo?.stringValue, policy);
  if (!replyTo.ok) reasons.push(replyTo.reason);
  if (reasons.length > 0 || !replyTo.ok || correlationId === undefined) {
    return { ok: false, reasons };
  }
  return { ok: true, correlationId, replyTo: replyTo.url };
}

/**
 * Why a reply can never be delivered (the queue does not exist, is not one we may send to), or
 * undefined for a failure worth retrying (throttling, a network fault).
 */
export function undeliverableReplyReason(error: unknown, replyQueueUrl: string): string | undefined {
  const { name, message } = (error ?? {}) as { name?: string; message?: string };
  const code = (error as { Code?: string } | null)?.Code;
  const url = JSON.stringify(replyQueueUrl);
  if (name === 'QueueDoesNotExist' || code === 'AWS.SimpleQueueService.NonExistentQueue') {
    return `replyTo ${url}: the reply queue does not exist`;
  }
  if (name === 'AccessDenied' || name === 'AccessDeniedException' || name === 'InvalidAddress') {
    return `replyTo ${url}: this service may not send to it (${name}: ${message ?? ''})`;
  }
  if (name === 'InvalidMessageContents' || name === 'InvalidParameterValue') {
    return `the reply was refused by ${url} (${name}: ${message ?? ''})`;
  }
  return undefined;
}

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

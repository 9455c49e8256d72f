import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { filterView, type Pattern, passes } from './filter.js';
import { batchItemFailures, type EventSource, type Invoker, type Log, sleep } from './types.js';

export interface SqsMappingConfig {
  readonly functionName: string;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly region: string;
  /** @default 10 */
  readonly batchSize?: number;
  /** @default 0 */
  readonly maxBatchingWindowSeconds?: number;
  readonly reportBatchItemFailures?: boolean;
  /** Concurrent batches in flight (ScalingConfig.MaximumConcurrency). @default 2 */
  readonly maxConcurrency?: number;
  readonly filters?: Pattern[];
}

/** The SQS record shape Lambda delivers. */
export function toSqsRecord(message: Message, queueArn: string, region: string) {
  const messageAttributes: Record<string, unknown> = {};
  for (const [name, a] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      stringValue: a.StringValue,
      binaryValue: a.BinaryValue ? Buffer.from(a.BinaryValue).toString('base64') : undefined,
      stringListValues: a.StringListValues ?? [],
      binaryListValues: (a.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
      dataType: a.DataType,
    };
  }
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: { ...message.Attributes },
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/**
 * Emulates an SQS event source mapping: pollers receive up to `batchSize` messages (waiting up to
 * the batching window), invoke the function, delete what succeeded, and leave failures to
 * reappear after the visibility timeout, where the queue's redrive policy moves them to the DLQ
 * after maxReceiveCount receives. Messages the filter criteria reject are deleted, as Lambda does.
 */
export class SqsEventSource implements EventSource {
  readonly description: string;
  private readonly abort = new AbortController();
  private pollers: Promise<void>[] = [];
  readonly stats = { received: 0, invocations: 0, deleted: 0, failed: 0, filtered: 0 };

  constructor(
    private readonly config: SqsMappingConfig,
    private readonly fn: Invoker,
    private readonly sqs: SQSClient,
    private readonly log: Log,
  ) {
    this.description = `SQS ${config.queueArn.split(':').pop()} -> ${config.functionName}`;
  }

  start(): void {
    const pollers = Math.max(1, this.config.maxConcurrency ?? 2);
    for (let i = 0; i < pollers; i++) this.pollers.push(this.poll());
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled(this.pollers);
  }

  private async receiveBatch(): Promise<Message[]> {
    const batchSize = this.config.batchSize ?? 10;
    const windowMs = (this.config.maxBatchingWindowSeconds ?? 0) * 1000;
    const deadline = Date.now() + windowMs;
    const batch: Message[] = [];
    while (!this.abort.signal.aborted && batch.length < batchSize) {
      const remainingMs = deadline - Date.now();
      // Long-poll while the batch is empty; then only as long as the batching window allows.
      const waitSeconds = batch.length === 0 ? 1 : Math.max(0, Math.min(20, Math.floor(remainingMs / 1000)));
      const response = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.config.queueUrl,
          MaxNumberOfMessages: Math.min(10, batchSize - batch.length),
          WaitTimeSeconds: waitSeconds,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: this.abort.signal },
      );
      batch.push(...(response.Messages ?? []));
      if (batch.length > 0 && Date.now() >= deadline) break;
      if (batch.length === 0 && windowMs === 0 && !response.Messages?.length) continue;
    }
    return batch;
  }

  private async poll(): Promise<void> {
    while (!this.abort.signal.aborted) {
      let messages: Message[];
      try {
        messages = await this.receiveBatch();
      } catch (e) {
        if (this.abort.signal.aborted) return;
        this.log(`${this.description}: receive failed: ${(e as Error).message}`);
        await sleep(1000, this.abort.signal);
        continue;
      }
      if (messages.length === 0) continue;
      this.stats.received += messages.length;
      try {
        await this.deliver(messages);
      } catch (e) {
        // The messages stay on the queue and come back after the visibility timeout; the poller lives on.
        this.log(`${this.description}: delivery failed: ${(e as Error).message}`);
      }
    }
  }

  private async deliver(messages: Message[]): Promise<void> {
    const records = messages.map((m) => toSqsRecord(m, this.config.queueArn, this.config.region));
    const kept = records.filter((r) => passes(this.config.filters, filterView(r, 'body')));
    const filteredOut = records.filter((r) => !kept.includes(r));
    this.stats.filtered += filteredOut.length;
    await this.delete(filteredOut.map((r) => ({ id: r.messageId, receiptHandle: r.receiptHandle })));
    if (kept.length === 0) return;

    this.stats.invocations++;
    const outcome = await this.fn.invoke({ Records: kept });
    const all = kept.map((r) => ({ id: r.messageId, receiptHandle: r.receiptHandle }));
    if (!outcome.ok) {
      this.stats.failed += kept.length;
      this.log(
        `${this.description}: batch of ${kept.length} failed (${outcome.errorType}: ${outcome.errorMessage}); messages return after the visibility timeout`,
      );
      return;
    }
    const failures = this.config.reportBatchItemFailures
      ? batchItemFailures(
          outcome.result,
          all.map((r) => r.id),
        )
      : new Set<string>();
    if (failures === 'all') {
      this.stats.failed += kept.length;
      this.log(`${this.description}: malformed batchItemFailures; the whole batch is retried`);
      return;
    }
    this.stats.failed += failures.size;
    await this.delete(all.filter((r) => !failures.has(r.id)));
  }

  private async delete(entries: { id: string; receiptHandle: string }[]): Promise<void> {
    for (let i = 0; i < entries.length; i += 10) {
      const chunk = entries.slice(i, i + 10);
      const response = await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.config.queueUrl,
          Entries: chunk.map((e, n) => ({ Id: String(n), ReceiptHandle: e.receiptHandle })),
        }),
      );
      this.stats.deleted += response.Successful?.length ?? 0;
    }
  }
}

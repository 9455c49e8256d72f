import {
  type _Record,
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import type { CheckpointStore } from './checkpoints.js';
import { filterView, type Pattern, passes } from './filter.js';
import { batchItemFailures, type EventSource, type Invoker, type Log, sleep } from './types.js';

export interface StreamMappingConfig {
  readonly functionName: string;
  readonly streamArn: string;
  readonly region: string;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /** @default 100 */
  readonly batchSize?: number;
  readonly maxBatchingWindowSeconds?: number;
  readonly bisectBatchOnFunctionError?: boolean;
  /** -1 retries until the record expires. @default -1 */
  readonly maximumRetryAttempts?: number;
  /** -1 keeps records until they expire from the stream. @default -1 */
  readonly maximumRecordAgeInSeconds?: number;
  readonly reportBatchItemFailures?: boolean;
  readonly filters?: Pattern[];
  /** Sends the on-failure record (batch metadata, as Lambda does) to the destination. */
  readonly onFailure?: (record: unknown) => Promise<void>;
  /** Poll interval when the shard is idle. @default 200 */
  readonly idlePollMs?: number;
  /** Positions kept across restarts; without it every start begins at `startingPosition`. */
  readonly checkpoints?: CheckpointStore;
}

/** The DynamoDB Streams record shape Lambda delivers (creation time in epoch seconds). */
export function toLambdaRecord(r: _Record, streamArn: string, region: string) {
  const created = r.dynamodb?.ApproximateCreationDateTime;
  return {
    eventID: r.eventID,
    eventName: r.eventName,
    eventVersion: r.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: r.awsRegion ?? region,
    dynamodb: {
      ...r.dynamodb,
      ApproximateCreationDateTime: created instanceof Date ? Math.floor(created.getTime() / 1000) : created,
    },
    eventSourceARN: streamArn,
  };
}

type LambdaRecord = ReturnType<typeof toLambdaRecord>;

const seqOf = (r: LambdaRecord): string => r.dynamodb.SequenceNumber ?? '';

/**
 * Emulates a DynamoDB Streams event source mapping: one ordered loop per shard, batches of up to
 * `batchSize`, partial batch responses (retry from the first failed sequence number), bisection
 * of failing batches, bounded retries and record age, and an on-failure destination that receives
 * the batch's metadata when a batch is discarded. Filtered-out records are skipped.
 */
export class DynamoDbStreamEventSource implements EventSource {
  readonly description: string;
  private readonly abort = new AbortController();
  private readonly loops = new Map<string, Promise<void>>();
  private discovery?: Promise<void>;
  readonly stats = { invocations: 0, succeeded: 0, discarded: 0, filtered: 0 };

  constructor(
    private readonly config: StreamMappingConfig,
    private readonly fn: Invoker,
    private readonly streams: DynamoDBStreamsClient,
    private readonly log: Log,
  ) {
    this.description = `DynamoDB stream ${config.streamArn.split('/')[1] ?? config.streamArn} -> ${config.functionName}`;
  }

  start(): void {
    this.discovery = this.discover();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.discovery;
    await Promise.allSettled(this.loops.values());
  }

  private async discover(): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        const described = await this.streams.send(
          new DescribeStreamCommand({ StreamArn: this.config.streamArn }),
        );
        for (const shard of described.StreamDescription?.Shards ?? []) {
          if (shard.ShardId && !this.loops.has(shard.ShardId)) {
            this.loops.set(shard.ShardId, this.runShard(shard.ShardId));
          }
        }
      } catch (e) {
        this.log(`${this.description}: describe failed: ${(e as Error).message}`);
      }
      await sleep(5000, this.abort.signal);
    }
  }

  private async runShard(shardId: string): Promise<void> {
    const batchSize = this.config.batchSize ?? 100;
    const checkpointKey = `${this.config.streamArn}|${this.config.functionName}|${shardId}`;
    const resumeAfter = this.config.checkpoints?.get(checkpointKey);
    let iterator: string | undefined;
    if (resumeAfter) {
      iterator = await this.streams
        .send(
          new GetShardIteratorCommand({
            StreamArn: this.config.streamArn,
            ShardId: shardId,
            ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
            SequenceNumber: resumeAfter,
          }),
        )
        .then((r) => r.ShardIterator)
        .catch((e: Error) => {
          this.log(`${this.description}: cannot resume after ${resumeAfter} (${e.message}); starting over`);
          return undefined;
        });
    }
    iterator ??= (
      await this.streams.send(
        new GetShardIteratorCommand({
          StreamArn: this.config.streamArn,
          ShardId: shardId,
          ShardIteratorType: this.config.startingPosition,
        }),
      )
    ).ShardIterator;
    let buffer: LambdaRecord[] = [];
    while (!this.abort.signal.aborted) {
      if (iterator && buffer.length < batchSize) {
        try {
          const page = await this.streams.send(
            new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }),
          );
          iterator = page.NextShardIterator;
          buffer.push(
            ...(page.Records ?? []).map((r) => toLambdaRecord(r, this.config.streamArn, this.config.region)),
          );
        } catch (e) {
          this.log(`${this.description}: GetRecords failed: ${(e as Error).message}`);
          await sleep(1000, this.abort.signal);
          continue;
        }
      }
      if (buffer.length === 0) {
        if (!iterator) return; // closed shard, fully read
        await sleep(this.config.idlePollMs ?? 200, this.abort.signal);
        continue;
      }
      const windowMs = (this.config.maxBatchingWindowSeconds ?? 0) * 1000;
      if (windowMs > 0 && buffer.length < batchSize) await sleep(windowMs, this.abort.signal);
      const batch = buffer.slice(0, batchSize);
      try {
        const consumed = await this.process(batch);
        const last = batch[consumed - 1];
        if (last) this.config.checkpoints?.set(checkpointKey, seqOf(last));
        buffer = buffer.slice(consumed);
      } catch (e) {
        // Nothing is checkpointed: the same batch is tried again, and the shard loop lives on.
        this.log(`${this.description}: ${(e as Error).message}`);
        await sleep(1000, this.abort.signal);
      }
    }
  }

  /** Processes one batch to completion (success or discard); returns how many records it consumed. */
  private async process(batch: LambdaRecord[]): Promise<number> {
    const maxRetries = this.config.maximumRetryAttempts ?? -1;
    const maxAgeMs = (this.config.maximumRecordAgeInSeconds ?? -1) * 1000;
    // Work list of sub-batches still to deliver, in stream order.
    const work: { records: LambdaRecord[]; attempts: number }[] = [{ records: batch, attempts: 0 }];
    while (work.length > 0 && !this.abort.signal.aborted) {
      const item = work[0] as { records: LambdaRecord[]; attempts: number };
      if (maxAgeMs > 0) {
        const now = Date.now() / 1000;
        const expired = item.records.filter(
          (r) => now - Number(r.dynamodb.ApproximateCreationDateTime ?? now) > maxAgeMs / 1000,
        );
        if (expired.length > 0) {
          await this.discard(expired, 'RecordAgeExceeded');
          item.records = item.records.filter((r) => !expired.includes(r));
        }
      }
      const records = item.records.filter((r) => passes(this.config.filters, filterView(r, 'data')));
      this.stats.filtered += item.records.length - records.length;
      if (records.length === 0) {
        work.shift();
        continue;
      }
      this.stats.invocations++;
      const outcome = await this.fn.invoke({ Records: records });
      let failedFrom = -1;
      if (outcome.ok) {
        const failures = this.config.reportBatchItemFailures
          ? batchItemFailures(outcome.result, records.map(seqOf))
          : new Set<string>();
        if (failures === 'all') failedFrom = 0;
        else if (failures.size > 0) failedFrom = records.findIndex((r) => failures.has(seqOf(r)));
      } else {
        failedFrom = 0;
        this.log(`${this.description}: ${outcome.errorType}: ${outcome.errorMessage}`);
      }
      if (failedFrom === -1) {
        this.stats.succeeded += records.length;
        work.shift();
        continue;
      }
      // Checkpoint: what came before the first failure is done.
      this.stats.succeeded += failedFrom;
      const remaining = records.slice(failedFrom);
      if (this.config.bisectBatchOnFunctionError && remaining.length > 1) {
        const half = Math.ceil(remaining.length / 2);
        work.splice(
          0,
          1,
          { records: remaining.slice(0, half), attempts: item.attempts },
          { records: remaining.slice(half), attempts: item.attempts },
        );
        continue;
      }
      item.records = remaining;
      item.attempts++;
      if (maxRetries >= 0 && item.attempts > maxRetries) {
        await this.discard(remaining, 'RetryAttemptsExhausted');
        work.shift();
        continue;
      }
      await sleep(Math.min(5000, 100 * 2 ** item.attempts), this.abort.signal);
    }
    return batch.length;
  }

  private async discard(records: LambdaRecord[], condition: string): Promise<void> {
    this.stats.discarded += records.length;
    const first = records[0];
    const last = records[records.length - 1];
    const info = {
      requestContext: {
        requestId: crypto.randomUUID(),
        functionArn: this.config.functionName,
        condition,
        approximateInvokeCount: 1,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        shardId: undefined,
        startSequenceNumber: first ? seqOf(first) : undefined,
        endSequenceNumber: last ? seqOf(last) : undefined,
        approximateArrivalOfFirstRecord: first?.dynamodb.ApproximateCreationDateTime,
        approximateArrivalOfLastRecord: last?.dynamodb.ApproximateCreationDateTime,
        batchSize: records.length,
        streamArn: this.config.streamArn,
      },
    };
    this.log(`${this.description}: discarded ${records.length} record(s) (${condition})`);
    if (this.config.onFailure) await this.config.onFailure(info);
  }
}

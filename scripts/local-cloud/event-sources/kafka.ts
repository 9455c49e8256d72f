import { type Consumer, Kafka, logLevel } from 'kafkajs';
import { filterView, type Pattern, passes } from './filter.js';
import { type EventSource, type Invoker, type Log, sleep } from './types.js';

export interface KafkaMappingConfig {
  readonly functionName: string;
  /** MSK cluster ARN, or a self-managed event source id. */
  readonly eventSourceArn: string;
  readonly brokers: string[];
  readonly topics: string[];
  readonly consumerGroupId: string;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /** @default 100 */
  readonly batchSize?: number;
  readonly filters?: Pattern[];
  /** `aws:kafka` for MSK, `SelfManagedKafka` for self-managed. */
  readonly eventSource: 'aws:kafka' | 'SelfManagedKafka';
}

/** The record shape Lambda delivers for Kafka: key and value base64, headers as byte arrays. */
export function toKafkaRecord(
  topic: string,
  partition: number,
  m: {
    offset: string;
    timestamp: string;
    key: Buffer | null;
    value: Buffer | null;
    headers?: Record<string, unknown>;
  },
) {
  return {
    topic,
    partition,
    offset: Number(m.offset),
    timestamp: Number(m.timestamp),
    timestampType: 'CREATE_TIME',
    ...(m.key ? { key: m.key.toString('base64') } : {}),
    value: m.value ? m.value.toString('base64') : null,
    headers: Object.entries(m.headers ?? {}).map(([k, v]) => ({
      [k]: [...(Buffer.isBuffer(v) ? v : Buffer.from(String(v ?? '')))],
    })),
  };
}

/**
 * Emulates an MSK (or self-managed Kafka) event source mapping with a real consumer group:
 * batches of up to `batchSize` records per partition are delivered in offset order, and offsets
 * are committed only after the function succeeds. A failed batch is retried from its first
 * offset (the partition does not move on), as Lambda does for Kafka.
 */
export class KafkaEventSource implements EventSource {
  readonly description: string;
  private consumer?: Consumer;
  private stopping = false;
  private readonly abort = new AbortController();
  readonly stats = { invocations: 0, failures: 0, committed: 0 };

  constructor(
    private readonly config: KafkaMappingConfig,
    private readonly fn: Invoker,
    private readonly log: Log,
  ) {
    this.description = `Kafka ${config.topics.join(',')} (group ${config.consumerGroupId}) -> ${config.functionName}`;
  }

  start(): void {
    void this.run().catch((e: Error) => this.log(`${this.description}: ${e.message}`));
  }

  /** Resolves once the consumer has joined its group (useful before producing in tests). */
  ready?: Promise<void>;

  private async run(): Promise<void> {
    const kafka = new Kafka({
      clientId: `local-lambda-${this.config.functionName}`,
      brokers: this.config.brokers,
      logLevel: logLevel.NOTHING,
    });
    const consumer = kafka.consumer({
      groupId: this.config.consumerGroupId,
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
    });
    this.consumer = consumer;
    let joined: () => void = () => undefined;
    this.ready = new Promise((r) => {
      joined = r;
    });
    consumer.on(consumer.events.GROUP_JOIN, () => joined());
    await consumer.connect();
    for (const topic of this.config.topics) {
      await consumer.subscribe({ topic, fromBeginning: this.config.startingPosition === 'TRIM_HORIZON' });
    }
    const batchSize = this.config.batchSize ?? 100;
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({
        batch,
        resolveOffset,
        heartbeat,
        commitOffsetsIfNecessary,
        isRunning,
        isStale,
      }) => {
        const messages = batch.messages;
        for (let i = 0; i < messages.length && isRunning() && !isStale(); i += batchSize) {
          const chunk = messages.slice(i, i + batchSize);
          const records = chunk
            .map((m) => toKafkaRecord(batch.topic, batch.partition, m))
            .filter((r) =>
              passes(this.config.filters, filterView(r as unknown as Record<string, unknown>, 'value')),
            );
          if (records.length > 0) {
            this.stats.invocations++;
            const outcome = await this.fn.invoke({
              eventSource: this.config.eventSource,
              eventSourceArn: this.config.eventSourceArn,
              bootstrapServers: this.config.brokers.join(','),
              records: { [`${batch.topic}-${batch.partition}`]: records },
            });
            if (!outcome.ok) {
              this.stats.failures++;
              this.log(
                `${this.description}: ${outcome.errorType}: ${outcome.errorMessage}; retrying from offset ${chunk[0]?.offset}`,
              );
              // Do not commit: seek back so the same records come again, after a pause.
              consumer.seek({
                topic: batch.topic,
                partition: batch.partition,
                offset: chunk[0]?.offset ?? '0',
              });
              await sleep(1000, this.abort.signal);
              return;
            }
          }
          const last = chunk[chunk.length - 1];
          if (last) {
            resolveOffset(last.offset);
            await commitOffsetsIfNecessary({
              topics: [
                {
                  topic: batch.topic,
                  partitions: [{ partition: batch.partition, offset: String(Number(last.offset) + 1) }],
                },
              ],
            });
            this.stats.committed += chunk.length;
          }
          await heartbeat();
        }
      },
    });
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.abort.abort();
    await this.consumer?.disconnect().catch(() => undefined);
  }
}

import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { type EventSource, type Invoker, type Log, sleep } from './types.js';

export interface RabbitMappingConfig {
  readonly functionName: string;
  /** Amazon MQ broker ARN. */
  readonly eventSourceArn: string;
  /** amqp URL of the local broker, credentials included. */
  readonly url: string;
  readonly queue: string;
  /** @default '/' */
  readonly virtualHost?: string;
  /** @default 100 */
  readonly batchSize?: number;
  /** @default 0.5 */
  readonly maxBatchingWindowSeconds?: number;
}

/** The message shape Lambda delivers for Amazon MQ for RabbitMQ. */
export function toRabbitRecord(m: ConsumeMessage) {
  const p = m.properties;
  return {
    basicProperties: {
      contentType: p.contentType ?? null,
      contentEncoding: p.contentEncoding ?? null,
      headers: p.headers ?? {},
      deliveryMode: p.deliveryMode ?? null,
      priority: p.priority ?? null,
      correlationId: p.correlationId ?? null,
      replyTo: p.replyTo ?? null,
      expiration: p.expiration ?? null,
      messageId: p.messageId ?? null,
      timestamp: p.timestamp ?? null,
      type: p.type ?? null,
      userId: p.userId ?? null,
      appId: p.appId ?? null,
      clusterId: p.clusterId ?? null,
      bodySize: m.content.length,
    },
    redelivered: m.fields.redelivered,
    data: m.content.toString('base64'),
  };
}

/**
 * Emulates the Amazon MQ (RabbitMQ) event source: consumes a queue with a prefetch of the batch
 * size, delivers batches keyed `queue::vhost`, acks only after the function succeeds, and
 * requeues the batch when it fails.
 */
export class RabbitMqEventSource implements EventSource {
  readonly description: string;
  private connection?: ChannelModel;
  private channel?: Channel;
  private pending: ConsumeMessage[] = [];
  private flushing = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private stopped = false;
  readonly stats = { invocations: 0, acked: 0, requeued: 0 };

  constructor(
    private readonly config: RabbitMappingConfig,
    private readonly fn: Invoker,
    private readonly log: Log,
  ) {
    this.description = `RabbitMQ ${config.queue} (${config.virtualHost ?? '/'}) -> ${config.functionName}`;
  }

  start(): void {
    void this.connect().catch((e: Error) => this.log(`${this.description}: ${e.message}`));
  }

  private async connect(): Promise<void> {
    const vhost = this.config.virtualHost ?? '/';
    const url = new URL(this.config.url);
    url.pathname = `/${encodeURIComponent(vhost)}`;
    while (!this.stopped) {
      try {
        this.connection = await amqp.connect(url.toString());
        break;
      } catch (e) {
        this.log(`${this.description}: connect failed (${(e as Error).message}); retrying`);
        await sleep(2000);
      }
    }
    if (!this.connection) return;
    const channel = await this.connection.createChannel();
    this.channel = channel;
    await channel.prefetch(this.config.batchSize ?? 100);
    await channel.consume(this.config.queue, (m) => {
      if (!m) return;
      this.pending.push(m);
      if (this.pending.length >= (this.config.batchSize ?? 100)) this.schedule(0);
      else this.schedule((this.config.maxBatchingWindowSeconds ?? 0.5) * 1000);
    });
  }

  private schedule(delayMs: number): void {
    if (this.timer && delayMs > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // A failed flush must not break the chain: later batches still flush.
      this.flushing = this.flushing
        .then(() => this.flush())
        .catch((e: Error) => this.log(`${this.description}: ${e.message}`));
    }, delayMs);
  }

  private async flush(): Promise<void> {
    const batch = this.pending.splice(0, this.config.batchSize ?? 100);
    const channel = this.channel;
    if (batch.length === 0 || !channel) return;
    this.stats.invocations++;
    const key = `${this.config.queue}::${this.config.virtualHost ?? '/'}`;
    const outcome = await this.fn.invoke({
      eventSource: 'aws:rmq',
      eventSourceArn: this.config.eventSourceArn,
      rmqMessagesByQueue: { [key]: batch.map(toRabbitRecord) },
    });
    const last = batch[batch.length - 1] as ConsumeMessage;
    if (outcome.ok) {
      channel.ack(last, true);
      this.stats.acked += batch.length;
    } else {
      this.log(
        `${this.description}: ${outcome.errorType}: ${outcome.errorMessage}; requeueing ${batch.length}`,
      );
      await sleep(1000);
      channel.nack(last, true, true);
      this.stats.requeued += batch.length;
    }
    if (this.pending.length > 0) this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.flushing;
    await this.channel?.close().catch(() => undefined);
    await this.connection?.close().catch(() => undefined);
  }
}

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

/** Lambda's limit on an invocation's payload: a batch stops before it (a lone larger message goes alone). */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** Deeper header tables than this are cut (amqplib decodes any depth the broker allows). */
const MAX_HEADER_DEPTH = 32;

/**
 * A header value as JSON can carry it, whatever its AMQP type: byte arrays as `{bytes}` (the form
 * Lambda uses for binary-looking values), 64-bit integers beyond 2^53 and non-finite floats as
 * strings, decimals as amqplib decodes them (`{'!': 'decimal', value}`), tables and arrays walked.
 * So the invocation's payload is always JSON, and what the function sees does not depend on luck.
 */
export function jsonSafeHeaderValue(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return { bytes: [...value] };
  if (value instanceof Uint8Array) return { bytes: [...value] };
  if (typeof value === 'bigint')
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value !== 'object') return String(value);
  if (depth >= MAX_HEADER_DEPTH) return '(nested too deep)';
  if (Array.isArray(value)) return value.map((v) => jsonSafeHeaderValue(v, depth + 1));
  // Own entries into a prototype-less object: a header named `__proto__` stays a header.
  const out: Record<string, unknown> = Object.create(null);
  for (const [k, v] of Object.entries(value)) out[k] = jsonSafeHeaderValue(v, depth + 1);
  return out;
}

/** The message shape Lambda delivers for Amazon MQ for RabbitMQ. */
export function toRabbitRecord(m: ConsumeMessage) {
  const p = m.properties;
  return {
    basicProperties: {
      contentType: p.contentType ?? null,
      contentEncoding: p.contentEncoding ?? null,
      headers: jsonSafeHeaderValue(p.headers ?? {}),
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
 * requeues the batch when it fails: all or nothing per batch, as the real service (the function
 * dead-letters a bad message itself; the queue's delivery limit bounds a batch that keeps failing).
 *
 * It never crashes on what the broker sends or does: any message (headers of any AMQP type, binary
 * bodies) becomes JSON; a batch stops before Lambda's 6 MB payload; a connection or channel that
 * errors or closes (a broker restart, a refused ack) is logged and reopened, and the messages it
 * held are redelivered by the broker, as it does for any consumer that goes away.
 */
export class RabbitMqEventSource implements EventSource {
  readonly description: string;
  private connection?: ChannelModel;
  private channel?: Channel;
  private pending: ConsumeMessage[] = [];
  private flushing = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private connecting = false;
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
    this.connecting = true;
    try {
      await this.openWithRetries(url.toString());
    } finally {
      this.connecting = false;
    }
  }

  private async openWithRetries(url: string): Promise<void> {
    while (!this.stopped) {
      try {
        await this.open(url);
        return;
      } catch (e) {
        await this.connection?.close().catch(() => undefined);
        this.connection = undefined;
        this.channel = undefined;
        this.log(`${this.description}: connect failed (${(e as Error).message}); retrying`);
        await sleep(2000);
      }
    }
  }

  private async open(url: string): Promise<void> {
    if (this.stopped) return;
    const connection = await amqp.connect(url);
    this.connection = connection;
    // Without listeners an 'error' event would end the process.
    connection.on('error', (e: Error) => this.log(`${this.description}: connection error: ${e.message}`));
    connection.on('close', () => this.lost(connection, 'connection closed'));
    const channel = await connection.createChannel();
    channel.on('error', (e: Error) => this.log(`${this.description}: channel error: ${e.message}`));
    channel.on('close', () => this.lost(connection, 'channel closed'));
    this.channel = channel;
    await channel.prefetch(this.config.batchSize ?? 100);
    await channel.consume(this.config.queue, (m) => {
      // null: the broker cancelled the consumer (the queue was deleted): start over.
      if (!m) return this.lost(connection, 'consumer cancelled by the broker');
      this.pending.push(m);
      if (this.pending.length >= (this.config.batchSize ?? 100)) this.schedule(0);
      else this.schedule((this.config.maxBatchingWindowSeconds ?? 0.5) * 1000);
    });
  }

  /** The session is gone: its unacknowledged messages return to the queue; open a new one. */
  private lost(connection: ChannelModel, why: string): void {
    // While connecting, the connect loop owns failures (and retries).
    if (this.connecting || this.connection !== connection) return;
    this.connection = undefined;
    this.channel = undefined;
    // Their delivery tags belong to the closed channel; the broker redelivers them.
    this.pending = [];
    void connection.close().catch(() => undefined);
    if (this.stopped) return;
    this.log(`${this.description}: ${why}; reconnecting`);
    void sleep(1000)
      .then(() => this.connect())
      .catch((e: Error) => this.log(`${this.description}: ${e.message}`));
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

  /** The next batch: up to the batch size, and within Lambda's payload limit. */
  private nextBatch(): { messages: ConsumeMessage[]; records: ReturnType<typeof toRabbitRecord>[] } {
    const limit = this.config.batchSize ?? 100;
    const messages: ConsumeMessage[] = [];
    const records: ReturnType<typeof toRabbitRecord>[] = [];
    let bytes = 0;
    while (messages.length < limit && this.pending.length > 0) {
      const record = toRabbitRecord(this.pending[0] as ConsumeMessage);
      const size = Buffer.byteLength(JSON.stringify(record), 'utf8');
      if (messages.length > 0 && bytes + size > MAX_PAYLOAD_BYTES) break;
      messages.push(this.pending.shift() as ConsumeMessage);
      records.push(record);
      bytes += size;
    }
    return { messages, records };
  }

  private async flush(): Promise<void> {
    const channel = this.channel;
    if (!channel || this.pending.length === 0) return;
    const { messages: batch, records } = this.nextBatch();
    this.stats.invocations++;
    const key = `${this.config.queue}::${this.config.virtualHost ?? '/'}`;
    const outcome = await this.fn.invoke({
      eventSource: 'aws:rmq',
      eventSourceArn: this.config.eventSourceArn,
      rmqMessagesByQueue: { [key]: records },
    });
    try {
      if (outcome.ok) {
        for (const m of batch) channel.ack(m);
        this.stats.acked += batch.length;
      } else {
        this.log(
          `${this.description}: ${outcome.errorType}: ${outcome.errorMessage}; requeueing ${batch.length}`,
        );
        await sleep(1000);
        for (const m of batch) channel.nack(m, false, true);
        this.stats.requeued += batch.length;
      }
    } catch (e) {
      // The channel closed meanwhile: the broker redelivers the batch to the next session.
      this.log(`${this.description}: batch not settled (${(e as Error).message}); the broker redelivers it`);
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

/**
 * Reads what the ledger checks out of the durable stores of the local cloud: the event store, the
 * orders read model, the inventory table and the e-mail markers (DynamoDB on moto), the queues
 * (SQS, the Redis e-mail queue, RabbitMQ), and the records of the test e-mail provider. Resource
 * names come from the synthesized templates, named the way the local cloud provisions them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { Redis } from 'ioredis';
import { RedisPriorityQueue } from '../../lambdas/commons/redis/priority-queue.js';
import type { EngineEndpoints } from '../lib/engines.js';
import { physicalName } from '../local-cloud/provision.js';
import type { EmailMarker, EmailSend, OrderViewRow, ReservationRow, StoredEvent } from './ledger.js';

interface TemplateResource {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  readonly properties: Record<string, unknown>;
}

export interface Resources {
  readonly tables: { eventStore: string; ordersView: string; inventory: string; operationalState: string };
  /**
   * Work queues and dead-letter queues by logical id (without the hash); `consumed`: an event source
   * mapping drains it (a reply queue read only by waiting requests is not).
   */
  readonly queues: { name: string; label: string; deadLetter: boolean; consumed: boolean }[];
}

const withoutHash = (logicalId: string) => logicalId.replace(/[0-9A-F]{8}$/, '');

/** The local cloud's names of the tables and queues the ledger reads. */
export function resourcesOf(assemblyDir: string): Resources {
  const found: TemplateResource[] = [];
  for (const file of readdirSync(assemblyDir).filter((f) => f.endsWith('.template.json'))) {
    const stack = file.replace(/\.template\.json$/, '');
    const template = JSON.parse(readFileSync(join(assemblyDir, file), 'utf8')) as {
      Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
    };
    for (const [logicalId, r] of Object.entries(template.Resources ?? {})) {
      found.push({ stack, logicalId, type: r.Type, properties: r.Properties ?? {} });
    }
  }
  const table = (prefix: string) => {
    const r = found.find((x) => x.type === 'AWS::DynamoDB::Table' && withoutHash(x.logicalId) === prefix);
    if (!r) throw new Error(`no table ${prefix} in ${assemblyDir}`);
    return physicalName(r.stack, r.logicalId, 255);
  };
  const consumed = new Set(
    found
      .filter((x) => x.type === 'AWS::Lambda::EventSourceMapping')
      .map((x) => {
        const arn = x.properties.EventSourceArn as { 'Fn::GetAtt'?: [string, string] } | undefined;
        return `${x.stack}/${arn?.['Fn::GetAtt']?.[0] ?? ''}`;
      }),
  );
  return {
    tables: {
      eventStore: table('EventStoreTable'),
      ordersView: table('OrdersViewTable'),
      inventory: table('InventoryTable'),
      operationalState: table('OperationalStateTable'),
    },
    queues: found
      .filter((x) => x.type === 'AWS::SQS::Queue')
      .map((x) => ({
        name: physicalName(x.stack, x.logicalId, 80),
        label: withoutHash(x.logicalId),
        deadLetter: /DeadLetter|Failures/.test(x.logicalId),
        consumed: consumed.has(`${x.stack}/${x.logicalId}`),
      })),
  };
}

export interface QueueDepth {
  readonly label: string;
  readonly deadLetter: boolean;
  readonly consumed: boolean;
  /** Visible + in flight + delayed. */
  readonly messages: number;
}

export class Stores {
  readonly #doc: DynamoDBDocumentClient;
  readonly #sqs: SQSClient;
  readonly #urls = new Map<string, string>();

  constructor(
    readonly resources: Resources,
    private readonly endpoints: EngineEndpoints,
  ) {
    const aws = {
      endpoint: endpoints.awsEndpointUrl,
      region: process.env.AWS_REGION ?? 'us-east-1',
      credentials: {
        accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
        secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
      },
    };
    this.#doc = DynamoDBDocumentClient.from(new DynamoDBClient(aws));
    this.#sqs = new SQSClient(aws);
  }

  async #scan(table: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.#doc.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
      items.push(...((page.Items ?? []) as Record<string, unknown>[]));
      start = page.LastEvaluatedKey as Record<string, unknown> | undefined;
    } while (start);
    return items;
  }

  /** The events of the orders placed with the run's keys, and of the run's customers. */
  async events(runPrefix: string, customers: readonly string[]): Promise<StoredEvent[]> {
    const items = (await this.#scan(this.resources.tables.eventStore)).filter(
      (i) => i.recordType !== 'snapshot',
    );
    const events = items.map(
      (i): StoredEvent => ({
        aggregateId: String(i.aggregateId),
        version: Number(i.version),
        eventId: String(i.eventId),
        type: String(i.type),
        ...(typeof i.correlationId === 'string' ? { correlationId: i.correlationId } : {}),
        ...(i.data && typeof i.data === 'object' ? { data: i.data as Record<string, unknown> } : {}),
      }),
    );
    const ours = new Set(customers);
    for (const e of events) {
      if (e.type === 'OrderPlaced' && e.correlationId?.startsWith(runPrefix)) ours.add(e.aggregateId);
    }
    return events.filter((e) => ours.has(e.aggregateId));
  }

  async views(orderIds: ReadonlySet<string>): Promise<OrderViewRow[]> {
    return (await this.#scan(this.resources.tables.ordersView))
      .filter((i) => orderIds.has(String(i.orderId)))
      .map((i) => ({ orderId: String(i.orderId), status: String(i.status), version: Number(i.version) }));
  }

  async inventory(skus: readonly string[], orderIds: ReadonlySet<string>) {
    const items = await this.#scan(this.resources.tables.inventory);
    const available = new Map<string, number>();
    const reservations: ReservationRow[] = [];
    for (const item of items) {
      const sku = String(item.sku);
      if (skus.includes(sku)) available.set(sku, Number(item.available));
      if (sku.startsWith('reservation#') && orderIds.has(sku.slice('reservation#'.length))) {
        // A reservation marked released (rather than deleted) does not hold stock.
        if (item.releasedAt !== undefined || item.status === 'released') continue;
        reservations.push({
          orderId: sku.slice('reservation#'.length),
          items: (item.items ?? []) as { sku: string; quantity: number }[],
        });
      }
    }
    return { available, reservations };
  }

  async emailMarkers(subjects: ReadonlySet<string>): Promise<EmailMarker[]> {
    return (await this.#scan(this.resources.tables.operationalState))
      .filter((i) => {
        const key = String(i.pk);
        return key.startsWith('email#') && subjects.has(key.split('#')[1] ?? '');
      })
      .map((i) => ({ key: String(i.pk), ...(typeof i.status === 'string' ? { status: i.status } : {}) }));
  }

  async #url(name: string): Promise<string> {
    let url = this.#urls.get(name);
    if (!url) {
      url = (await this.#sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl ?? '';
      this.#urls.set(name, url);
    }
    return url;
  }

  async queueDepths(): Promise<QueueDepth[]> {
    return Promise.all(
      this.resources.queues.map(async (q) => {
        try {
          const { Attributes = {} } = await this.#sqs.send(
            new GetQueueAttributesCommand({ QueueUrl: await this.#url(q.name), AttributeNames: ['All'] }),
          );
          const n = (k: keyof typeof Attributes) => Number(Attributes[k] ?? 0);
          return {
            label: q.label,
            deadLetter: q.deadLetter,
            consumed: q.consumed,
            messages:
              n('ApproximateNumberOfMessages') +
              n('ApproximateNumberOfMessagesNotVisible') +
              n('ApproximateNumberOfMessagesDelayed'),
          };
        } catch {
          return { label: q.label, deadLetter: q.deadLetter, consumed: q.consumed, messages: 0 };
        }
      }),
    );
  }

  /**
   * Every message of a dead-letter queue (up to `max`), with its reason, without consuming them:
   * received with a visibility timeout so that each is seen once, then made visible again.
   */
  async deadLetterMessages(label: string, max = 5000): Promise<{ reason: string; body: string }[]> {
    const queue = this.resources.queues.find((q) => q.label === label);
    if (!queue) return [];
    const url = await this.#url(queue.name);
    const seen: { reason: string; body: string; handle: string }[] = [];
    try {
      let failures = 0;
      while (seen.length < max) {
        // moto answers 500 to a receive whose batch holds a body it cannot encode (a lone UTF-16
        // surrogate, as the hostile tests send): those messages are hidden by the failed receive
        // anyway, so the next receive moves on; only a run of failures ends the read.
        const received = await this.#sqs
          .send(
            new ReceiveMessageCommand({
              QueueUrl: url,
              MaxNumberOfMessages: 10,
              VisibilityTimeout: 120,
              MessageAttributeNames: ['All'],
            }),
          )
          .then(
            (r) => r.Messages ?? [],
            () => undefined,
          );
        if (received === undefined) {
          if (++failures > 20) break;
          continue;
        }
        failures = 0;
        const Messages = received;
        if (Messages.length === 0) break;
        for (const m of Messages) {
          seen.push({
            reason: m.MessageAttributes?.reason?.StringValue ?? '(no reason)',
            body: m.Body ?? '',
            handle: m.ReceiptHandle ?? '',
          });
        }
      }
    } finally {
      for (let i = 0; i < seen.length; i += 10) {
        await this.#sqs
          .send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: url,
              Entries: seen
                .slice(i, i + 10)
                .map((m, j) => ({ Id: String(j), ReceiptHandle: m.handle, VisibilityTimeout: 0 })),
            }),
          )
          .catch(() => undefined);
      }
    }
    return seen.map(({ reason, body }) => ({ reason, body }));
  }

  /** The Redis e-mail queue: pending and leased tasks, and the dead letters about `subjects`. */
  async emailQueue(subjects: ReadonlySet<string>): Promise<{ busy: number; deadLetters: string[] }> {
    const redis = new Redis(this.endpoints.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      const queue = new RedisPriorityQueue<{ key?: string }>(redis, 'notifications:emails');
      const size = await queue.size();
      const dead = await queue.deadLetters(10_000);
      return {
        busy: size.pending + size.inFlight,
        deadLetters: dead
          .filter((d) => subjects.has(String(d.task?.key ?? d.id).split('#')[1] ?? ''))
          .map((d) => `${d.task?.key ?? d.id}: ${d.reason}`),
      };
    } finally {
      redis.disconnect();
    }
  }

  /** RabbitMQ queues that have a consumer and still hold messages. */
  async rabbitBacklog(): Promise<{ queue: string; messages: number }[]> {
    const amqp = new URL(this.endpoints.rabbitmqUrl);
    const auth = Buffer.from(
      `${decodeURIComponent(amqp.username || 'guest')}:${decodeURIComponent(amqp.password || 'guest')}`,
    ).toString('base64');
    const response = await fetch(`${this.endpoints.rabbitmqManagementUrl}/api/queues`, {
      headers: { authorization: `Basic ${auth}` },
      signal: AbortSignal.timeout(5000),
    });
    if (!response.ok) throw new Error(`RabbitMQ management answered ${response.status}`);
    const queues = (await response.json()) as {
      name: string;
      vhost: string;
      consumers?: number;
      messages?: number;
    }[];
    return queues
      .filter((q) => (q.consumers ?? 0) > 0 && (q.messages ?? 0) > 0)
      .map((q) => ({ queue: `rabbitmq ${q.vhost}${q.name}`, messages: q.messages ?? 0 }));
  }
}

/**
 * The test e-mail provider's records: it keeps what it accepted in memory only, so the durable trace
 * is the notification functions' "E-mail sent" log line (type and correlation id), written once the
 * provider accepted the e-mail. Read from the local cloud's log of this run.
 */
export function emailSendsFromLog(logFile: string): EmailSend[] {
  const sends: EmailSend[] = [];
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('E-mail sent')) continue;
    const brace = line.indexOf('{');
    if (brace < 0) continue;
    try {
      const record = JSON.parse(line.slice(brace)) as {
        message?: string;
        type?: string;
        correlationId?: string;
      };
      if (record.message !== 'E-mail sent' || typeof record.type !== 'string') continue;
      sends.push({
        type: record.type,
        ...(record.correlationId ? { correlationId: record.correlationId } : {}),
      });
    } catch {
      // Not a JSON log line.
    }
  }
  return sends;
}

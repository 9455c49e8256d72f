import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { KafkaEventSource } from '../../../scripts/local-cloud/event-sources/kafka.js';
import { RabbitMqEventSource } from '../../../scripts/local-cloud/event-sources/rabbitmq.js';
import type {
  EventSource,
  InvokeOutcome,
  Invoker,
} from '../../../scripts/local-cloud/event-sources/types.js';
import { eventually } from '../eventually.js';

/** A function stand-in that fails its first `failures` invocations and records every event. */
function scriptedFunction(failures: number): Invoker & { events: unknown[] } {
  let calls = 0;
  const events: unknown[] = [];
  return {
    events,
    async invoke(event: unknown): Promise<InvokeOutcome> {
      events.push(event);
      calls++;
      return calls <= failures
        ? {
            ok: false,
            kind: 'error',
            errorType: 'Error',
            errorMessage: 'scripted failure',
            requestId: `r${calls}`,
          }
        : { ok: true, result: null, requestId: `r${calls}` };
    },
  };
}

const running: EventSource[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

describe('Kafka event source (MSK emulation)', () => {
  it('delivers the Lambda Kafka event shape and commits offsets only after the function succeeds', async () => {
    // GIVEN a topic with three keyed records, and a function that fails its first invocation
    const { kafkaBrokers } = inject('engines');
    const kafka = new Kafka({ clientId: 'test', brokers: kafkaBrokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const topic = `esm-${randomUUID()}`;
    const groupId = `group-${randomUUID()}`;
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: ['a', 'b', 'c'].map((v) => ({
        key: 'user-1',
        value: JSON.stringify({ v }),
        headers: { h: 'x' },
      })),
    });
    await producer.disconnect();
    const fn = scriptedFunction(1);
    const committed = async () =>
      Number((await admin.fetchOffsets({ groupId, topics: [topic] }))[0]?.partitions[0]?.offset ?? -1);

    // WHEN the mapping runs
    const source = new KafkaEventSource(
      {
        functionName: 'fn',
        eventSourceArn: 'arn:aws:kafka:us-east-1:123456789012:cluster/local/x',
        brokers: kafkaBrokers,
        topics: [topic],
        consumerGroupId: groupId,
        startingPosition: 'TRIM_HORIZON',
        batchSize: 10,
        eventSource: 'aws:kafka',
      },
      fn,
      () => undefined,
    );
    running.push(source);
    source.start();

    // THEN the failed first delivery left the offset uncommitted, and the retry committed all three
    await eventually(() => (fn.events.length >= 1 ? true : undefined));
    expect([-1, 0]).toContain(await committed());
    await eventually(async () => ((await committed()) === 3 ? true : undefined));
    expect(fn.events.length).toBe(2);
    const event = fn.events[1] as {
      eventSource: string;
      records: Record<string, { key: string; value: string; offset: number }[]>;
    };
    expect(event.eventSource).toBe('aws:kafka');
    const records = event.records[`${topic}-0`] ?? [];
    expect(records.map((r) => r.offset)).toEqual([0, 1, 2]);
    expect(Buffer.from(records[0]?.key ?? '', 'base64').toString()).toBe('user-1');
    expect(JSON.parse(Buffer.from(records[2]?.value ?? '', 'base64').toString())).toEqual({ v: 'c' });
    await admin.disconnect();
  }, 60_000);
});

describe('RabbitMQ event source (Amazon MQ emulation)', () => {
  it('delivers a batch keyed queue::vhost, requeues it when the function fails, and acks after success', async () => {
    // GIVEN a durable queue with three persistent messages
    const { rabbitmqUrl } = inject('engines');
    const connection = await amqp.connect(rabbitmqUrl);
    const channel = await connection.createConfirmChannel();
    const queue = `esm-${randomUUID()}`;
    await channel.assertQueue(queue, { durable: true });
    for (const n of [1, 2, 3])
      channel.sendToQueue(queue, Buffer.from(JSON.stringify({ n })), {
        persistent: true,
        messageId: `m${n}`,
      });
    await channel.waitForConfirms();
    const fn = scriptedFunction(1);

    // WHEN the mapping runs with a batch of 10
    const source = new RabbitMqEventSource(
      {
        functionName: 'fn',
        eventSourceArn: 'arn:aws:mq:x',
        url: rabbitmqUrl,
        queue,
        batchSize: 10,
        maxBatchingWindowSeconds: 0.3,
      },
      fn,
      () => undefined,
    );
    running.push(source);
    source.start();

    // THEN the first batch fails and comes back redelivered; after success the queue is empty
    await eventually(() => (fn.events.length >= 2 ? true : undefined));
    const [first, second] = fn.events as {
      rmqMessagesByQueue: Record<string, { redelivered: boolean; data: string }[]>;
    }[];
    const key = `${queue}::/`;
    expect(
      first?.rmqMessagesByQueue[key]?.map((m) => JSON.parse(Buffer.from(m.data, 'base64').toString()).n),
    ).toEqual([1, 2, 3]);
    expect(second?.rmqMessagesByQueue[key]?.every((m) => m.redelivered)).toBe(true);
    await eventually(async () => ((await channel.checkQueue(queue)).messageCount === 0 ? true : undefined));
    await source.stop();
    expect((await channel.checkQueue(queue)).messageCount).toBe(0);
    await channel.deleteQueue(queue);
    await connection.close();
  }, 60_000);
});

/**
 * The local cloud's Amazon MQ (RabbitMQ) event source on the real broker, with odd messages: any
 * AMQP header type and binary bodies reach the function as JSON (never a crash), the batch stays
 * all-or-nothing as Lambda's, and the source survives the broker cancelling its consumer.
 */
import { randomUUID } from 'node:crypto';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { RabbitMqEventSource } from '../../../scripts/local-cloud/event-sources/rabbitmq.js';
import type { InvokeOutcome, Invoker } from '../../../scripts/local-cloud/event-sources/types.js';
import { eventually } from '../eventually.js';

interface Delivered {
  basicProperties: { headers: Record<string, unknown>; messageId: string | null };
  data: string;
  redelivered: boolean;
}

/** A function stand-in: records every event as JSON (what Lambda would get), fails when told. */
function recordingFunction(
  fail: (call: number) => boolean = () => false,
): Invoker & { events: Delivered[][] } {
  let calls = 0;
  const events: Delivered[][] = [];
  return {
    events,
    async invoke(event: unknown): Promise<InvokeOutcome> {
      calls++;
      // What crosses to a real function is JSON: it must survive the trip.
      const json = JSON.parse(JSON.stringify(event)) as { rmqMessagesByQueue: Record<string, Delivered[]> };
      events.push(Object.values(json.rmqMessagesByQueue).flat());
      return fail(calls)
        ? { ok: false, kind: 'error', errorType: 'Error', errorMessage: 'scripted', requestId: `r${calls}` }
        : { ok: true, result: null, requestId: `r${calls}` };
    },
  };
}

describe('RabbitMQ event source with odd messages', () => {
  const { rabbitmqUrl } = inject('engines');
  let connection: ChannelModel;
  let channel: ConfirmChannel;
  let queue: string;
  const sources: RabbitMqEventSource[] = [];
  const logs: string[] = [];

  beforeEach(async () => {
    connection = await amqp.connect(rabbitmqUrl);
    channel = await connection.createConfirmChannel();
    queue = `odd-${randomUUID()}`;
    await channel.assertQueue(queue, { durable: true });
  });

  afterEach(async () => {
    for (const s of sources.splice(0)) await s.stop();
    await channel.deleteQueue(queue).catch(() => undefined);
    await connection.close().catch(() => undefined);
  });

  const start = (fn: Invoker) => {
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
      (line) => logs.push(line),
    );
    sources.push(source);
    source.start();
    return source;
  };

  it('delivers headers of every AMQP type and binary bodies as JSON, then acks the batch', async () => {
    // GIVEN messages with headers of every type amqplib encodes and bodies that are not text
    channel.sendToQueue(queue, Buffer.from([0xff, 0xfe, 0x00, 0x80]), {
      messageId: 'binary',
      headers: {
        long: { '!': 'long', value: 2 ** 40 },
        int64: { '!': 'int64', value: -1 },
        double: { '!': 'double', value: 1.5 },
        float: { '!': 'float', value: 0.25 },
        byte: { '!': 'byte', value: -3 },
        timestamp: { '!': 'timestamp', value: 1_700_000_000 },
        decimal: { '!': 'decimal', value: { places: 2, digits: 12345 } },
        bytes: Buffer.from([1, 2, 255]),
        table: { nested: { deeper: ['a', 1, true, null] } },
        array: [1, 'two', { three: 3 }],
        bool: false,
        void: null,
        // An own header named __proto__ (a literal would set the prototype instead).
        ...JSON.parse('{"__proto__": "a header named __proto__"}'),
      },
    });
    channel.sendToQueue(queue, Buffer.alloc(0), { messageId: 'empty' });
    channel.sendToQueue(queue, Buffer.from('x'.repeat(200_000)), {
      messageId: 'big-header',
      headers: { huge: 'h'.repeat(60_000) },
    });
    await channel.waitForConfirms();
    const fn = recordingFunction();

    // WHEN the mapping runs
    start(fn);

    // THEN all three arrive in JSON, bodies byte for byte, and the queue is emptied
    const delivered = await eventually(() => {
      const all = fn.events.flat();
      return all.length >= 3 ? all : undefined;
    });
    const byId = Object.fromEntries(delivered.map((m) => [m.basicProperties.messageId, m]));
    expect([...Buffer.from(byId.binary?.data ?? '', 'base64')]).toEqual([0xff, 0xfe, 0x00, 0x80]);
    expect(byId.empty?.data).toBe('');
    const headers = byId.binary?.basicProperties.headers ?? {};
    expect(headers.long).toBe(2 ** 40);
    expect(headers.bytes).toEqual({ bytes: [1, 2, 255] });
    expect(headers.table).toEqual({ nested: { deeper: ['a', 1, true, null] } });
    // (amqplib's decoder drops a header named __proto__ itself; what matters is that nothing breaks.)
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect(byId['big-header']?.basicProperties.headers.huge).toHaveLength(60_000);
    await eventually(async () => ((await channel.checkQueue(queue)).messageCount === 0 ? true : undefined));
  });

  it('is all or nothing per batch, as Lambda: a failed invocation redelivers every message of it', async () => {
    for (const n of [1, 2, 3]) channel.sendToQueue(queue, Buffer.from(String(n)), { messageId: `m${n}` });
    await channel.waitForConfirms();
    const fn = recordingFunction((call) => call === 1);
    start(fn);
    await eventually(() => (fn.events.flat().length >= 6 ? true : undefined));
    const [first, ...rest] = fn.events;
    expect(first?.map((m) => m.basicProperties.messageId)).toEqual(['m1', 'm2', 'm3']);
    const again = rest.flat();
    expect(again.map((m) => m.basicProperties.messageId).sort()).toEqual(['m1', 'm2', 'm3']);
    expect(again.every((m) => m.redelivered)).toBe(true);
    await eventually(async () => ((await channel.checkQueue(queue)).messageCount === 0 ? true : undefined));
  });

  it('survives the broker cancelling its consumer (queue deleted and declared again)', async () => {
    const fn = recordingFunction();
    start(fn);
    await eventually(async () => ((await channel.checkQueue(queue)).consumerCount === 1 ? true : undefined));
    await channel.deleteQueue(queue);
    await channel.assertQueue(queue, { durable: true });
    channel.sendToQueue(queue, Buffer.from('after'), { messageId: 'after' });
    await channel.waitForConfirms();
    const delivered = await eventually(
      () => fn.events.flat().find((m) => m.basicProperties.messageId === 'after'),
      30_000,
    );
    expect(Buffer.from(delivered.data, 'base64').toString()).toBe('after');
    expect(logs.some((l) => /consumer cancelled by the broker; reconnecting/.test(l))).toBe(true);
  });
});

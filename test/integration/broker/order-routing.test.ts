import { randomUUID } from 'node:crypto';
import amqp, {
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
  type GetMessage,
  type Message,
} from 'amqplib';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { RabbitMqManagementClient } from '../../../lambdas/broker/adapters/rabbitmq-management.js';
import { planDefinitions, resolveDefinitions } from '../../../lambdas/broker/domain/definitions.js';
import {
  ORDER_EVENTS_DLX,
  ORDER_EVENTS_EXCHANGE,
  ORDER_ROUTING_KEYS,
  PLATFORM_BROKER_DEFINITIONS,
  SHIPMENT_CONFIRMATIONS_QUEUE,
  WAREHOUSE_SHIPPING_QUEUE,
} from '../../../lambdas/broker/domain/order-routing.js';
import { eventually } from '../eventually.js';

// The shared Powertools instances read their settings when the module loads: keep them quiet.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_TRACE_ENABLED = 'false';
});

const { applyPlan } = await import('../../../lambdas/broker/handlers/rabbitmq-definitions.js');

const { rabbitmqUrl, rabbitmqManagementUrl } = inject('engines');
const admin = new RabbitMqManagementClient({
  baseUrl: rabbitmqManagementUrl,
  username: 'guest',
  password: 'guest',
});

const AUDIT_QUEUE = 'order_events.audit';
const DEAD_QUEUE = 'order_events.dead';
const QUEUES = PLATFORM_BROKER_DEFINITIONS.queues.map((q) => q.name);

/** The platform's definitions in a vhost of this run's own. */
const vhost = `routing-${randomUUID()}`;
const definitions = resolveDefinitions({ ...PLATFORM_BROKER_DEFINITIONS, vhost });

/** What `order.shipping.*` matches on a topic exchange: `order.shipping.<one word>`. */
const SHIPPING_PATTERN = /^order\.shipping\.[^.]+$/;
const ALL_KEYS = Object.values(ORDER_ROUTING_KEYS).sort();
const SHIPPING_KEYS = ALL_KEYS.filter((k) => SHIPPING_PATTERN.test(k));

let connection: ChannelModel;
let channel: ConfirmChannel;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Publishes a persistent JSON message and waits for the broker's confirm; resolves with the confirm's error (null when acked). */
async function publishConfirmed(
  routingKey: string,
  messageId: string,
  options: { mandatory?: boolean } = {},
): Promise<unknown> {
  let outcome: unknown = 'no confirm';
  channel.publish(
    ORDER_EVENTS_EXCHANGE,
    routingKey,
    Buffer.from(JSON.stringify({ messageId, routingKey })),
    { persistent: true, contentType: 'application/json', messageId, ...options },
    (err) => {
      outcome = err;
    },
  );
  await channel.waitForConfirms();
  return outcome;
}

/**
 * Takes every message of a queue (basic.get, then acked), waiting until `expected` have arrived,
 * then checks that nothing more comes.
 */
async function drain(queue: string, expected: number): Promise<GetMessage[]> {
  const got: GetMessage[] = [];
  const takeAll = async () => {
    for (
      let m = await channel.get(queue, { noAck: false });
      m;
      m = await channel.get(queue, { noAck: false })
    ) {
      got.push(m);
    }
  };
  await eventually(
    async () => {
      await takeAll();
      return got.length >= expected ? true : undefined;
    },
    10_000,
    50,
  );
  await sleep(100);
  await takeAll();
  for (const m of got) channel.ack(m);
  return got;
}

const readyCount = async (queue: string): Promise<number> => (await channel.checkQueue(queue)).messageCount;

const xDeath = (m: Message) =>
  (m.properties.headers?.['x-death'] as Record<string, unknown>[] | undefined) ?? [];

beforeAll(async () => {
  await admin.ensureVhost(vhost);
  await applyPlan(admin, planDefinitions(undefined, definitions));
  connection = await amqp.connect(`${rabbitmqUrl}/${encodeURIComponent(vhost)}`);
  channel = await connection.createConfirmChannel();
});

afterAll(async () => {
  await connection?.close().catch(() => undefined);
  await admin.deleteVhost(vhost);
  expect(await admin.vhostExists(vhost)).toBe(false);
});

beforeEach(async () => {
  for (const queue of QUEUES) await channel.purgeQueue(queue);
});

describe('order routing on RabbitMQ (the platform definitions)', () => {
  it('declares the definitions in a vhost of their own', async () => {
    expect(vhost).toMatch(/^routing-[0-9a-f-]{36}$/);
    expect((await admin.listQueues(vhost)).map((q) => q.name).sort()).toEqual([...QUEUES].sort());
    const bindings = (await admin.listBindings(vhost))
      .filter((b) => b.source !== '')
      .map((b) => `${b.source} -> ${b.destination} (${b.routing_key})`)
      .sort();
    expect(bindings).toEqual(
      PLATFORM_BROKER_DEFINITIONS.bindings
        .map((b) => `${b.source} -> ${b.destination} (${b.routingKey ?? ''})`)
        .sort(),
    );
  });

  it('routes every order event to the audit queue, and only order.shipping.* to the warehouse', async () => {
    // GIVEN every routing key of the order events (the warehouse's share is not empty)
    expect(ALL_KEYS.length).toBe(Object.keys(ORDER_ROUTING_KEYS).length);
    expect(SHIPPING_KEYS).toContain('order.shipping.shipped');
    expect(SHIPPING_KEYS.length).toBeLessThan(ALL_KEYS.length);
    const run = randomUUID();

    // WHEN each is published, persistent, and confirmed by the broker
    const outcomes = new Map<string, unknown>();
    for (const [type, key] of Object.entries(ORDER_ROUTING_KEYS)) {
      channel.publish(
        ORDER_EVENTS_EXCHANGE,
        key,
        Buffer.from(JSON.stringify({ type, run })),
        { persistent: true, contentType: 'application/json', messageId: `${run}:${type}`, type },
        (err) => outcomes.set(type, err),
      );
    }
    await channel.waitForConfirms();
    expect([...outcomes.keys()].sort()).toEqual(Object.keys(ORDER_ROUTING_KEYS).sort());
    for (const [type, err] of outcomes) expect(err, type).toBeNull();

    // THEN the warehouse gets exactly the order.shipping.* keys, the audit queue every key
    const shipping = await drain(WAREHOUSE_SHIPPING_QUEUE, SHIPPING_KEYS.length);
    const audit = await drain(AUDIT_QUEUE, ALL_KEYS.length);
    expect(shipping.map((m) => m.fields.routingKey).sort()).toEqual(SHIPPING_KEYS);
    expect(audit.map((m) => m.fields.routingKey).sort()).toEqual(ALL_KEYS);
    for (const m of [...shipping, ...audit]) {
      expect(m.properties.deliveryMode).toBe(2);
      expect(m.properties.messageId).toBe(
        `${run}:${(JSON.parse(m.content.toString()) as { type: string }).type}`,
      );
      expect(m.fields.exchange).toBe(ORDER_EVENTS_EXCHANGE);
    }
    // AND nothing else: the warehouse's answers and the dead letters stay empty
    expect(await readyCount(SHIPMENT_CONFIRMATIONS_QUEUE)).toBe(0);
    expect(await readyCount(DEAD_QUEUE)).toBe(0);
  });

  it('lets a consumer with a prefetch of 1 take one message at a time; an acked message is gone', async () => {
    // GIVEN two shipping events
    const ids = [randomUUID(), randomUUID()];
    for (const id of ids) expect(await publishConfirmed('order.shipping.shipped', id)).toBeNull();
    // AND a consumer that may hold one unacknowledged message
    const consumerChannel = await connection.createChannel();
    await consumerChannel.prefetch(1);
    const deliveries: ConsumeMessage[] = [];
    const { consumerTag } = await consumerChannel.consume(
      WAREHOUSE_SHIPPING_QUEUE,
      (m) => {
        if (m) deliveries.push(m);
      },
      { noAck: false },
    );
    try {
      // WHEN the first arrives THEN the second is held back until it is acked
      await eventually(() => (deliveries.length >= 1 ? true : undefined), 10_000, 20);
      await sleep(300);
      expect(deliveries.map((m) => m.properties.messageId)).toEqual(ids.slice(0, 1));
      consumerChannel.ack(deliveries[0] as ConsumeMessage);
      await eventually(() => (deliveries.length >= 2 ? true : undefined), 10_000, 20);
      expect(deliveries.map((m) => m.properties.messageId)).toEqual(ids);
      consumerChannel.ack(deliveries[1] as ConsumeMessage);
    } finally {
      await consumerChannel.cancel(consumerTag);
      // Closing the channel would put back any message it had not acked.
      await consumerChannel.close();
    }
    // THEN both are gone from the queue, not requeued
    await eventually(
      async () => ((await readyCount(WAREHOUSE_SHIPPING_QUEUE)) === 0 ? true : undefined),
      5_000,
      50,
    );
    await sleep(200);
    expect(await readyCount(WAREHOUSE_SHIPPING_QUEUE)).toBe(0);
    expect(await channel.get(WAREHOUSE_SHIPPING_QUEUE, { noAck: true })).toBe(false);
  });

  it('dead-letters a message the warehouse rejects without requeue, through the DLX, saying why', async () => {
    // GIVEN a shipping event taken from the warehouse queue
    const id = randomUUID();
    expect(await publishConfirmed('order.shipping.shipped', id)).toBeNull();
    const taken = await eventually(
      async () => (await channel.get(WAREHOUSE_SHIPPING_QUEUE, { noAck: false })) || undefined,
      10_000,
      50,
    );
    expect(taken.properties.messageId).toBe(id);
    expect(await readyCount(DEAD_QUEUE)).toBe(0);

    // WHEN it is rejected without requeue
    channel.nack(taken, false, false);

    // THEN it lands in order_events.dead through order_events.dlx, with an x-death of reason "rejected"
    const [dead] = await drain(DEAD_QUEUE, 1);
    expect(dead?.properties.messageId).toBe(id);
    expect(dead?.fields.exchange).toBe(ORDER_EVENTS_DLX);
    expect(dead?.fields.routingKey).toBe('order.shipping.shipped');
    expect(xDeath(dead as Message)).toEqual([
      expect.objectContaining({
        queue: WAREHOUSE_SHIPPING_QUEUE,
        reason: 'rejected',
        exchange: ORDER_EVENTS_EXCHANGE,
        'routing-keys': ['order.shipping.shipped'],
        count: 1,
      }),
    ]);
    // AND the warehouse queue no longer holds it
    expect(await readyCount(WAREHOUSE_SHIPPING_QUEUE)).toBe(0);
  });

  it('confirms a publish that no binding matches, and a mandatory one comes back unrouted', async () => {
    const returned: Message[] = [];
    const onReturn = (m: Message) => returned.push(m);
    channel.on('return', onReturn);
    try {
      // GIVEN a key that is not order.# (so no binding of order_events matches)
      const key = 'payment.completed';
      const id = randomUUID();

      // WHEN it is published as mandatory
      const outcome = await publishConfirmed(key, id, { mandatory: true });

      // THEN the broker confirms it (ack, not nack) and returns it: NO_ROUTE
      expect(outcome).toBeNull();
      await eventually(() => (returned.length > 0 ? true : undefined), 5_000, 20);
      expect(returned).toHaveLength(1);
      const fields = returned[0]?.fields as unknown as Record<string, unknown>;
      expect(fields).toMatchObject({
        replyCode: 312,
        replyText: 'NO_ROUTE',
        exchange: ORDER_EVENTS_EXCHANGE,
        routingKey: key,
      });
      expect(returned[0]?.properties.messageId).toBe(id);
      // AND no queue got it
      for (const queue of QUEUES) expect(await readyCount(queue), queue).toBe(0);

      // WHILE a routable mandatory publish is not returned (the check above can fail)
      expect(await publishConfirmed('order.payment.completed', randomUUID(), { mandatory: true })).toBeNull();
      await sleep(200);
      expect(returned).toHaveLength(1);
      expect(await readyCount(AUDIT_QUEUE)).toBe(1);
    } finally {
      channel.off('return', onReturn);
    }
  });
});

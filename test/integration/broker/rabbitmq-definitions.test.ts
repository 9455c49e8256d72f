import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import amqp, { type Channel, type GetMessage } from 'amqplib';
import type { Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { RabbitMqManagementClient } from '../../../lambdas/broker/adapters/rabbitmq-management.js';
import {
  type BrokerDefinitions,
  planDefinitions,
  resolveDefinitions,
} from '../../../lambdas/broker/domain/definitions.js';
import { eventually } from '../eventually.js';

// The shared Powertools instances read their settings when the module loads: keep them quiet.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_TRACE_ENABLED = 'false';
});

const { applyPlan, handler } = await import('../../../lambdas/broker/handlers/rabbitmq-definitions.js');

const { rabbitmqUrl, rabbitmqManagementUrl, awsEndpointUrl } = inject('engines');
const admin = new RabbitMqManagementClient({
  baseUrl: rabbitmqManagementUrl,
  username: 'guest',
  password: 'guest',
});

/** The seed's order routing: a topic exchange, work queues by pattern, a dead-letter exchange and queue. */
const orderRouting = (vhost: string): BrokerDefinitions => ({
  vhost,
  exchanges: [
    { name: 'order_events', type: 'topic' },
    { name: 'order_events.dlx', type: 'fanout' },
  ],
  queues: [
    { name: 'payment_queue', deadLetterExchange: 'order_events.dlx', deliveryLimit: 2 },
    { name: 'shipping_queue', type: 'classic', deadLetterExchange: 'order_events.dlx', messageTtlMs: 60_000 },
    { name: 'analytics_queue', maxLength: 10_000 },
    { name: 'order_events.dead' },
  ],
  bindings: [
    { source: 'order_events', destination: 'payment_queue', routingKey: 'order.payment.*' },
    { source: 'order_events', destination: 'shipping_queue', routingKey: 'order.shipping.*' },
    { source: 'order_events', destination: 'analytics_queue', routingKey: 'order.#' },
    { source: 'order_events.dlx', destination: 'order_events.dead' },
  ],
});

/** The same without the analytics queue (and its binding) nor the shipping binding. */
const trimmed = (vhost: string): BrokerDefinitions => {
  const d = orderRouting(vhost);
  return {
    ...d,
    queues: d.queues.filter((q) => q.name !== 'analytics_queue'),
    bindings: d.bindings.filter(
      (b) => b.destination !== 'analytics_queue' && b.destination !== 'shipping_queue',
    ),
  };
};

const vhosts: string[] = [];
const users: string[] = [];
const newVhost = (): string => {
  const vhost = `defs-${randomUUID()}`;
  vhosts.push(vhost);
  return vhost;
};

afterEach(async () => {
  await Promise.all(vhosts.splice(0).map((v) => admin.deleteVhost(v)));
  await Promise.all(users.splice(0).map((u) => admin.deleteUser(u)));
});

const routedBindings = async (vhost: string) =>
  (await admin.listBindings(vhost))
    .filter((b) => b.source !== '')
    .map((b) => `${b.source} -> ${b.destination} (${b.routing_key})`)
    .sort();

async function openChannel(
  vhost: string,
  url = rabbitmqUrl,
): Promise<{ channel: Channel; close: () => Promise<void> }> {
  const connection = await amqp.connect(`${url}/${encodeURIComponent(vhost)}`);
  const channel = await connection.createConfirmChannel();
  return { channel, close: () => connection.close() };
}

/** The next message of the queue (basic.get, manual ack), waiting for it. */
const nextMessage = (channel: Channel, queue: string): Promise<GetMessage> =>
  eventually(async () => (await channel.get(queue, { noAck: false })) || undefined, 10_000, 50);

const xDeath = (m: GetMessage) =>
  (m.properties.headers?.['x-death'] as { queue: string; reason: string }[] | undefined)?.[0];

describe('RabbitMQ definitions through the management API', () => {
  it('declares the exchanges, queues with their x-arguments and bindings, then an update removes a binding and a queue', async () => {
    // GIVEN a fresh vhost
    const vhost = newVhost();
    await admin.ensureVhost(vhost);

    // WHEN the order routing is applied
    const first = resolveDefinitions(orderRouting(vhost));
    await applyPlan(admin, planDefinitions(undefined, first));

    // THEN the broker holds the queues with their arguments, and the bindings
    const queues = Object.fromEntries((await admin.listQueues(vhost)).map((q) => [q.name, q]));
    expect(Object.keys(queues).sort()).toEqual([
      'analytics_queue',
      'order_events.dead',
      'payment_queue',
      'shipping_queue',
    ]);
    expect(queues.payment_queue).toMatchObject({
      type: 'quorum',
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-dead-letter-exchange': 'order_events.dlx',
        'x-delivery-limit': 2,
      },
    });
    expect(queues.shipping_queue).toMatchObject({
      type: 'classic',
      arguments: { 'x-queue-type': 'classic', 'x-message-ttl': 60_000 },
    });
    expect(queues.analytics_queue?.arguments).toMatchObject({ 'x-max-length': 10_000 });
    const exchanges = (await admin.listExchanges(vhost)).filter((e) => e.name.startsWith('order_events'));
    expect(exchanges.map((e) => [e.name, e.type, e.durable])).toEqual([
      ['order_events', 'topic', true],
      ['order_events.dlx', 'fanout', true],
    ]);
    expect(await routedBindings(vhost)).toEqual([
      'order_events -> analytics_queue (order.#)',
      'order_events -> payment_queue (order.payment.*)',
      'order_events -> shipping_queue (order.shipping.*)',
      'order_events.dlx -> order_events.dead ()',
    ]);

    // WHEN it is applied again (idempotent), then an update drops the analytics queue and the shipping binding
    await applyPlan(admin, planDefinitions(first, first));
    const second = resolveDefinitions(trimmed(vhost));
    const plan = planDefinitions(first, second);
    expect(plan.warnings).toEqual([
      `queue "analytics_queue" in vhost "${vhost}" is deleted: the messages it holds are lost`,
    ]);
    await applyPlan(admin, plan);

    // THEN they are gone, and the rest is untouched
    expect((await admin.listQueues(vhost)).map((q) => q.name).sort()).toEqual([
      'order_events.dead',
      'payment_queue',
      'shipping_queue',
    ]);
    expect(await routedBindings(vhost)).toEqual([
      'order_events -> payment_queue (order.payment.*)',
      'order_events.dlx -> order_events.dead ()',
    ]);
  });

  it('reports RabbitMQ’s refusal of a changed queue with its status and reason', async () => {
    const vhost = newVhost();
    await admin.ensureVhost(vhost);
    await admin.declareQueue(vhost, {
      name: 'q',
      durable: true,
      autoDelete: false,
      arguments: { 'x-queue-type': 'quorum' },
    });
    await expect(
      admin.declareQueue(vhost, {
        name: 'q',
        durable: true,
        autoDelete: false,
        arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 3 },
      }),
    ).rejects.toMatchObject({
      status: 400,
      reason: expect.stringContaining("inequivalent arg 'x-delivery-limit'"),
    });
    // Deleting what is not there is not an error.
    expect(await admin.deleteQueue(vhost, 'nope')).toBe(false);
    expect(
      await admin.unbind(vhost, {
        source: 'amq.topic',
        destination: 'q',
        destinationType: 'queue',
        routingKey: 'x',
        arguments: {},
      }),
    ).toBe(false);
  });

  it('routes a real message through a topic binding; nack without requeue and the delivery limit dead-letter it', async () => {
    // GIVEN the order routing in a fresh vhost
    const vhost = newVhost();
    await admin.ensureVhost(vhost);
    await applyPlan(admin, planDefinitions(undefined, resolveDefinitions(orderRouting(vhost))));
    const { channel, close } = await openChannel(vhost);
    try {
      // WHEN a payment event is published (persistent, confirmed)
      const orderId = randomUUID();
      channel.publish('order_events', 'order.payment.created', Buffer.from(JSON.stringify({ orderId })), {
        persistent: true,
        messageId: orderId,
      });
      await (channel as amqp.ConfirmChannel).waitForConfirms();

      // THEN the payment and analytics queues got it (order.payment.*, order.#), the shipping queue did not
      const payment = await nextMessage(channel, 'payment_queue');
      expect(JSON.parse(payment.content.toString())).toEqual({ orderId });
      expect(payment.fields.routingKey).toBe('order.payment.created');
      const analytics = await nextMessage(channel, 'analytics_queue');
      expect(analytics.properties.messageId).toBe(orderId);
      channel.ack(analytics);
      expect((await channel.checkQueue('shipping_queue')).messageCount).toBe(0);

      // WHEN the consumer rejects it without requeue
      channel.nack(payment, false, false);
      // THEN it lands in the dead-letter exchange's queue, saying why and from where
      const dead = await nextMessage(channel, 'order_events.dead');
      expect(dead.properties.messageId).toBe(orderId);
      expect(xDeath(dead)).toMatchObject({ queue: 'payment_queue', reason: 'rejected' });
      channel.ack(dead);

      // WHEN another is requeued on every delivery (a poison message)
      const poisonId = randomUUID();
      channel.publish('order_events', 'order.payment.failed', Buffer.from('{}'), {
        persistent: true,
        messageId: poisonId,
      });
      await (channel as amqp.ConfirmChannel).waitForConfirms();
      let deliveries = 0;
      const deadPoison = await eventually(
        async () => {
          const m = await channel.get('payment_queue', { noAck: false });
          if (m) {
            deliveries++;
            channel.nack(m, false, true);
            return undefined;
          }
          return (await channel.get('order_events.dead', { noAck: false })) || undefined;
        },
        10_000,
        20,
      );
      // THEN the quorum queue gives up after its delivery limit (2 redeliveries) and dead-letters it
      expect(deadPoison.properties.messageId).toBe(poisonId);
      expect(deliveries).toBe(3);
      expect(xDeath(deadPoison)).toMatchObject({ queue: 'payment_queue', reason: 'delivery_limit' });
      channel.ack(deadPoison);
    } finally {
      await close();
    }
  });
});

// --- The custom resource end to end ----------------------------------------------------------------

interface CfnResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
  readonly RequestId: string;
}

let server: Server;
let responseUrl: string;
const responses: CfnResponse[] = [];
const secrets = new SecretsManagerClient({
  endpoint: awsEndpointUrl,
  region: process.env.AWS_REGION ?? 'us-east-1',
});
const secretArns: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      responses.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as CfnResponse);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  responseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cfn?X-Amz-Signature=x`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await Promise.all(
    secretArns.map((SecretId) =>
      secrets.send(new DeleteSecretCommand({ SecretId, ForceDeleteWithoutRecovery: true })),
    ),
  );
});

async function putSecret(value: { username: string; password: string }): Promise<string> {
  const out = await secrets.send(
    new CreateSecretCommand({ Name: `rabbitmq-${randomUUID()}`, SecretString: JSON.stringify(value) }),
  );
  secretArns.push(out.ARN as string);
  return out.ARN as string;
}

/** What CloudFormation does to properties: every scalar becomes a string. */
const asCloudFormation = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(asCloudFormation)
    : value !== null && typeof value === 'object'
      ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asCloudFormation(v)]))
      : typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : value;

const context = {
  logStreamName: 'test-stream',
  awsRequestId: 'aws-1',
  functionName: 'defs',
} as unknown as Context;

type Request = Parameters<typeof handler>[0];

async function invoke(
  request: Omit<
    Request,
    'ServiceToken' | 'ResponseURL' | 'StackId' | 'ResourceType' | 'LogicalResourceId' | 'RequestId'
  >,
) {
  const requestId = randomUUID();
  await handler(
    {
      ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:defs',
      ResponseURL: responseUrl,
      StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/broker/guid',
      ResourceType: 'Custom::RabbitMqDefinitions',
      LogicalResourceId: 'Definitions',
      ...request,
      RequestId: requestId,
    },
    context,
  );
  const response = responses.find((r) => r.RequestId === requestId);
  if (!response) throw new Error('the handler sent no response');
  return response;
}

describe('Custom::RabbitMqDefinitions handler', () => {
  it('creates the definitions and the application user, updates them, refuses an immutable change, and deletes them', async () => {
    // GIVEN an admin and an application secret, and the properties CloudFormation passes
    const vhost = newVhost();
    const appUser = `app-${randomUUID()}`;
    users.push(appUser);
    const appPassword = randomUUID();
    const adminSecret = await putSecret({ username: 'guest', password: 'guest' });
    const appSecret = await putSecret({ username: appUser, password: appPassword });
    const properties = (definitions: BrokerDefinitions) =>
      asCloudFormation({
        ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:defs',
        ManagementUrl: `${rabbitmqManagementUrl}/`,
        AdminSecretArn: adminSecret,
        AppUserSecretArn: appSecret,
        Definitions: definitions,
      }) as Request['ResourceProperties'];
    const physicalId = `${rabbitmqManagementUrl}|${vhost}`;

    // WHEN CloudFormation creates the resource
    const created = await invoke({
      RequestType: 'Create',
      ResourceProperties: properties(orderRouting(vhost)),
    });

    // THEN it answers SUCCESS with the vhost, and the broker holds the definitions and the user
    expect(created).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: physicalId,
      Data: { VirtualHost: vhost },
    });
    expect((await admin.listQueues(vhost)).map((q) => q.name).sort()).toEqual([
      'analytics_queue',
      'order_events.dead',
      'payment_queue',
      'shipping_queue',
    ]);
    expect(await admin.userPermissions(appUser)).toEqual([
      expect.objectContaining({ vhost, configure: '^$', write: '.*', read: '.*' }),
    ]);

    // AND the application user publishes and consumes, but cannot declare anything
    const appUrl = rabbitmqUrl.replace(/\/\/[^@]*@/, `//${appUser}:${appPassword}@`);
    const app = await openChannel(vhost, appUrl);
    try {
      await app.channel.checkQueue('payment_queue');
      app.channel.publish('order_events', 'order.shipping.created', Buffer.from('{}'), { persistent: true });
      await (app.channel as amqp.ConfirmChannel).waitForConfirms();
      app.channel.ack(await nextMessage(app.channel, 'shipping_queue'));
      app.channel.on('error', () => undefined);
      await expect(app.channel.assertQueue('rogue_queue', { durable: true })).rejects.toThrow(
        /ACCESS_REFUSED/,
      );
    } finally {
      await app.close().catch(() => undefined);
    }

    // WHEN an update drops the analytics queue and the shipping binding
    const updated = await invoke({
      RequestType: 'Update',

      PhysicalResourceId: physicalId,
      ResourceProperties: properties(trimmed(vhost)),
      OldResourceProperties: properties(orderRouting(vhost)),
    });
    // THEN they are gone
    expect(updated).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: physicalId });
    expect((await admin.listQueues(vhost)).map((q) => q.name)).not.toContain('analytics_queue');
    expect(await routedBindings(vhost)).toEqual([
      'order_events -> payment_queue (order.payment.*)',
      'order_events.dlx -> order_events.dead ()',
    ]);

    // WHEN an update changes the payment queue's delivery limit (immutable)
    const changed = trimmed(vhost);
    const refused = await invoke({
      RequestType: 'Update',

      PhysicalResourceId: physicalId,
      ResourceProperties: properties({
        ...changed,
        queues: changed.queues.map((q) => (q.name === 'payment_queue' ? { ...q, deliveryLimit: 5 } : q)),
      }),
      OldResourceProperties: properties(trimmed(vhost)),
    });
    // THEN it fails with the reason, and the broker is left as it was
    expect(refused.Status).toBe('FAILED');
    expect(refused.PhysicalResourceId).toBe(physicalId);
    expect(refused.Reason).toContain(
      'queue "payment_queue" cannot change in place (x-delivery-limit: 2 -> 5)',
    );
    const payment = (await admin.listQueues(vhost)).find((q) => q.name === 'payment_queue');
    expect(payment?.arguments['x-delivery-limit']).toBe(2);

    // WHEN the resource is deleted
    const deleted = await invoke({
      RequestType: 'Delete',

      PhysicalResourceId: physicalId,
      ResourceProperties: properties(trimmed(vhost)),
    });
    // THEN its definitions, the user and the (now empty) vhost are gone
    expect(deleted).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: physicalId });
    expect(await admin.vhostExists(vhost)).toBe(false);
    expect(await admin.userExists(appUser)).toBe(false);
    expect(await admin.userExists('guest')).toBe(true);
  });

  it('answers FAILED for invalid definitions, and a Delete after a failed Create touches nothing', async () => {
    const vhost = newVhost();
    const adminSecret = await putSecret({ username: 'guest', password: 'guest' });
    const ResourceProperties = asCloudFormation({
      ServiceToken: 'token',
      ManagementUrl: rabbitmqManagementUrl,
      AdminSecretArn: adminSecret,
      Definitions: {
        vhost,
        exchanges: [],
        queues: [{ name: 'q' }],
        bindings: [{ source: 'order_events', destination: 'q' }],
      },
    }) as Request['ResourceProperties'];

    const failed = await invoke({ RequestType: 'Create', ResourceProperties });
    expect(failed.Status).toBe('FAILED');
    expect(failed.Reason).toContain('source exchange "order_events" is not defined');
    expect(await admin.vhostExists(vhost)).toBe(false);

    const deleted = await invoke({
      RequestType: 'Delete',

      PhysicalResourceId: failed.PhysicalResourceId,
      ResourceProperties,
    });
    expect(deleted).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: failed.PhysicalResourceId });
  });

  it('moves the definitions to a new vhost as a replacement; the old one goes with CloudFormation’s Delete', async () => {
    const [oldVhost, newVhostName] = [newVhost(), newVhost()];
    const adminSecret = await putSecret({ username: 'guest', password: 'guest' });
    const properties = (vhost: string) =>
      asCloudFormation({
        ServiceToken: 'token',
        ManagementUrl: rabbitmqManagementUrl,
        AdminSecretArn: adminSecret,
        Definitions: trimmed(vhost),
      }) as Request['ResourceProperties'];

    const created = await invoke({ RequestType: 'Create', ResourceProperties: properties(oldVhost) });
    const moved = await invoke({
      RequestType: 'Update',

      PhysicalResourceId: created.PhysicalResourceId,
      ResourceProperties: properties(newVhostName),
      OldResourceProperties: properties(oldVhost),
    });
    // A new physical id: the old vhost is still whole until CloudFormation deletes the old resource.
    expect(moved).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: `${rabbitmqManagementUrl}|${newVhostName}`,
    });
    expect((await admin.listQueues(newVhostName)).length).toBe(3);
    expect((await admin.listQueues(oldVhost)).length).toBe(3);

    const cleanup = await invoke({
      RequestType: 'Delete',

      PhysicalResourceId: created.PhysicalResourceId,
      ResourceProperties: properties(oldVhost),
    });
    expect(cleanup.Status).toBe('SUCCESS');
    expect(await admin.vhostExists(oldVhost)).toBe(false);
    expect((await admin.listQueues(newVhostName)).length).toBe(3);
  });
});

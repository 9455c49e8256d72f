/**
 * Order fulfilment end to end on the local cloud: HTTP → event store → outbox → order-events topic
 * → filtered queues → inventory, payment, shipping and notification consumers → the order's
 * events → read model. Card tokens of the test payment provider drive every payment path.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../../lambdas/commons/domain/decider.js';
import { createEnvelope } from '../../../lambdas/commons/event-store/envelope.js';
import { ROOT } from '../../../scripts/lib/python.js';
import { type Reply, type RunningApp, startApp } from '../app.js';
import { eventually } from '../eventually.js';

const CLAIM_CHECK_BYTES = 2048;

// The first order also waits for the outbox to relay what earlier tests left in the stream.
describe('order fulfilment on the local cloud', { timeout: 240_000 }, () => {
  let app: RunningApp;
  const run = Date.now().toString(36);
  let customerId: string;
  let email: string;

  const table = (prefix: string) => app.resource('AWS::DynamoDB::Table', prefix).ref;
  const queueUrl = (prefix: string) => app.resource('AWS::SQS::Queue', prefix).ref;
  const stockOf = async (sku: string): Promise<number | undefined> => {
    const { Item } = await app.cloud.clients.dynamodb.send(
      new GetItemCommand({
        TableName: table('InventoryTable'),
        Key: { sku: { S: sku } },
        ConsistentRead: true,
      }),
    );
    return Item?.available?.N === undefined ? undefined : Number(Item.available.N);
  };
  const stock = async (sku: string, available: number) => {
    expect((await app.call('PUT', `/inventory/${sku}`, { available })).status).toBe(200);
  };
  const place = async (sku: string, quantity: number, paymentToken: string): Promise<string> => {
    const placed = await app.call('POST', '/orders', {
      customerId,
      currency: 'EUR',
      paymentToken,
      items: [{ sku, quantity, unitPrice: 1000 }],
    });
    expect(placed.status).toBe(202);
    return String(placed.body.orderId);
  };
  const until = (orderId: string, status: string, timeoutMs = 30_000): Promise<Reply> =>
    app.read(`/orders/${orderId}`, (r) => r.body.status === status, timeoutMs);
  const emailsOf = async (subjectId: string): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    for (const type of [
      'CustomerRegistered',
      'OrderPlaced',
      'InventoryRejected',
      'PaymentCompleted',
      'PaymentFailed',
      'OrderShipped',
      'OrderCancelled',
    ]) {
      const { Item } = await app.cloud.clients.dynamodb.send(
        new GetItemCommand({
          TableName: table('OperationalStateTable'),
          Key: { pk: { S: `email#${subjectId}#${type}` } },
          ConsistentRead: true,
        }),
      );
      if (Item) out[type] = `${Item.status?.S} to ${Item.to?.S}`;
    }
    return out;
  };
  const storedEvent = async (aggregateId: string, version: number): Promise<string> => {
    const { Items } = await app.cloud.clients.dynamodb.send(
      new QueryCommand({
        TableName: table('EventStoreTable'),
        KeyConditionExpression: 'aggregateId = :id AND version = :v',
        ExpressionAttributeValues: { ':id': { S: aggregateId }, ':v': { N: String(version) } },
      }),
    );
    const item = Items?.[0];
    if (!item) throw new Error(`no event ${aggregateId} v${version}`);
    const { unmarshall } = await import('@aws-sdk/util-dynamodb');
    return JSON.stringify(unmarshall(item));
  };

  beforeAll(async () => {
    // A small claim-check threshold, so that a large order travels by reference through S3.
    app = await startApp(`fulfilment-${run}`, {
      fulfilment: { claimCheckThresholdBytes: CLAIM_CHECK_BYTES },
    });
    email = `buyer-${run}@shop.example`;
    const registered = await app.call('POST', '/customers', { email, name: 'Buyer' });
    customerId = String(registered.body.customerId);
    await app.read(`/customers/${customerId}`, (r) => r.status === 200, 30_000);
  }, 180_000);

  afterAll(async () => {
    await app?.stop();
  });

  it('takes a paid order to SHIPPED, takes its stock once, and sends each e-mail once', async () => {
    const sku = `HAPPY-${run}`;
    await stock(sku, 5);
    const orderId = await place(sku, 2, 'tok_visa');
    const shipped = await until(orderId, 'SHIPPED', 180_000);
    expect(shipped.body).toMatchObject({
      status: 'SHIPPED',
      version: 4,
      reservationId: orderId,
      paymentId: `pay_test_order-${orderId}`,
      shipmentId: `shp-${orderId}`,
    });
    expect(await stockOf(sku)).toBe(3);
    const mails = await eventually(async () => {
      const m = await emailsOf(orderId);
      const done = Object.values(m).filter((v) => v.startsWith('sent ')).length === 3;
      return done ? m : undefined;
    });
    expect(mails).toEqual({
      OrderPlaced: `sent to ${email}`,
      PaymentCompleted: `sent to ${email}`,
      OrderShipped: `sent to ${email}`,
    });
    expect(await emailsOf(customerId)).toEqual({ CustomerRegistered: `sent to ${email}` });
  });

  it('rejects an order when stock is short, taking nothing', async () => {
    const sku = `SHORT-${run}`;
    await stock(sku, 1);
    const orderId = await place(sku, 2, 'tok_visa');
    const rejected = await until(orderId, 'REJECTED');
    expect(rejected.body.reason).toBe(`insufficient stock for ${sku}`);
    expect(await stockOf(sku)).toBe(1);
  });

  it('fails a declined payment for good and gives the stock back', async () => {
    const sku = `DECLINE-${run}`;
    await stock(sku, 4);
    const orderId = await place(sku, 3, 'tok_decline');
    const failed = await until(orderId, 'PAYMENT_FAILED');
    expect(failed.body.reason).toBe('card declined (test token)');
    await eventually(async () => ((await stockOf(sku)) === 4 ? true : undefined));
  });

  it('retries transient payment failures with backoff until the charge succeeds', async () => {
    const sku = `TRANSIENT-${run}`;
    await stock(sku, 2);
    const orderId = await place(sku, 1, 'tok_transient_2');
    const shipped = await until(orderId, 'SHIPPED', 180_000);
    expect(shipped.body.paymentId).toBe(`pay_test_order-${orderId}`);
  });

  it('releases the reservation when a reserved order is cancelled', async () => {
    const sku = `CANCEL-${run}`;
    await stock(sku, 3);
    // A provider that fails transiently for a long while keeps the order INVENTORY_RESERVED.
    const orderId = await place(sku, 2, 'tok_transient_6');
    await until(orderId, 'INVENTORY_RESERVED');
    expect(await stockOf(sku)).toBe(1);
    expect((await app.call('POST', `/orders/${orderId}/cancel`, { reason: 'too slow' })).status).toBe(202);
    await until(orderId, 'CANCELLED');
    await eventually(async () => ((await stockOf(sku)) === 3 ? true : undefined));
  });

  it('lets a redelivered event cause no second effect', async () => {
    const sku = `DUP-${run}`;
    await stock(sku, 10);
    const orderId = await place(sku, 4, 'tok_visa');
    await until(orderId, 'SHIPPED', 180_000);
    expect(await stockOf(sku)).toBe(6);
    // WHEN OrderPlaced and PaymentCompleted are delivered again (as an SQS redelivery would)
    await app.cloud.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl('InventoryQueue'),
        MessageBody: await storedEvent(orderId, 1),
      }),
    );
    await app.cloud.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl('ShippingQueue'),
        MessageBody: await storedEvent(orderId, 3),
      }),
    );
    await new Promise((r) => setTimeout(r, 2000));
    // THEN no stock is taken twice and the order has no fifth event
    expect(await stockOf(sku)).toBe(6);
    expect((await app.call('GET', `/orders/${orderId}`)).body.version).toBe(4);
  });

  it('dead-letters a message that is not an event at once, with the reason', async () => {
    const marker = `poison-${run}`;
    await app.cloud.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl('InventoryQueue'), MessageBody: `{"note":"${marker}"}` }),
    );
    const dead = await eventually(async () => {
      const received = await app.cloud.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl('InventoryQueueDeadLetterQueue'),
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          MessageAttributeNames: ['All'],
          AttributeNames: ['All'],
        }),
      );
      return received.Messages?.find((m) => m.Body?.includes(marker));
    }, 20_000);
    expect(dead.MessageAttributes?.reason?.StringValue).toMatch(/not an event envelope/);
  });

  it('dead-letters an event that keeps failing after the configured tries, with the reason, and redrives it', async () => {
    // GIVEN the stack outputs, as `npm start` or `cdk deploy --outputs-file` write them, for `npm run dlq`
    const outputsFile = join(mkdtempSync(join(tmpdir(), 'dlq-outputs-')), 'outputs.json');
    writeFileSync(outputsFile, JSON.stringify(app.cloud.resources.outputs));
    const dlq = (...args: string[]) => {
      const out = spawnSync(
        join(ROOT, 'node_modules/.bin/tsx'),
        ['scripts/dlq.ts', ...args, '--outputs-file', outputsFile],
        { cwd: ROOT, encoding: 'utf8' },
      );
      expect(out.status, out.stderr).toBe(0);
      return out.stdout;
    };
    // AND a shipment notice for an order the read model does not know: the notification service
    // cannot find its recipient, and asks again every 2 s
    const orderId = `ghost-${run}`;
    const event = createEnvelope(
      {
        type: 'OrderShipped',
        data: { orderId, shipmentId: `shp-${orderId}`, carrier: 'DHL' },
      } as DomainEvent,
      {
        aggregateType: 'Order',
        aggregateId: orderId,
        version: 5,
        correlationId: `c-${run}`,
        causationId: `c-${run}`,
      },
    );
    await app.cloud.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl('NotificationQueue'), MessageBody: JSON.stringify(event) }),
    );
    // WHEN it has failed the notification queue's maxReceiveCount (5 in dev) times
    // THEN `npm run dlq -- list` shows it in the DLQ, with the last error as the reason
    const listed = await eventually(
      async () => {
        const { messages } = JSON.parse(dlq('list', 'notification', '--json')) as {
          messages: { body: string; reason?: string }[];
        };
        return messages.find((m) => m.body.includes(orderId));
      },
      60_000,
      1000,
    );
    expect(listed.reason).toMatch(
      /^gave up after 5 attempts: RetryLaterError: order ghost-\S+ not in the read model yet/,
    );
    expect(await emailsOf(orderId)).toEqual({});

    // WHEN the cause is mended (the order reaches the read model) and the DLQ is redriven
    await app.cloud.clients.dynamodb.send(
      new PutItemCommand({
        TableName: table('OrdersViewTable'),
        Item: {
          orderId: { S: orderId },
          customerId: { S: customerId },
          status: { S: 'SHIPPED' },
          version: { N: '5' },
        },
      }),
    );
    expect(dlq('redrive', 'notification')).toMatch(/moved/i);
    // THEN the event is handled: its e-mail is sent, once, and the DLQ no longer holds it
    await eventually(async () => ((await emailsOf(orderId)).OrderShipped ? true : undefined), 30_000, 250);
    expect(await emailsOf(orderId)).toEqual({ OrderShipped: `sent to ${email}` });
    const { messages } = JSON.parse(dlq('list', 'notification', '--json')) as {
      messages: { body: string }[];
    };
    expect(messages.filter((m) => m.body.includes(orderId))).toEqual([]);
  });

  it('holds payments while the shared circuit is open and drains them once it closes', async () => {
    const sku = `BREAKER-${run}`;
    await stock(sku, 2);
    // GIVEN the payment provider's circuit opened by other instances (the shared state says so)
    const openUntil = Date.now() + 4000;
    await app.cloud.clients.dynamodb.send(
      new PutItemCommand({
        TableName: table('OperationalStateTable'),
        Item: {
          pk: { S: 'circuit#payment-provider' },
          failures: { N: '5' },
          openUntil: { N: String(openUntil) },
          probeUntil: { N: '0' },
        },
      }),
    );
    const orderId = await place(sku, 1, 'tok_visa');
    await until(orderId, 'INVENTORY_RESERVED');
    // THEN nothing is charged while it is open …
    while (Date.now() < openUntil - 500) {
      expect((await app.call('GET', `/orders/${orderId}`)).body.status).toBe('INVENTORY_RESERVED');
      await new Promise((r) => setTimeout(r, 250));
    }
    // … and the message comes back and is charged once the rest is over (a successful probe closes it)
    await until(orderId, 'SHIPPED', 180_000);
    const { Item } = await app.cloud.clients.dynamodb.send(
      new GetItemCommand({
        TableName: table('OperationalStateTable'),
        Key: { pk: { S: 'circuit#payment-provider' } },
        ConsistentRead: true,
      }),
    );
    expect(Item?.failures?.N).toBe('0');
  });

  it('carries an event over the size limit by claim check, transparently to every service', async () => {
    // GIVEN an order whose OrderPlaced message is larger than the (test) limit
    const skus = Array.from({ length: 12 }, (_, i) => `LARGE-${run}-${i}-${'x'.repeat(100)}`);
    for (const sku of skus) await stock(sku, 5);
    const placed = await app.call('POST', '/orders', {
      customerId,
      currency: 'EUR',
      paymentToken: 'tok_visa',
      items: skus.map((sku) => ({ sku, quantity: 1, unitPrice: 100 })),
    });
    expect(placed.status).toBe(202);
    const orderId = String(placed.body.orderId);
    expect((await storedEvent(orderId, 1)).length).toBeGreaterThan(CLAIM_CHECK_BYTES);
    // THEN inventory reserved every SKU and the order shipped, and the event waits in S3
    await until(orderId, 'SHIPPED', 180_000);
    for (const sku of skus) expect(await stockOf(sku)).toBe(4);
    const bucket = app.resource('AWS::S3::Bucket', 'ClaimChecksBucket').ref;
    const listed = await app.cloud.clients.s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: 'events/' }),
    );
    expect(listed.KeyCount ?? 0).toBeGreaterThan(0);
  });

  it('answers POST /orders?wait=inventory with the reservation result, by request-reply', async () => {
    const sku = `WAIT-${run}`;
    await stock(sku, 5);
    const body = (skuOf: string) => ({
      customerId,
      currency: 'EUR',
      paymentToken: 'tok_visa',
      items: [{ sku: skuOf, quantity: 1, unitPrice: 100 }],
    });
    // Reserved: the reply comes as soon as the order leaves PENDING (it may already be paid)
    const reserved = await app.call('POST', '/orders?wait=inventory&timeoutMs=8000', body(sku));
    expect(reserved.status).toBe(200);
    expect(['INVENTORY_RESERVED', 'PAID', 'SHIPPED']).toContain(reserved.body.status);
    expect(reserved.body.reservationId).toBe(reserved.body.orderId);
    // Rejected: nobody stocks this SKU
    const rejected = await app.call('POST', '/orders?wait=inventory&timeoutMs=8000', body(`NONE-${run}`));
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ status: 'REJECTED', reason: `insufficient stock for NONE-${run}` });
    // Too short a wait: 202, and the order goes on regardless
    const accepted = await app.call('POST', '/orders?wait=inventory&timeoutMs=100', body(sku));
    expect(accepted.status).toBe(202);
    await until(String(accepted.body.orderId), 'SHIPPED', 180_000);
    // Bad parameters are refused with field errors
    const bad = await app.call('POST', '/orders?wait=forever&timeoutMs=99999', body(sku));
    expect(bad.status).toBe(400);
    expect((bad.body.errors as { path: string }[]).map((e) => e.path).sort()).toEqual([
      'query.timeoutMs',
      'query.wait',
    ]);
  });
});

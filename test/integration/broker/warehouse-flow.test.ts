/**
 * RabbitMQ in the order flow, on the local cloud: order events bridged to the `order_events`
 * topic exchange (publisher confirms), a warehouse system (this test) taking `order.shipping.*`
 * from its queue and answering on the `warehouse` exchange, and the Amazon MQ event source
 * feeding the answer back into the order (ConfirmShipment → trackingNumber on the read model).
 */
import { randomUUID } from 'node:crypto';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import amqp, { type ChannelModel, type ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type RunningApp, startApp } from '../app.js';
import { eventually } from '../eventually.js';

describe('the warehouse over RabbitMQ', { timeout: 180_000 }, () => {
  let app: RunningApp;
  let connection: ChannelModel;
  const run = randomUUID().slice(0, 8);
  const shippingEvents: { routingKey: string; body: Record<string, unknown> }[] = [];
  const dead: ConsumeMessage[] = [];

  beforeAll(async () => {
    app = await startApp(`warehouse-${run}`);
    // The warehouse logs in as the application user the stack created (its secret).
    const secretArn = app.resource('AWS::SecretsManager::Secret', 'RabbitAppSecret').ref;
    const secret = await app.cloud.clients.secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
    const { username, password } = JSON.parse(secret.SecretString ?? '{}') as {
      username: string;
      password: string;
    };
    const url = new URL(inject('engines').rabbitmqUrl);
    url.username = encodeURIComponent(username);
    url.password = encodeURIComponent(password);
    url.pathname = '/platform';
    connection = await amqp.connect(url.toString());
    const channel = await connection.createChannel();
    await channel.prefetch(10);
    await channel.consume('warehouse.shipping', (m) => {
      if (!m) return;
      shippingEvents.push({ routingKey: m.fields.routingKey, body: JSON.parse(m.content.toString()) });
      channel.ack(m);
    });
    await channel.consume('order_events.dead', (m) => {
      if (!m) return;
      dead.push(m);
      channel.ack(m);
    });
  }, 120_000);

  afterAll(async () => {
    await connection?.close().catch(() => undefined);
    await app?.stop();
  });

  it('confirms a shipment the warehouse answers, on the order', async () => {
    // GIVEN a paid order of a registered customer, shipped by the shipping service
    const customer = await app.call('POST', '/customers', { email: `w-${run}@shop.example`, name: 'W' });
    const customerId = String(customer.body.customerId);
    await app.read(`/customers/${customerId}`, (r) => r.status === 200, 30_000);
    const sku = `WH-${run}`;
    expect((await app.call('PUT', `/inventory/${sku}`, { available: 5 })).status).toBe(200);
    const placed = await app.call('POST', '/orders', {
      customerId,
      currency: 'EUR',
      paymentToken: 'tok_visa',
      items: [{ sku, quantity: 1, unitPrice: 1000 }],
    });
    const orderId = String(placed.body.orderId);
    // WHEN its OrderShipped reaches the warehouse as order.shipping.shipped
    const shipped = await eventually(
      async () =>
        shippingEvents.find((e) => e.body.aggregateId === orderId && e.body.type === 'OrderShipped'),
      90_000,
    );
    expect(shipped.routingKey).toBe('order.shipping.shipped');
    // AND only shipping events reach the warehouse's queue
    expect(shippingEvents.every((e) => e.routingKey.startsWith('order.shipping.'))).toBe(true);
    const { shipmentId } = shipped.body.data as { shipmentId: string };
    // AND the warehouse answers with a confirmation (persistent, confirmed by the broker)
    const channel = await connection.createConfirmChannel();
    channel.publish(
      'warehouse',
      'shipment.confirmed',
      Buffer.from(
        JSON.stringify({
          orderId,
          shipmentId,
          trackingNumber: `TRK-${run}`,
          confirmedAt: new Date().toISOString(),
        }),
      ),
      { persistent: true, contentType: 'application/json', messageId: `confirm-${run}` },
    );
    await channel.waitForConfirms();
    // THEN the order records the tracking number
    const order = await app.read(`/orders/${orderId}`, (r) => r.body.trackingNumber === `TRK-${run}`, 60_000);
    expect(order.body.status).toBe('SHIPPED');
    await channel.close();
  });

  it('dead-letters a confirmation that cannot be parsed, with the reason', async () => {
    const channel = await connection.createConfirmChannel();
    const body = `{"broken": "${run}"`;
    channel.publish('warehouse', 'shipment.confirmed', Buffer.from(body), { persistent: true });
    await channel.waitForConfirms();
    const message = await eventually(async () => dead.find((m) => m.content.toString() === body), 60_000);
    expect(String(message.properties.headers?.['x-platform-reason'])).toMatch(/^the body is not JSON/);
    await channel.close();
  });

  it('fails a batch per message: [good, poison, good] records both good ones and dead-letters the poison alone, with its reason', async () => {
    // GIVEN two shipped orders
    const customer = await app.call('POST', '/customers', { email: `wb-${run}@shop.example`, name: 'WB' });
    const customerId = String(customer.body.customerId);
    await app.read(`/customers/${customerId}`, (r) => r.status === 200, 30_000);
    const sku = `WB-${run}`;
    expect((await app.call('PUT', `/inventory/${sku}`, { available: 5 })).status).toBe(200);
    const orderIds: string[] = [];
    for (let i = 0; i < 2; i++) {
      const placed = await app.call('POST', '/orders', {
        customerId,
        currency: 'EUR',
        paymentToken: 'tok_visa',
        items: [{ sku, quantity: 1, unitPrice: 1000 }],
      });
      orderIds.push(String(placed.body.orderId));
    }
    const shipments = await eventually(async () => {
      const found = orderIds.map((id) =>
        shippingEvents.find((e) => e.body.aggregateId === id && e.body.type === 'OrderShipped'),
      );
      return found.every((f) => f !== undefined)
        ? found.map((f) => String((f?.body.data as { shipmentId?: string } | undefined)?.shipmentId))
        : undefined;
    }, 90_000);
    const confirmation = (orderId: string, shipmentId: string) =>
      JSON.stringify({
        orderId,
        shipmentId,
        trackingNumber: `TRK-B-${orderId}`,
        confirmedAt: new Date().toISOString(),
      });
    // A lone UTF-16 surrogate is valid JSON text: `"\ud800"`.
    const poison = `{"orderId":"o-\\ud800-${run}","shipmentId":"s","trackingNumber":"t","confirmedAt":"2026-01-01T00:00:00Z"}`;
    const binary = Buffer.from([0xff, 0xfe, 0xfd, run.charCodeAt(0)]);

    // WHEN the warehouse sends [good, poison, poison (not text), good] at once (one batch)
    const channel = await connection.createConfirmChannel();
    const options = { persistent: true, contentType: 'application/json' };
    channel.publish(
      'warehouse',
      'shipment.confirmed',
      Buffer.from(confirmation(orderIds[0] as string, shipments[0] as string)),
      { ...options, messageId: `good-1-${run}` },
    );
    channel.publish('warehouse', 'shipment.confirmed', Buffer.from(poison), {
      ...options,
      messageId: `poison-${run}`,
    });
    channel.publish('warehouse', 'shipment.confirmed', binary, { ...options, messageId: `binary-${run}` });
    channel.publish(
      'warehouse',
      'shipment.confirmed',
      Buffer.from(confirmation(orderIds[1] as string, shipments[1] as string)),
      { ...options, messageId: `good-2-${run}` },
    );
    await channel.waitForConfirms();

    // THEN both good confirmations are recorded on their orders
    for (const orderId of orderIds) {
      await app.read(`/orders/${orderId}`, (r) => r.body.trackingNumber === `TRK-B-${orderId}`, 60_000);
    }
    // AND each poison message is in the dead-letter queue alone, with its reason, the binary body byte for byte
    const poisoned = await eventually(
      async () => dead.find((m) => m.properties.messageId === `poison-${run}`),
      60_000,
    );
    expect(String(poisoned.properties.headers?.['x-platform-reason'])).toMatch(
      /orderId: must be well-formed Unicode/,
    );
    const notText = await eventually(
      async () => dead.find((m) => m.properties.messageId === `binary-${run}`),
      60_000,
    );
    expect(String(notText.properties.headers?.['x-platform-reason'])).toBe('the body is not UTF-8 text');
    expect([...notText.content]).toEqual([...binary]);
    // AND no good confirmation was dead-lettered, nor anything without a reason
    await new Promise((r) => setTimeout(r, 2000));
    expect(dead.some((m) => String(m.properties.messageId).startsWith('good-'))).toBe(false);
    expect(dead.every((m) => typeof m.properties.headers?.['x-platform-reason'] === 'string')).toBe(true);
    await channel.close();
  });
});

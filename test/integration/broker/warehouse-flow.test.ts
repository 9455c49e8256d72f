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
});

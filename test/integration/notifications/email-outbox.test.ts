/**
 * The e-mail outbox on its real parts (DynamoDB markers on the local emulator, the Redis priority
 * queue, a recording provider): a Redis that lost its data loses no e-mail, a sender that died
 * holding its claim loses none, and racing senders send one.
 */
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RedisPriorityQueue } from '../../../lambdas/commons/redis/priority-queue.js';
import { OPERATIONAL_STATE_KEY } from '../../../lambdas/commons/resilience/table-schema.js';
import {
  DynamoDbEmailMarkerStore,
  markerOf,
} from '../../../lambdas/notifications/adapters/email-marker-store.js';
import { EmailOutbox } from '../../../lambdas/notifications/application/email-outbox-service.js';
import { type EmailTask, emailKey } from '../../../lambdas/notifications/domain/email-dispatch.js';
import type { Email } from '../../../lambdas/notifications/domain/emails.js';

const engines = inject('engines');
const client = new DynamoDBClient({
  endpoint: engines.awsEndpointUrl,
  region: process.env.AWS_REGION ?? 'us-east-1',
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
  },
});
const db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
const tableName = `it-email-outbox-${randomUUID()}`;
let redis: Redis;
const queues: RedisPriorityQueue<EmailTask>[] = [];

beforeAll(async () => {
  redis = new Redis(engines.redisUrl);
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: OPERATIONAL_STATE_KEY, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: OPERATIONAL_STATE_KEY, KeyType: 'HASH' }],
    }),
  );
});
afterAll(async () => {
  for (const q of queues) await q.clear();
  await redis.quit();
  await client.send(new DeleteTableCommand({ TableName: tableName }));
});

function parts(options: { staleAfterMs?: number; sweepAfterMs?: number } = {}) {
  const queue = new RedisPriorityQueue<EmailTask>(redis, `outbox-${randomUUID()}`, {
    visibilityTimeoutMs: 200,
  });
  queues.push(queue);
  const markers = new DynamoDbEmailMarkerStore(db, tableName);
  const sent: Email[] = [];
  const outbox = new EmailOutbox({
    markers,
    queue: async () => queue,
    send: async (email) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      sent.push(email);
      return { messageId: `m-${sent.length}` };
    },
    staleAfterMs: options.staleAfterMs ?? 120_000,
    sweepAfterMs: options.sweepAfterMs ?? 0,
  });
  const drain = () => outbox.drain({ consumerId: 'it', shouldContinue: () => true, backoffMs: () => 10 });
  return { queue, markers, outbox, sent, drain };
}

const task = (): EmailTask => {
  const orderId = `o-${randomUUID()}`;
  return {
    key: emailKey(orderId, 'OrderShipped'),
    eventId: randomUUID(),
    email: {
      to: `${orderId}@example.com`,
      template: 'OrderShipped',
      data: { orderId },
      subject: `Order ${orderId} shipped`,
      text: '',
    },
  };
};

describe('e-mail outbox on DynamoDB and Redis', () => {
  it('GIVEN an owed e-mail WHEN Redis loses its data before it is sent THEN the sweep queues it again and it is sent once', async () => {
    const { queue, markers, outbox, sent, drain } = parts();
    const t = task();
    expect(await outbox.request(t)).toBe('requested');
    await queue.clear(); // what a Redis restart without persistence does
    expect((await drain()).sent).toBe(0);
    expect(await outbox.sweep()).toBeGreaterThanOrEqual(1);
    await drain();
    expect(sent.map((e) => e.subject)).toEqual([t.email.subject]);
    expect((await markers.load(t.key)).marker).toMatchObject({
      status: 'sent',
      messageId: 'm-1',
      pendingSince: null,
    });
    // Sent: a redelivered event, a second sweep and a second drain send nothing.
    expect(await outbox.request(t)).toBe('already-sent');
    await outbox.sweep();
    await drain();
    expect(sent).toHaveLength(1);
  });

  it('GIVEN a sender that died after its claim WHEN the claim is stale THEN another sends it, once', async () => {
    const { queue, markers, outbox, sent, drain } = parts({ staleAfterMs: 300 });
    const t = task();
    await outbox.request(t);
    const held = await queue.dequeue('dying');
    if (!held) throw new Error('nothing queued');
    await markers.execute(t.key, () => ({
      type: 'Claim',
      task: t,
      token: held.leaseToken,
      now: Date.now(),
      staleAfterMs: 300,
    }));
    // … it dies; its lease expires after 200 ms, its claim goes stale after 300 ms.
    await new Promise((resolve) => setTimeout(resolve, 250));
    const early = await drain();
    expect(early).toMatchObject({ sent: 0, retried: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1400));
    await drain();
    expect(sent).toHaveLength(1);
    expect((await markers.load(t.key)).marker).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('GIVEN five senders racing for one e-mail THEN one sends it', async () => {
    const { outbox, sent } = parts();
    const t = task();
    await outbox.request(t);
    await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => outbox.sendOnce(t, { leaseToken: `racer-${i}` })),
    );
    expect(sent).toHaveLength(1);
  });

  it('GIVEN a marker of the former at-most-once kind left `sending` by a crash THEN it reads as a stale claim: the e-mail is sent', () => {
    expect(markerOf({ pk: 'email#o#OrderPlaced', status: 'sending', to: 'a@b.c' })).toMatchObject({
      status: 'sending',
      claim: { at: 0 },
    });
  });
});

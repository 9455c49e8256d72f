/**
 * Bad messages put straight on the app's queues, on the local cloud: each ends in its DLQ at once
 * with a reason (not after the retries), a good message beside it is still handled, and the dead
 * letter always fits SQS (attributes SQS accepts, the copy within 256 KiB).
 */
import { randomUUID } from 'node:crypto';
import {
  type Message,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../../lambdas/commons/domain/decider.js';
import { createEnvelope } from '../../../lambdas/commons/event-store/envelope.js';
import { DEAD_LETTER_MAX_BYTES, sqsMessageSize } from '../../../lambdas/commons/messaging/dead-letter.js';
import { type RunningApp, startApp } from '../app.js';
import { eventually } from '../eventually.js';

describe('dead letters of bad messages', { timeout: 240_000 }, () => {
  let app: RunningApp;
  const run = randomUUID().slice(0, 8);
  const queueUrl = (prefix: string) => app.resource('AWS::SQS::Queue', prefix).ref;

  beforeAll(async () => {
    app = await startApp(`dead-letters-${run}`);
    // The queues outlive an app (same names each run): start from empty DLQs. Engines are used
    // under a lock, so nothing else is reading them now. (A dead letter the emulator accepted
    // but cannot serve, such as one sent with a lone surrogate before this fix, would otherwise
    // fail every receive.)
    for (const dlq of [
      'AnalyticsQueueDeadLetterQueue',
      'BrokerQueueDeadLetterQueue',
      'StockCheckRequestsDeadLetterQueue',
    ]) {
      await app.cloud.clients.sqs
        .send(new PurgeQueueCommand({ QueueUrl: queueUrl(dlq) }))
        .catch(() => undefined);
    }
  }, 180_000);
  afterAll(async () => {
    await app?.stop();
  });

  /** Sends `body` to `queue`; its message id (the dead letter's `sourceMessageId`). */
  const send = async (queue: string, body: string, attributes: Record<string, string> = {}) => {
    const out = await app.cloud.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl(queue),
        MessageBody: body,
        MessageAttributes: Object.fromEntries(
          Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
        ),
      }),
    );
    return String(out.MessageId);
  };
  const from = (messageId: string) => (m: Message) =>
    m.MessageAttributes?.sourceMessageId?.StringValue === messageId;

  /** The dead letter whose body or attributes match, received (and made visible again) from `dlq`. */
  const deadLetter = (dlq: string, match: (m: Message) => boolean, timeoutMs = 30_000) =>
    eventually(async () => {
      const received = await app.cloud.clients.sqs
        .send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl(dlq),
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            // Others' dead letters stay hidden while we look through the rest.
            VisibilityTimeout: 20,
            MessageAttributeNames: ['All'],
            AttributeNames: ['All'],
          }),
        )
        .catch(() => ({ Messages: [] as Message[] }));
      return received.Messages?.find(match);
    }, timeoutMs);

  const envelope = (type: string, data: unknown, aggregateId = `o-${run}-${randomUUID().slice(0, 4)}`) =>
    createEnvelope({ type, data } as DomainEvent, {
      aggregateType: 'Order',
      aggregateId,
      version: 1,
      correlationId: `c-${run}`,
      causationId: `c-${run}`,
    });

  it.each([
    ['AnalyticsQueue', 'AnalyticsQueueDeadLetterQueue'],
    ['BrokerQueue', 'BrokerQueueDeadLetterQueue'],
  ])('%s dead-letters an event whose data is invalid at once, with the reason', async (queue, dlq) => {
    // GIVEN a PaymentCompleted whose amount is negative and currency no ISO code
    const bad = envelope('PaymentCompleted', { orderId: 'o', paymentId: 'p', amount: -5, currency: 'euro' });
    const id = await send(queue, JSON.stringify(bad));
    // THEN it is in the DLQ after one attempt, with the fields named
    const dead = await deadLetter(dlq, from(id));
    expect(dead.Body).toBe(JSON.stringify(bad));
    expect(dead.MessageAttributes?.reason?.StringValue).toMatch(
      /^data of PaymentCompleted is invalid: amount: .*currency: /,
    );
    expect(dead.Attributes?.ApproximateReceiveCount).toBe('1');
  });

  it('dead-letters an envelope with a lone-surrogate id with a reason', async () => {
    const good = envelope('OrderPlaced', {});
    for (const field of ['eventId', 'aggregateId', 'correlationId']) {
      const marker = `ls-${field}-${run}`;
      // `\ud800` escaped in JSON text: SQS takes the body, the parsed id holds a lone surrogate.
      const body = JSON.stringify({ ...good, [field]: `${marker}-\ud800`, marker });
      const id = await send('AnalyticsQueue', body, { correlationId: marker });
      const dead = await deadLetter('AnalyticsQueueDeadLetterQueue', from(id));
      expect(dead.MessageAttributes?.reason?.StringValue).toMatch(
        new RegExp(`^not an event envelope: ${field}: must be well-formed Unicode`),
      );
    }
  });

  it('keeps a dead letter of a near-256 KiB body within SQS’s limit, with its reason', async () => {
    // GIVEN a body just under 256 KiB (what SNS and SQS accept), not an envelope
    const marker = `big-${run}`;
    const body = JSON.stringify({ marker, pad: 'p'.repeat(DEAD_LETTER_MAX_BYTES - 200) });
    expect(Buffer.byteLength(body)).toBeLessThan(DEAD_LETTER_MAX_BYTES);
    const id = await send('AnalyticsQueue', body);
    // THEN its dead letter fits 256 KiB with the attributes, and says where the whole body is
    const dead = await deadLetter('AnalyticsQueueDeadLetterQueue', from(id));
    expect(dead.MessageAttributes?.reason?.StringValue).toMatch(/^not an event envelope/);
    const attributes = Object.fromEntries(
      Object.entries(dead.MessageAttributes ?? {}).map(([k, v]) => [
        k,
        { DataType: v.DataType ?? 'String', StringValue: v.StringValue ?? '' },
      ]),
    );
    expect(sqsMessageSize(dead.Body ?? '', attributes)).toBeLessThanOrEqual(DEAD_LETTER_MAX_BYTES);
    // The consumer has a claim-check bucket: the body is kept whole behind it (else cut, marked).
    expect(
      dead.MessageAttributes?.bodyClaimChecked?.StringValue ??
        dead.MessageAttributes?.bodyTruncated?.StringValue,
    ).toBeDefined();
  });

  it("dead-letters a stock-check request naming any reply queue but the service's own, naming replyTo", async () => {
    // The stack tells the responder its one reply queue (REPLY_QUEUE_URL): a missing queue, another
    // account's or a foreign URL are all refused before any send (the unit tests cover the
    // account/region checks and a missing queue when no reply queue is configured).
    const account = queueUrl('StockCheckRequestsQueue').split('/').at(-2);
    const endpoint = new URL(queueUrl('StockCheckRequestsQueue')).origin;
    const notOurs = (url: string): RegExp =>
      new RegExp(
        `replyTo "${url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}" is not the reply queue of this service`,
      );
    const cases: [string, RegExp][] = [
      `${endpoint}/${account}/no-such-queue-${run}`,
      'https://attacker.example/123456789012/q',
      `${endpoint}/999999999999/q`,
    ].map((url) => [url, notOurs(url)]);
    for (const [replyTo, reason] of cases) {
      const correlationId = `sc-${randomUUID()}`;
      const id = await send(
        'StockCheckRequestsQueue',
        JSON.stringify({ orderId: `none-${run}`, deadline: Date.now() + 500 }),
        { correlationId, replyTo },
      );
      const dead = await deadLetter('StockCheckRequestsDeadLetterQueue', from(id));
      expect(dead.MessageAttributes?.reason?.StringValue).toMatch(reason);
    }
  });
});

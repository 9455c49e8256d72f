/**
 * Hostile messages on every queue, topic and exchange the platform consumes, against the real app
 * on the local cloud (one app for the file). Every case is bad by the consumer's own schemas (or
 * holds ill-formed Unicode): it must end in its dead-letter queue, topic or exchange with a
 * non-empty reason, nothing may crash or loop, and a good message sent after the flood must be
 * processed.
 *
 * How the cases travel, and why:
 * - SQS queues (inventory, payment, shipping, notification, analytics, broker bridge, stock-check
 *   requests): 1,000 cases per queue are delivered by invoking the deployed consumer directly with
 *   the SQS event its mapping would build (batches of 10), and every record it reports failed is
 *   delivered again with the next ApproximateReceiveCount, up to the queue's maxReceiveCount, as
 *   SQS would. This follows each message to its end without waiting for visibility timeouts
 *   (two minutes in dev), so a message still failing at maxReceiveCount is seen for what it is:
 *   SQS's redrive would move it without a reason. The dead letters are then read from the real
 *   DLQ (the consumer sends them there itself). Sending 7,000 messages through moto's SQS
 *   (about 70 messages/s) and waiting out the visibility timeouts would not fit the CI budget.
 * - The same queues, end to end: a sample of 50 cases per queue through the real queue (and 50
 *   through the order-events topic, fanned out by its filter policies), each due in its DLQ
 *   within 60 s; then an order placed after the flood must reach SHIPPED.
 * - RabbitMQ: all 1,000 cases through the real `warehouse` exchange to `shipment_confirmations`
 *   (one confirm channel), each due on `order_events.dead` with an `x-platform-reason` within
 *   60 s of the last publish; then a good confirmation must be recorded on its order.
 * - Kafka: all 1,000 cases through the real `user_activity` topic (one batched send over every
 *   partition), each due on `user_activity_dlt` with a `reason` header within 60 s; then a good
 *   event on every partition must be windowed (no partition stalls).
 */

import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { PublishBatchCommand } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import amqp, { type ChannelModel, type ConsumeMessage } from 'amqplib';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SUBSCRIPTIONS } from '../../lib/stacks/fulfilment-stack.js';
import {
  activityCase,
  activityProblem,
  confirmationCase,
  confirmationProblem,
  envelopeCase,
  envelopeProblem,
  type MessageCase,
  stockCheckCase,
  stockCheckProblem,
} from './generators/messages.js';
import { type HostileApp, startHostileApp } from './support/app.js';
import { mapPool, sleep } from './support/pool.js';
import { FailureLog, printable } from './support/report.js';
import { casesPerTarget, resolveSeed, seedFor, selected } from './support/seed.js';
import { collectDeadLetters, queueArnOf, sqsAccepts, sqsRecord } from './support/sqs.js';

const { seed, replay } = resolveSeed();
const CASES = casesPerTarget();
const E2E_SAMPLE = Math.min(50, CASES);
const DEAD_LETTER_WITHIN_MS = 60_000;
/** SQS's message size limit: a dead letter (body and attributes) must fit it, or it loops. */
const SQS_MAX_BYTES = 256 * 1024;

interface SqsTarget {
  readonly name: string;
  readonly fn: string;
  readonly queue: string;
  readonly dlq: string;
  readonly cases: () => fc.Arbitrary<MessageCase>;
  /** Why a case is bad, by the consumer's schemas: the failure classes group by it. */
  readonly problem: (c: MessageCase) => string;
}

const serviceTarget = (service: keyof typeof SUBSCRIPTIONS): SqsTarget => {
  const id = service.charAt(0).toUpperCase() + service.slice(1);
  const types = SUBSCRIPTIONS[service].eventTypes;
  return {
    name: `${service} queue`,
    fn: `${id}ConsumerFunction`,
    queue: `${id}Queue`,
    dlq: `${id}QueueDeadLetterQueue`,
    cases: () => envelopeCase(types),
    problem: (c) => envelopeProblem(c.body, types) ?? 'valid',
  };
};

const SQS_TARGETS: readonly SqsTarget[] = [
  ...(['inventory', 'payment', 'shipping', 'notification', 'analytics', 'broker'] as const).map(
    serviceTarget,
  ),
  {
    name: 'stock-check request queue',
    fn: 'StockCheckResponderFunction',
    queue: 'StockCheckRequestsQueue',
    dlq: 'StockCheckRequestsDeadLetterQueue',
    cases: stockCheckCase,
    problem: (c) => stockCheckProblem(c) ?? 'valid',
  },
];

describe('hostile messages on every queue, topic and exchange', () => {
  let app: HostileApp;
  const run = Date.now().toString(36);
  const queueUrl = (prefix: string) => app.resource('AWS::SQS::Queue', prefix).ref;
  const engines = () => inject('engines');

  beforeAll(async () => {
    console.log(`[hostile] messages: seed ${seed} (${replay}), ${CASES} cases per target`);
    app = await startHostileApp(`hostile-messages-${run}`);
  }, 300_000);

  afterAll(async () => {
    await app?.stop();
  });

  /**
   * Placeholders of the generated bodies and attributes, resolved against the running app. The
   * deadline of a stock-check request is set when it is sent (`withDeadline`).
   */
  const resolve = (text: string) =>
    text
      .replaceAll('__CLAIM_BUCKET__', claimCheckBucket())
      .replaceAll('__REPLY__', queueUrl('StockCheckRepliesQueue'))
      .replaceAll('__ENDPOINT__', engines().awsEndpointUrl.replace(/\/$/, ''));
  /** What SQS and SNS accept (the direct invocations cover the rest: a consumer may meet it from elsewhere). */
  const sendable = (c: MessageCase) =>
    sqsAccepts(c.body) &&
    Object.entries(c.attributes).every(([k, v]) => sqsAccepts(k) && sqsAccepts(v) && v !== '');
  /** The claim-check bucket as provisioned (its name holds the account and region). */
  const claimCheckBucket = () =>
    app.cloud.resources.ofType('AWS::S3::Bucket').find((b) => b.ref.startsWith('platform-dev-claim-checks'))
      ?.ref ?? 'platform-dev-claim-checks';
  /** A request's deadline a moment after it is sent: the responder tries to answer it. */
  const withDeadline = (body: string, inMs: number) =>
    body.replaceAll('__DEADLINE__', String(Date.now() + inMs));
  const resolved = (c: MessageCase): MessageCase => ({
    ...c,
    body: resolve(c.body),
    attributes: Object.fromEntries(Object.entries(c.attributes).map(([k, v]) => [k, resolve(v)])),
  });

  /**
   * SendMessageBatch, and entry by entry when SQS (or the SDK) refuses the batch whole: only what
   * SQS itself refuses (a body or attribute no queue accepts) stays out, and is counted.
   */
  const sendBatch = async (url: string, chunk: readonly MessageCase[]) => {
    const entries = chunk.map((c, n) => ({
      Id: String(n),
      MessageBody: c.body,
      MessageAttributes: Object.fromEntries(
        Object.entries(c.attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
      ),
    }));
    const send = (list: typeof entries) =>
      app.cloud.clients.sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: list }));
    return eachOnRefusal(entries, send);
  };
  const publishBatch = async (topicArn: string, chunk: readonly MessageCase[]) => {
    const entries = chunk.map((c, n) => ({
      Id: String(n),
      Message: c.body,
      MessageAttributes: { eventType: { DataType: 'String', StringValue: c.attributes.eventType ?? 'x' } },
    }));
    const publish = (list: typeof entries) =>
      app.cloud.clients.sns.send(
        new PublishBatchCommand({ TopicArn: topicArn, PublishBatchRequestEntries: list }),
      );
    return eachOnRefusal(entries, publish);
  };
  async function eachOnRefusal<E extends { Id: string }>(
    entries: E[],
    send: (list: E[]) => Promise<{ Successful?: { Id?: string }[]; Failed?: { Id?: string }[] }>,
  ): Promise<{ Successful: { Id?: string }[]; Failed: { Id?: string }[] }> {
    try {
      const r = await send(entries);
      return { Successful: r.Successful ?? [], Failed: r.Failed ?? [] };
    } catch {
      const one = await Promise.all(
        entries.map((e) =>
          send([e])
            .then((r) => (r.Successful?.length ? { ok: e.Id } : { failed: e.Id }))
            .catch(() => ({ failed: e.Id })),
        ),
      );
      return {
        Successful: one.flatMap((r) => ('ok' in r ? [{ Id: r.ok }] : [])),
        Failed: one.flatMap((r) => ('failed' in r ? [{ Id: r.failed }] : [])),
      };
    }
  }

  const maxReceiveCountOf = async (url: string): Promise<number> => {
    const { Attributes } = await app.cloud.clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['RedrivePolicy'] }),
    );
    return Number(JSON.parse(Attributes?.RedrivePolicy ?? '{}').maxReceiveCount ?? 1);
  };

  const reproOf = (c: MessageCase) =>
    `body ${printable(c.body.length > 300 ? `${c.body.slice(0, 300)}… (${c.body.length} chars)` : c.body)} attributes ${printable(JSON.stringify(c.attributes))} (${c.label})`;

  // ---- SQS: every consumer, 1,000 cases each, by direct invocation ---------------------------------

  for (const target of SQS_TARGETS.filter((t) => selected(t.name))) {
    it(`${target.name}: ${CASES} generated bad messages are dead-lettered with a reason`, async () => {
      const cases = fc
        .sample(target.cases(), { seed: seedFor(seed, target.name), numRuns: CASES })
        .map(resolved);
      const url = queueUrl(target.queue);
      const arn = queueArnOf(url);
      const maxReceiveCount = await maxReceiveCountOf(url);
      const fn = app.cloud.invoker(target.fn);
      const log = new FailureLog();
      const id = (i: number) => `hostile-${run}-${target.fn}-${i}`;
      const failedWhy = new Map<number, string>();
      const started = performance.now();
      let pending = cases.map((_, i) => i);
      let invocations = 0;
      for (let attempt = 1; attempt <= maxReceiveCount && pending.length > 0; attempt++) {
        const batches: number[][] = [];
        for (let i = 0; i < pending.length; i += 10) batches.push(pending.slice(i, i + 10));
        const failed = await mapPool(batches, 2, async (batch) => {
          invocations++;
          const records = batch.map((i) => {
            const c = cases[i] as MessageCase;
            return sqsRecord({
              messageId: id(i),
              body: withDeadline(c.body, 2000),
              attributes: c.attributes,
              attempt,
              queueArn: arn,
            });
          });
          const outcome = await fn.invoke({ Records: records });
          if (!outcome.ok) {
            for (const i of batch)
              failedWhy.set(
                i,
                `invocation failed (${outcome.kind}): ${outcome.errorType}: ${outcome.errorMessage}`,
              );
            return batch;
          }
          const failures = (
            (outcome.result as { batchItemFailures?: { itemIdentifier?: string }[] } | null)
              ?.batchItemFailures ?? []
          ).map((f) => f.itemIdentifier);
          return batch.filter((i) => failures.includes(id(i)));
        });
        pending = failed.flat();
      }
      for (const i of pending) {
        const c = cases[i] as MessageCase;
        log.add({
          klass: `${target.name}: still failing after maxReceiveCount (${maxReceiveCount}) deliveries: SQS would move it without a reason [${target.problem(c)}]`,
          repro: reproOf(c),
          observed: failedWhy.get(i) ?? 'reported as a batch item failure every time',
          caseIndex: i,
        });
      }
      // Every case's dead letter, by its source message id.
      const found = new Map<number, { reason: string | undefined; bytes: number }>();
      const expected = new Map(cases.map((_, i) => [id(i), i]));
      const { receiveErrors } = await collectDeadLetters(
        app.cloud.clients.sqs,
        queueUrl(target.dlq),
        (letter) => {
          const i = letter.sourceMessageId === undefined ? undefined : expected.get(letter.sourceMessageId);
          // Dead letters of earlier runs of the harness go too, or the DLQ grows run after run.
          if (i === undefined) return letter.sourceMessageId?.startsWith('hostile-') === true;
          found.set(i, { reason: letter.reason, bytes: letter.bytes });
          return true;
        },
        () => found.size >= cases.length - pending.length,
        Date.now() + DEAD_LETTER_WITHIN_MS,
      );
      if (receiveErrors.length > 0) {
        log.add({
          klass: `${target.name}: the DLQ could not be read (${receiveErrors.length} failed receives)`,
          repro: `ReceiveMessage ${queueUrl(target.dlq)}`,
          observed: receiveErrors[0] ?? '',
          caseIndex: -1,
        });
      }
      cases.forEach((c, i) => {
        if (pending.includes(i)) return;
        const letter = found.get(i);
        const klass = (problem: string) => `${target.name}: ${problem} [${target.problem(c)}]`;
        if (!letter) {
          log.add({
            klass: klass('not dead-lettered (consumed without a trace)'),
            repro: reproOf(c),
            observed: 'no dead letter with its sourceMessageId',
            caseIndex: i,
          });
        } else if (!letter.reason || letter.reason.trim() === '') {
          log.add({
            klass: klass('dead letter without a reason'),
            repro: reproOf(c),
            observed: `reason ${JSON.stringify(letter.reason)}`,
            caseIndex: i,
          });
        } else if (letter.bytes > SQS_MAX_BYTES) {
          log.add({
            klass: klass(`dead letter over SQS's 256 KiB limit`),
            repro: reproOf(c),
            observed: `${letter.bytes} bytes`,
            caseIndex: i,
          });
        }
      });
      const seconds = (performance.now() - started) / 1000;
      console.log(
        `[hostile] ${target.name}: ${cases.length} cases, ${invocations} invocations, ${found.size} dead letters in ${seconds.toFixed(1)} s`,
      );
      expect(log.total, log.summary(target.name, `${replay} HOSTILE_ONLY='${target.name}'`)).toBe(0);
    });
  }

  // ---- SQS and SNS end to end: a sample through the real queues and topic ---------------------------

  if (selected('end to end'))
    it(`end to end: ${E2E_SAMPLE} bad messages per queue and through the order-events topic reach their DLQs within ${DEAD_LETTER_WITHIN_MS / 1000} s; an order placed after them ships`, async () => {
      const sqs = app.cloud.clients.sqs;
      const log = new FailureLog();
      const started = performance.now();
      /** Per DLQ: the bodies still awaited (a body may be awaited more than once). */
      const awaited = new Map<
        string,
        { body: string; target: string; problem: string; c: MessageCase; index: number }[]
      >();
      const await_ = (
        dlq: string,
        entry: { body: string; target: string; problem: string; c: MessageCase; index: number },
      ) => {
        awaited.set(dlq, [...(awaited.get(dlq) ?? []), entry]);
      };
      let refusedBySqs = 0;
      for (const target of SQS_TARGETS) {
        const cases = fc
          .sample(target.cases(), { seed: seedFor(seed, `${target.name}/e2e`), numRuns: E2E_SAMPLE * 2 })
          .map(resolved)
          .filter(sendable)
          .slice(0, E2E_SAMPLE);
        for (let i = 0; i < cases.length; i += 10) {
          const chunk = cases.slice(i, i + 10).map((c) => ({ ...c, body: withDeadline(c.body, 5000) }));
          const sent = await sendBatch(queueUrl(target.queue), chunk);
          refusedBySqs += sent.Failed?.length ?? 0;
          for (const ok of sent.Successful ?? []) {
            const c = chunk[Number(ok.Id)] as MessageCase;
            await_(queueUrl(target.dlq), {
              body: c.body,
              target: target.name,
              problem: target.problem(c),
              c,
              index: i + Number(ok.Id),
            });
          }
        }
      }
      // Through the topic: what its filter policy routes to each queue is bad for that queue.
      const topicArn = Object.values(app.cloud.resources.outputs).find(
        (o) => o.OrderEventsTopicArn,
      )?.OrderEventsTopicArn;
      expect(topicArn).toBeDefined();
      const services = Object.keys(SUBSCRIPTIONS) as (keyof typeof SUBSCRIPTIONS)[];
      const allTypes = [...new Set(services.flatMap((s) => SUBSCRIPTIONS[s].eventTypes))];
      const topicCases = fc
        .sample(envelopeCase(allTypes), { seed: seedFor(seed, 'topic/e2e'), numRuns: E2E_SAMPLE * 3 })
        .map(resolved)
        .filter(sendable)
        .filter((c) => c.body.length < 100_000)
        .filter((c) =>
          services.every(
            (s) =>
              !SUBSCRIPTIONS[s].eventTypes.includes(c.attributes.eventType ?? '') ||
              envelopeProblem(c.body, SUBSCRIPTIONS[s].eventTypes),
          ),
        )
        .slice(0, E2E_SAMPLE);
      for (let i = 0; i < topicCases.length; i += 10) {
        const chunk = topicCases.slice(i, i + 10);
        const sent = await publishBatch(topicArn as string, chunk);
        refusedBySqs += sent.Failed?.length ?? 0;
        for (const ok of sent.Successful ?? []) {
          const c = chunk[Number(ok.Id)] as MessageCase;
          for (const s of services.filter((s) =>
            SUBSCRIPTIONS[s].eventTypes.includes(c.attributes.eventType ?? ''),
          )) {
            const id = s.charAt(0).toUpperCase() + s.slice(1);
            await_(queueUrl(`${id}QueueDeadLetterQueue`), {
              body: c.body,
              target: `order-events topic -> ${s}`,
              problem: envelopeProblem(c.body, SUBSCRIPTIONS[s].eventTypes) ?? 'valid',
              c,
              index: i + Number(ok.Id),
            });
          }
        }
      }
      const deadline = Date.now() + DEAD_LETTER_WITHIN_MS;
      await Promise.all(
        [...awaited.entries()].map(([dlq, entries]) =>
          collectDeadLetters(
            sqs,
            dlq,
            (letter) => {
              const at = entries.findIndex((e) => e.body === letter.body);
              if (at < 0) return false;
              const [entry] = entries.splice(at, 1);
              if (entry && (!letter.reason || letter.reason.trim() === '')) {
                log.add({
                  klass: `${entry.target}: dead letter without a reason [${entry.problem}]`,
                  repro: reproOf(entry.c),
                  observed: 'no reason attribute',
                  caseIndex: entry.index,
                });
              }
              return true;
            },
            () => entries.length === 0,
            deadline,
          ).then(({ receiveErrors }) => {
            if (receiveErrors.length > 0) {
              log.add({
                klass: `end to end: a DLQ could not be read (${receiveErrors.length} failed receives)`,
                repro: `ReceiveMessage ${dlq}`,
                observed: receiveErrors[0] ?? '',
                caseIndex: -1,
              });
            }
          }),
        ),
      );
      // Where the missing ones are: still on their queue (visible, or in flight for a retry), or gone.
      const depth = async (url: string) => {
        const { Attributes = {} } = await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: url,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        );
        return `${Attributes.ApproximateNumberOfMessages} visible, ${Attributes.ApproximateNumberOfMessagesNotVisible} in flight`;
      };
      for (const [dlq, entries] of awaited.entries()) {
        const source = SQS_TARGETS.find((t) => queueUrl(t.dlq) === dlq);
        const where =
          entries.length > 0 && source ? `; its queue: ${await depth(queueUrl(source.queue))}` : '';
        for (const e of entries) {
          log.add({
            klass: `${e.target}: not in its DLQ within ${DEAD_LETTER_WITHIN_MS / 1000} s [${e.problem}]`,
            repro: reproOf(e.c),
            observed: `no dead letter with its body${where}`,
            caseIndex: e.index,
          });
        }
      }
      // A good order after the flood goes all the way.
      const customer = await app.call('POST', '/customers', {
        email: `after-flood-${run}@shop.example`,
        name: 'After',
      });
      const sku = `AFTER-FLOOD-${run}`;
      expect((await app.call('PUT', `/inventory/${sku}`, { available: 5 })).status).toBe(200);
      const placed = await app.call('POST', '/orders', {
        customerId: String(customer.body.customerId),
        currency: 'EUR',
        paymentToken: 'tok_visa',
        items: [{ sku, quantity: 1, unitPrice: 1000 }],
      });
      expect(placed.status).toBe(202);
      const orderId = String(placed.body.orderId);
      const shippedBy = Date.now() + 120_000;
      let status = '';
      while (Date.now() < shippedBy && status !== 'SHIPPED') {
        status = String((await app.call('GET', `/orders/${orderId}`)).body.status ?? '');
        if (status !== 'SHIPPED') await sleep(500);
      }
      if (status !== 'SHIPPED') {
        log.add({
          klass: 'an order placed after the flood did not reach SHIPPED within 120 s',
          repro: `order ${orderId}`,
          observed: `status ${status}`,
          caseIndex: -1,
        });
      }
      shippedOrder = status === 'SHIPPED' ? orderId : undefined;
      console.log(
        `[hostile] end to end: ${[...awaited.values()].length} DLQs, ${refusedBySqs} entries refused by SQS/SNS, order after the flood ${status} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
      expect(log.total, log.summary('end to end', replay)).toBe(0);
    }, 300_000);
  let shippedOrder: string | undefined;

  // ---- RabbitMQ: shipment confirmations through the warehouse exchange -----------------------------

  if (selected('rabbitmq'))
    it(`rabbitmq shipment_confirmations: ${CASES} generated bad confirmations reach order_events.dead with x-platform-reason; a good one is recorded`, async () => {
      const secretArn = app.resource('AWS::SecretsManager::Secret', 'RabbitAppSecret').ref;
      const secret = await app.cloud.clients.secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
      const { username, password } = JSON.parse(secret.SecretString ?? '{}') as {
        username: string;
        password: string;
      };
      const url = new URL(engines().rabbitmqUrl);
      url.username = encodeURIComponent(username);
      url.password = encodeURIComponent(password);
      url.pathname = '/platform';
      const connection: ChannelModel = await amqp.connect(url.toString());
      const log = new FailureLog();
      const prefix = `hostile-${run}-rmq-`;
      const dead = new Map<string, ConsumeMessage>();
      try {
        const watch = await connection.createChannel();
        await watch.prefetch(100);
        await watch.consume('order_events.dead', (m) => {
          if (!m) return;
          const id = m.properties.messageId;
          if (typeof id === 'string' && id.startsWith(prefix)) dead.set(id, m);
          watch.ack(m);
        });
        const cases = fc.sample(confirmationCase(), { seed: seedFor(seed, 'rabbitmq'), numRuns: CASES });
        const channel = await connection.createConfirmChannel();
        const started = performance.now();
        for (const [i, c] of cases.entries()) {
          channel.publish('warehouse', 'shipment.confirmed', c.body, {
            persistent: true,
            messageId: `${prefix}${i}`,
            headers: c.headers,
            ...(c.correlationId !== undefined ? { correlationId: c.correlationId } : {}),
            ...(c.contentType !== undefined ? { contentType: c.contentType } : {}),
          });
          if (i % 100 === 99) await channel.waitForConfirms();
        }
        // A good confirmation right behind the flood, for the order that shipped (if the SQS part ran).
        const tracking = `TRK-hostile-${run}`;
        if (shippedOrder) {
          channel.publish(
            'warehouse',
            'shipment.confirmed',
            Buffer.from(
              JSON.stringify({
                orderId: shippedOrder,
                shipmentId: `shp-${shippedOrder}`,
                trackingNumber: tracking,
                confirmedAt: new Date().toISOString(),
              }),
            ),
            { persistent: true, messageId: `${prefix}good`, contentType: 'application/json' },
          );
        }
        await channel.waitForConfirms();
        const deadline = Date.now() + DEAD_LETTER_WITHIN_MS;
        while (Date.now() < deadline && dead.size < cases.length) await sleep(250);
        const publishedSeconds = (performance.now() - started) / 1000;
        cases.forEach((c, i) => {
          const m = dead.get(`${prefix}${i}`);
          const repro = `publish to warehouse/shipment.confirmed: ${printable(c.body.toString('latin1').slice(0, 300))} headers ${printable(JSON.stringify(c.headers))} correlationId ${printable(String(c.correlationId))} contentType ${String(c.contentType)} (${c.label})`;
          const klass = (problem: string) => `rabbitmq: ${problem} [${confirmationProblem(c)}]`;
          if (!m) {
            log.add({
              klass: klass(`not dead-lettered within ${DEAD_LETTER_WITHIN_MS / 1000} s`),
              repro,
              observed: 'not on order_events.dead',
              caseIndex: i,
            });
            return;
          }
          const reason = m.properties.headers?.['x-platform-reason'];
          if (typeof reason !== 'string' && !Buffer.isBuffer(reason)) {
            const death = JSON.stringify(m.properties.headers?.['x-death'] ?? null);
            log.add({
              klass: klass('dead letter without x-platform-reason'),
              repro,
              observed: `x-death ${printable(death.slice(0, 200))}`,
              caseIndex: i,
            });
          } else if (String(reason).trim() === '') {
            log.add({
              klass: klass('dead letter with an empty x-platform-reason'),
              repro,
              observed: '""',
              caseIndex: i,
            });
          }
        });
        if (shippedOrder) {
          if (dead.has(`${prefix}good`)) {
            log.add({
              klass: 'rabbitmq: the good confirmation sent behind the flood was dead-lettered',
              repro: `order ${shippedOrder}`,
              observed: String(dead.get(`${prefix}good`)?.properties.headers?.['x-platform-reason']),
              caseIndex: -1,
            });
          }
          let recorded = false;
          const until = Date.now() + DEAD_LETTER_WITHIN_MS;
          while (!recorded && Date.now() < until) {
            recorded = (await app.call('GET', `/orders/${shippedOrder}`)).body.trackingNumber === tracking;
            if (!recorded) await sleep(500);
          }
          if (!recorded) {
            log.add({
              klass: 'rabbitmq: the good confirmation sent behind the flood was not recorded within 60 s',
              repro: `order ${shippedOrder}`,
              observed: 'no trackingNumber',
              caseIndex: -1,
            });
          }
        }
        console.log(
          `[hostile] rabbitmq: ${cases.length} cases, ${dead.size} dead letters, ${publishedSeconds.toFixed(1)} s from first publish to the last dead letter or the bound`,
        );
        await channel.close();
        await watch.close();
      } finally {
        await connection.close().catch(() => undefined);
      }
      expect(log.total, log.summary('rabbitmq', `${replay} HOSTILE_ONLY=rabbitmq`)).toBe(0);
    }, 300_000);

  // ---- Kafka: user_activity ------------------------------------------------------------------------

  if (selected('kafka'))
    it(`kafka user_activity: ${CASES} generated bad records reach user_activity_dlt with a reason; a good event on every partition is windowed`, async () => {
      const kafka = new Kafka({
        clientId: `hostile-${run}`,
        brokers: engines().kafkaBrokers,
        logLevel: logLevel.NOTHING,
      });
      const admin = kafka.admin();
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      const consumer = kafka.consumer({ groupId: `hostile-dlt-${run}` });
      const log = new FailureLog();
      const letters = new Map<string, Record<string, string>>();
      try {
        await Promise.all([admin.connect(), producer.connect(), consumer.connect()]);
        const [meta] = (await admin.fetchTopicMetadata({ topics: ['user_activity'] })).topics;
        const partitions = (meta?.partitions ?? []).map((p) => p.partitionId).sort((a, b) => a - b);
        expect(partitions.length).toBeGreaterThan(0);
        await consumer.subscribe({ topic: 'user_activity_dlt', fromBeginning: false });
        const joined = new Promise<void>((resolve) =>
          consumer.on(consumer.events.GROUP_JOIN, () => resolve()),
        );
        await consumer.run({
          eachMessage: async ({ message }) => {
            const headers = Object.fromEntries(
              Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
            );
            if (headers.sourceTopic === 'user_activity')
              letters.set(`${headers.sourcePartition}:${headers.sourceOffset}`, headers);
          },
        });
        await joined;
        const cases = fc.sample(activityCase(), { seed: seedFor(seed, 'kafka'), numRuns: CASES });
        const started = performance.now();
        // Sent in chunks of at most ~512 KB per request (the broker's batch limit is 1 MB); the
        // offsets each send returns say where every case landed.
        const offsetOf: string[] = [];
        let chunk: number[] = [];
        let chunkBytes = 0;
        const flush = async () => {
          if (chunk.length === 0) return;
          const sent = await producer.send({
            topic: 'user_activity',
            acks: -1,
            messages: chunk.map((i) => {
              const c = cases[i] as (typeof cases)[number];
              return {
                partition: partitions[i % partitions.length] as number,
                key: c.key,
                value: c.value,
                headers: c.headers as Record<string, Buffer>,
              };
            }),
          });
          const base = new Map(sent.map((r) => [r.partition, BigInt(r.baseOffset ?? '0')]));
          const nth = new Map<number, bigint>();
          for (const i of chunk) {
            const p = partitions[i % partitions.length] as number;
            const k = nth.get(p) ?? 0n;
            nth.set(p, k + 1n);
            offsetOf[i] = `${p}:${(base.get(p) ?? 0n) + k}`;
          }
          chunk = [];
          chunkBytes = 0;
        };
        for (const [i, c] of cases.entries()) {
          const bytes = (c.value?.length ?? 0) + (c.key?.length ?? 0);
          if (chunkBytes + bytes > 512 * 1024) await flush();
          chunk.push(i);
          chunkBytes += bytes;
        }
        await flush();
        const deadline = Date.now() + DEAD_LETTER_WITHIN_MS;
        while (Date.now() < deadline && offsetOf.some((o) => !letters.has(o))) await sleep(250);
        cases.forEach((c, i) => {
          const headers = letters.get(offsetOf[i] as string);
          const repro = `produce to user_activity (partition/offset ${offsetOf[i]}): key ${c.key === null ? 'null' : printable(c.key.toString('latin1'))} value ${c.value === null ? 'null' : printable(c.value.toString('latin1').slice(0, 300))} headers ${printable(JSON.stringify(Object.fromEntries(Object.entries(c.headers).map(([k, v]) => [k, v.toString('latin1')]))))} (${c.label})`;
          const klass = (problem: string) => `kafka: ${problem} [${activityProblem(c.value)}]`;
          if (!headers)
            log.add({
              klass: klass(`not on user_activity_dlt within ${DEAD_LETTER_WITHIN_MS / 1000} s`),
              repro,
              observed: 'no dead letter',
              caseIndex: i,
            });
          else if (!headers.reason || headers.reason.trim() === '')
            log.add({
              klass: klass('dead letter without a reason'),
              repro,
              observed: JSON.stringify(headers),
              caseIndex: i,
            });
        });
        const dltSeconds = (performance.now() - started) / 1000;
        // Good events behind the flood, on every partition: each must be windowed (no partition stalls).
        const redis = new Redis(engines().redisUrl);
        let clock = Date.now();
        try {
          for (const key of await redis.keys('analytics:{user_activity:*}:meta')) {
            clock = Math.max(clock, Number((await redis.hget(key, 'streamTime')) ?? 0) + 10_000);
          }
        } finally {
          redis.disconnect();
        }
        clock = Math.ceil(clock / 60_000) * 60_000 + 1000;
        const users = partitions.map((p) => ({ p, user: `hostile-good-${run}-${p}` }));
        const event = (userId: string, at: number, page: string) =>
          Buffer.from(
            JSON.stringify({
              schemaVersion: 1,
              type: 'page_view',
              userId,
              page,
              occurredAt: new Date(at).toISOString(),
            }),
          );
        await producer.send({
          topic: 'user_activity',
          acks: -1,
          messages: users.flatMap(({ p, user }) => [
            { partition: p, key: user, value: event(user, clock, '/after-the-flood') },
            // Past the 60 s window and its 30 s grace: the window closes.
            { partition: p, key: user, value: event(user, clock + 120_000, '/later') },
          ]),
        });
        const windowedBy = Date.now() + DEAD_LETTER_WITHIN_MS;
        const pendingUsers = new Set(users.map((u) => u.user));
        while (pendingUsers.size > 0 && Date.now() < windowedBy) {
          for (const user of [...pendingUsers]) {
            const reply = await app.call('GET', `/analytics/users/${user}?window=tumbling-60s`);
            if (Array.isArray(reply.body.windows) && reply.body.windows.length > 0) pendingUsers.delete(user);
          }
          if (pendingUsers.size > 0) await sleep(1000);
        }
        for (const { p, user } of users.filter((u) => pendingUsers.has(u.user))) {
          log.add({
            klass: 'kafka: a good event behind the flood was not windowed within 60 s (partition stalled?)',
            repro: `partition ${p}, user ${user}`,
            observed: 'no closed window',
            caseIndex: -1,
          });
        }
        console.log(
          `[hostile] kafka: ${cases.length} cases over ${partitions.length} partitions, ${letters.size} dead letters in ${dltSeconds.toFixed(1)} s; good events windowed on ${partitions.length - pendingUsers.size}/${partitions.length} partitions`,
        );
      } finally {
        await Promise.allSettled([consumer.disconnect(), producer.disconnect(), admin.disconnect()]);
      }
      expect(log.total, log.summary('kafka', `${replay} HOSTILE_ONLY=kafka`)).toBe(0);
    }, 300_000);
});

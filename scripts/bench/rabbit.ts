import { randomUUID } from 'node:crypto';
import amqp, { type ConfirmChannel } from 'amqplib';
import { publishConfirmed } from '../../lambdas/commons/rabbitmq/connection.js';
import { ensureEngines } from '../lib/engines.js';
import { median, round } from './stats.js';
import type { BenchSuite } from './types.js';

/** Messages per run of the batched publisher, and of the seed's one-await-per-message loop. */
const BATCHED = 5_000;
const AWAITED = 1_000;
/** Messages per wait for confirms. */
const BATCH = 500;

/** An order event of the size the platform publishes (~250 bytes). */
const message = (i: number) => ({
  routingKey: '',
  messageId: `m-${i}`,
  body: JSON.stringify({
    eventId: `e-${i}`,
    type: 'OrderShipped',
    orderId: `order-${i % 1000}`,
    version: i,
    occurredAt: new Date(1_700_000_000_000 + i).toISOString(),
    data: { carrier: 'DHL', trackingNumber: `TRK${String(i).padStart(10, '0')}`, items: i % 7 },
  }),
});

/**
 * `rabbit.publishPerSec` against `rabbit.awaitedPublishPerSec` on the same local RabbitMQ,
 * connection and durable quorum queue: persistent publishes with publisher confirms, waiting once
 * per 500 messages (the platform's `publishConfirmed`) against waiting for each message's confirm
 * before the next publish, the seed's way.
 */
export const rabbitSuite: BenchSuite = {
  name: 'rabbit',
  description:
    'RabbitMQ publisher confirms: persistent publishes to a durable quorum queue, one wait per 500 messages ' +
    'against one awaited publish per message (local broker)',
  async run(ctx) {
    ctx.log('rabbit: engines');
    const engines = await ensureEngines(['rabbitmq'], { log: (l) => ctx.log(`rabbit: ${l}`) });
    const connection = await amqp.connect(engines.rabbitmqUrl);
    const queue = `bench_confirms_${randomUUID().slice(0, 8)}`;
    let channel: ConfirmChannel | undefined;
    try {
      channel = await connection.createConfirmChannel();
      const ch = channel;
      await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      const toQueue = (i: number) => ({ ...message(i), routingKey: queue });

      /** Every confirmed message is in the queue; then empty it (outside the timing). */
      const settle = async (expected: number): Promise<void> => {
        const { messageCount } = await ch.checkQueue(queue);
        if (messageCount !== expected) {
          throw new Error(`rabbit: ${messageCount} messages in the queue after ${expected} confirmed`);
        }
        await ch.purgeQueue(queue);
      };
      const batched = async (): Promise<number> => {
        const t0 = performance.now();
        for (let i = 0; i < BATCHED; i += BATCH) {
          await publishConfirmed(
            ch,
            '',
            Array.from({ length: BATCH }, (_, n) => toQueue(i + n)),
          );
        }
        const rate = BATCHED / ((performance.now() - t0) / 1000);
        await settle(BATCHED);
        return rate;
      };
      const awaited = async (): Promise<number> => {
        const t0 = performance.now();
        for (let i = 0; i < AWAITED; i++) {
          const m = toQueue(i);
          ch.publish('', queue, Buffer.from(m.body), {
            persistent: true,
            contentType: 'application/json',
            messageId: m.messageId,
          });
          await ch.waitForConfirms();
        }
        const rate = AWAITED / ((performance.now() - t0) / 1000);
        await settle(AWAITED);
        return rate;
      };

      ctx.log(
        `rabbit: warm-up, then ${ctx.runs} runs of ${BATCHED} batched and ${AWAITED} awaited publishes`,
      );
      for (let w = 0; w < Math.max(1, ctx.warmup); w++) {
        await batched();
        await awaited();
      }
      const b: number[] = [];
      const a: number[] = [];
      for (let run = 0; run < ctx.runs; run++) {
        b.push(await batched());
        a.push(await awaited());
      }
      const batchedRate = median(b);
      const awaitedRate = median(a);
      return {
        publishPerSec: { value: round(batchedRate, 0), unit: 'msg/s', baseline: round(awaitedRate, 0) },
        awaitedPublishPerSec: { value: round(awaitedRate, 0), unit: 'msg/s' },
        speedupVsAwaitedPublish: { value: round(batchedRate / awaitedRate, 1), unit: 'x' },
      };
    } finally {
      await channel?.deleteQueue(queue).catch(() => undefined);
      await connection.close().catch(() => undefined);
    }
  },
};

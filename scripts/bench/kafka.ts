import { randomUUID } from 'node:crypto';
import { Admin } from '@platformatic/kafka';
import { connectionFor } from '../../lambdas/commons/kafka/connection.js';
import { createProducer, type OutgoingMessage, produce } from '../../lambdas/commons/kafka/producer.js';
import { ensureEngines } from '../lib/engines.js';
import { median, round } from './stats.js';
import type { BenchSuite } from './types.js';

/** Messages per run of the batched producer, and of the seed's one-await-per-message loop. */
const BATCHED = 20_000;
const AWAITED = 1_000;
/** Events per send: what one POST /events carries at most. */
const BATCH = 500;

/** An activity event of the size clients send (~220 bytes). */
const message = (topic: string, i: number): OutgoingMessage => ({
  topic,
  key: `user-${i % 1000}`,
  value: JSON.stringify({
    schemaVersion: 1,
    eventId: `e-${i}`,
    type: 'page_view',
    userId: `user-${i % 1000}`,
    page: `/products/${i % 250}`,
    occurredAt: new Date(1_700_000_000_000 + i).toISOString(),
    sessionId: `s-${i % 5000}`,
  }),
  headers: { eventType: 'page_view', schemaVersion: '1' },
});

/**
 * `kafka.producer.msgsPerSec` against `kafka.producer.awaitedMsgsPerSec` on the same local broker and
 * topic, with the platform's producer (idempotent, acks=all, gzip): sends of 500 messages (one
 * POST /events) against one awaited send per message, the seed's way.
 */
export const kafkaSuite: BenchSuite = {
  name: 'kafka',
  description: 'Kafka producer: batched sends against one awaited send per message (local broker)',
  async run(ctx) {
    ctx.log('kafka: engines');
    const engines = await ensureEngines(['kafka'], { log: (l) => ctx.log(`kafka: ${l}`) });
    const connection = connectionFor(engines.kafkaBrokers.join(','));
    const topic = `bench_producer_${randomUUID().slice(0, 8)}`;
    const admin = new Admin({ clientId: 'bench-admin', bootstrapBrokers: [...connection.bootstrapBrokers] });
    await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 });
    await admin.close();
    const producer = createProducer(connection, 'bench-producer');
    try {
      const batched = async (): Promise<number> => {
        const t0 = performance.now();
        for (let i = 0; i < BATCHED; i += BATCH) {
          await produce(
            producer,
            Array.from({ length: BATCH }, (_, n) => message(topic, i + n)),
          );
        }
        return BATCHED / ((performance.now() - t0) / 1000);
      };
      const awaited = async (): Promise<number> => {
        const t0 = performance.now();
        for (let i = 0; i < AWAITED; i++) await produce(producer, [message(topic, i)]);
        return AWAITED / ((performance.now() - t0) / 1000);
      };
      ctx.log(`kafka: warm-up, then ${ctx.runs} runs of ${BATCHED} batched and ${AWAITED} awaited messages`);
      await batched();
      await awaited();
      const b: number[] = [];
      const a: number[] = [];
      for (let r = 0; r < ctx.runs; r++) {
        b.push(await batched());
        a.push(await awaited());
      }
      const batchedRate = median(b);
      const awaitedRate = median(a);
      return {
        batchedMessagesPerSec: {
          value: round(batchedRate, 0),
          unit: 'msg/s',
          baseline: round(awaitedRate, 0),
        },
        awaitedMessagesPerSec: { value: round(awaitedRate, 0), unit: 'msg/s' },
        batchedSpeedup: { value: round(batchedRate / awaitedRate, 1), unit: 'x' },
      };
    } finally {
      await producer.close();
      const cleanup = new Admin({
        clientId: 'bench-admin',
        bootstrapBrokers: [...connection.bootstrapBrokers],
      });
      await cleanup.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await cleanup.close();
    }
  },
};

import { batchSuite } from './batch.js';
import { eventStoreSuite } from './event-store.js';
import { kafkaSuite } from './kafka.js';
import { localCloudSuite } from './local-cloud.js';
import { ordersSuite } from './orders.js';
import { rabbitSuite } from './rabbit.js';
import { redisQueueSuite } from './redis-queue.js';
import { synthSuite } from './synth.js';
import type { BenchSuite } from './types.js';
import { windowingSuite } from './windowing.js';

/**
 * The figure suites, run in this order. `synth` must stay first: it (re)builds the cloud assembly
 * that the bundle measurements read. Add new suites (e.g. `windowing`, `eventStore`) at the end:
 *
 *   // scripts/bench/windowing.ts
 *   export const windowingSuite: BenchSuite = {
 *     name: 'windowing',
 *     description: 'tumbling-window aggregation throughput',
 *     async run(ctx) {
 *       ctx.log('windowing: 1e6 events');
 *       return { eventsPerSecond: { value: 812_000, unit: 'events/s', baseline: 500_000 } };
 *     },
 *   };
 *
 * which reports `figures["windowing.eventsPerSecond"]`. Use `ctx.runs` and the helpers in `stats.ts`
 * for repeated measurements.
 */
export const suites: readonly BenchSuite[] = [
  synthSuite,
  localCloudSuite,
  eventStoreSuite,
  ordersSuite,
  batchSuite,
  windowingSuite,
  kafkaSuite,
  redisQueueSuite,
  rabbitSuite,
];

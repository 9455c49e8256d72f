import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisPriorityQueue } from '../../lambdas/commons/redis/priority-queue.js';
import { ensureEngines } from '../lib/engines.js';
import { median, round } from './stats.js';
import type { BenchSuite } from './types.js';

/** Tasks per run, for both queues. */
const TASKS = 5_000;
/** The seed's consumer blocks this long when the queue is empty (seconds, as BZPOPMIN takes it). */
const SEED_POP_TIMEOUT_S = 0.1;

/** The seed's task (its usage example). */
const task = (i: number) => ({
  task_type: 'send_email',
  recipient: `user-${i}@example.com`,
  subject: 'Welcome!',
  body: 'Welcome to our platform!',
});

/** Python's `hash(str(message))` stand-in: any 32-bit string hash (FNV-1a). */
function stringHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0;
}

/**
 * The seed chapter's `RedisQueue`, faithfully: the whole message JSON is the sorted-set member and
 * the priority its score; `dequeue` is BZPOPMIN with a timeout. No lease, no ack: a consumer that
 * dies after the pop loses the task, and ties are ordered by the JSON string (not FIFO), lowest
 * score first.
 */
class SeedRedisQueue {
  constructor(
    private readonly redis: Redis,
    private readonly queueName: string,
  ) {}

  async enqueue(message: unknown, priority = 0): Promise<string> {
    const messageData = {
      id: `${Date.now() / 1000}_${stringHash(JSON.stringify(message))}`,
      timestamp: Date.now() / 1000,
      payload: message,
      priority,
      retry_count: 0,
    };
    await this.redis.zadd(this.queueName, priority, JSON.stringify(messageData));
    return messageData.id;
  }

  async dequeue(timeout = 0): Promise<{ id: string; payload: unknown } | undefined> {
    const result = await this.redis.bzpopmin(this.queueName, timeout);
    return result ? (JSON.parse(result[1]) as { id: string; payload: unknown }) : undefined;
  }

  async clear(): Promise<void> {
    await this.redis.del(this.queueName);
  }
}

/**
 * `redisQueue.opsPerSec` against `redisQueue.seedOpsPerSec`: one op is one task enqueued,
 * dequeued and (for the reliable queue) acked, one awaited command at a time, on the same local
 * Redis and connection, for the same 5,000 tasks.
 */
export const redisQueueSuite: BenchSuite = {
  name: 'redisQueue',
  description:
    'Redis priority queue: the reliable queue (Lua enqueue, leased dequeue, ack) against the seed ZADD/BZPOPMIN ' +
    'queue, tasks/s through enqueue+dequeue(+ack) on the local Redis. The seed loses a task whose consumer dies ' +
    'after the pop and orders ties by JSON string, not FIFO: its speed is the price of no reliability.',
  async run(ctx) {
    ctx.log('redisQueue: engines');
    const engines = await ensureEngines(['redis'], { log: (l) => ctx.log(`redisQueue: ${l}`) });
    const redis = new Redis(engines.redisUrl);
    try {
      const reliable = async (): Promise<number> => {
        const queue = new RedisPriorityQueue<ReturnType<typeof task>>(redis, `bench-${randomUUID()}`);
        try {
          const t0 = performance.now();
          for (let i = 0; i < TASKS; i++) await queue.enqueue(task(i), i % 5);
          for (let i = 0; i < TASKS; i++) {
            const d = await queue.dequeue('bench');
            if (!d) throw new Error(`reliable queue: empty after ${i} of ${TASKS} tasks`);
            if (!(await queue.ack(d))) throw new Error(`reliable queue: ack refused for ${d.id}`);
          }
          const seconds = (performance.now() - t0) / 1000;
          const left = await queue.size();
          if (left.pending + left.inFlight > 0) throw new Error('reliable queue: tasks left over');
          return TASKS / seconds;
        } finally {
          await queue.clear();
        }
      };
      const seed = async (): Promise<number> => {
        const queue = new SeedRedisQueue(redis, `bench-seed-${randomUUID()}`);
        try {
          const t0 = performance.now();
          for (let i = 0; i < TASKS; i++) await queue.enqueue(task(i), i % 5);
          for (let i = 0; i < TASKS; i++) {
            if (!(await queue.dequeue(SEED_POP_TIMEOUT_S))) {
              throw new Error(`seed queue: empty after ${i} of ${TASKS} tasks`);
            }
          }
          return TASKS / ((performance.now() - t0) / 1000);
        } finally {
          await queue.clear();
        }
      };
      ctx.log(`redisQueue: warm-up, then ${ctx.runs} runs of ${TASKS} tasks through each queue`);
      for (let w = 0; w < Math.max(1, ctx.warmup); w++) {
        await reliable();
        await seed();
      }
      const r: number[] = [];
      const s: number[] = [];
      for (let run = 0; run < ctx.runs; run++) {
        r.push(await reliable());
        s.push(await seed());
      }
      const reliableRate = median(r);
      const seedRate = median(s);
      return {
        opsPerSec: { value: round(reliableRate, 0), unit: 'ops/s', baseline: round(seedRate, 0) },
        seedOpsPerSec: { value: round(seedRate, 0), unit: 'ops/s' },
        speedupVsSeed: { value: round(reliableRate / seedRate, 2), unit: 'x' },
      };
    } finally {
      await redis.quit();
    }
  },
};

/**
 * `npm run tasks` on the real local Redis: it shows a queue's dead letters with their reasons and
 * puts them back, so that an e-mail that failed for good can be sent once its cause is mended.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RedisPriorityQueue } from '../../../lambdas/commons/redis/priority-queue.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const name = `cli-${randomUUID()}`;
let redis: Redis;
let queue: RedisPriorityQueue<{ to: string }>;

function tasks(...args: string[]) {
  const run = spawnSync(
    `${ROOT}node_modules/.bin/tsx`,
    ['scripts/task-queue.ts', ...args, name, '--redis-url', inject('engines').redisUrl, '--json'],
    { cwd: ROOT, encoding: 'utf8' },
  );
  return {
    status: run.status,
    out: run.stdout ? (JSON.parse(run.stdout) as Record<string, unknown>) : {},
    err: run.stderr,
  };
}

beforeAll(async () => {
  redis = new Redis(inject('engines').redisUrl);
  queue = new RedisPriorityQueue(redis, name, { maxAttempts: 1 });
  await queue.enqueue({ to: 'a@example.com' }, 10, { id: 'email#o-1#OrderPlaced' });
  const d = await queue.dequeue('dispatcher');
  if (!d) throw new Error('empty');
  await queue.nack(d, { requeue: false, reason: 'gave up after 1 attempts: MessageRejected' });
});
afterAll(async () => {
  await queue.clear();
  await redis.quit();
});

describe('npm run tasks', () => {
  it('GIVEN a dead e-mail THEN `dead` lists it with its reason and `size` counts it', () => {
    const dead = tasks('dead');
    expect(dead.status).toBe(0);
    expect(dead.out.deadLetters).toEqual([
      expect.objectContaining({
        id: 'email#o-1#OrderPlaced',
        priority: 10,
        reason: 'gave up after 1 attempts: MessageRejected',
        task: { to: 'a@example.com' },
      }),
    ]);
    expect(tasks('size').out).toMatchObject({ pending: 0, deadLettered: 1 });
  });

  it('WHEN redriven THEN the e-mail is pending again at its priority and nothing is dead', async () => {
    expect(tasks('redrive').out).toEqual({ queue: name, moved: 1 });
    expect(tasks('size').out).toMatchObject({ pending: 1, deadLettered: 0 });
    expect(await queue.dequeue('dispatcher')).toMatchObject({
      id: 'email#o-1#OrderPlaced',
      priority: 10,
      attempts: 1,
    });
  });
});

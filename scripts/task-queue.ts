/**
 * Looks into a Redis priority task queue (`RedisPriorityQueue`) and puts its dead letters back:
 * the e-mail queue of the notification service by default.
 *
 *   npm run tasks -- size                                  # notifications:emails on the local Redis
 *   npm run tasks -- peek --max 20
 *   npm run tasks -- dead --json                           # dead letters with their reasons
 *   npm run tasks -- redrive [--max N]                     # dead letters back on the queue
 *   npm run tasks -- dead some:queue --redis-url rediss://platform-app:<password>@<endpoint>:6379
 *
 * ElastiCache is only reachable from inside the VPC: run it there (or through a tunnel), with the
 * application user's password from the cache's secret in the URL.
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { RedisPriorityQueue } from '../lambdas/commons/redis/priority-queue.js';

const USAGE = `usage: npm run tasks -- <size|peek|dead|redrive> [queue] [options]

queue: the queue's name (default notifications:emails)
options:
  --redis-url U   default $REDIS_URL, else redis://127.0.0.1:6379 (the local engines)
  --max N         peek/dead: show at most N (default 20); redrive: move at most N (default all)
  --json          print JSON
`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'redis-url': { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
    max: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

function fail(message: string): never {
  process.stderr.write(`tasks: ${message}\n`);
  process.exit(2);
}

if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const [command, name = 'notifications:emails', ...extra] = positionals;
if (!['size', 'peek', 'dead', 'redrive'].includes(command ?? '')) fail(`unknown command\n${USAGE}`);
if (extra.length > 0) fail(`unexpected arguments: ${extra.join(' ')}`);
const max = values.max === undefined ? undefined : Number(values.max);
if (max !== undefined && (!Number.isInteger(max) || max < 1)) fail('--max is a positive integer');

const redis = new Redis(values['redis-url'], { lazyConnect: true, maxRetriesPerRequest: 1 });
const print = (text: string, json: unknown) =>
  process.stdout.write(values.json ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`);
try {
  await redis.connect();
  const queue = new RedisPriorityQueue<unknown>(redis, name);
  if (command === 'size') {
    const size = await queue.size();
    print(
      `${name}: ${size.pending} pending (${size.delayed} delayed), ${size.inFlight} in flight, ${size.deadLettered} dead`,
      { queue: name, ...size },
    );
  } else if (command === 'peek') {
    const tasks = await queue.peek(max ?? 20);
    print(
      tasks.map((t, i) => `${i + 1}. ${t.id}  priority ${t.priority}  attempts ${t.attempts}`).join('\n') ||
        `${name}: nothing pending`,
      { queue: name, tasks },
    );
  } else if (command === 'dead') {
    const dead = await queue.deadLetters(max ?? 20);
    print(
      dead
        .map(
          (d, i) =>
            `${i + 1}. ${d.id}  priority ${d.priority}  attempts ${d.attempts}  at ${new Date(d.at).toISOString()}\n   reason: ${d.reason}`,
        )
        .join('\n') || `${name}: no dead letters`,
      { queue: name, deadLetters: dead },
    );
  } else {
    const moved = await queue.redriveDeadLetters(max);
    print(`moved ${moved} dead letter(s) back to ${name}`, { queue: name, moved });
  }
} catch (error) {
  process.stderr.write(`tasks: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  redis.disconnect();
}

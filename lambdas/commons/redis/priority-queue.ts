/**
 * A reliable priority task queue on Redis: the seed's ZADD/BZPOPMIN queue made safe for consumers
 * that crash.
 *
 * Ordering: higher `priority` first; within a priority, enqueue order (a sequence from INCR inside
 * the enqueue script, so concurrent producers are ordered by the server, never by client clocks).
 * The order is exact for pending tasks. A task that goes back to pending (a nack with requeue, or a
 * reclaimed lease) keeps its original sequence number: it returns to its original position, ahead
 * of everything enqueued after it at its priority, which in practice is the head of its priority
 * (what RabbitMQ does with a requeued message, "its original position if possible").
 *
 * Delivery: `dequeue` atomically (one Lua script) takes the head and leases it to the consumer until
 * a deadline on the Redis server's clock (`TIME`), recorded in an in-flight sorted set with the
 * consumer id, a lease token and the attempt count. `ack` removes it only while the lease is still
 * that delivery's; `nack` puts it back (optionally after a delay) or dead-letters it; `extend`
 * renews the lease. Leases that expire (the consumer died, hung or was too slow) are moved back to
 * pending by `reclaim`, which every `dequeue` also runs first (bounded, O(log n) when nothing has
 * expired), so a task whose consumer died mid-task is never lost.
 *
 * Guarantees and limits:
 * - at-least-once delivery: a task is removed only by an ack of its current lease, a nack to the
 *   dead letters, or dead-lettering after `maxAttempts` deliveries;
 * - a task can run twice (or more): when a lease expires while its consumer is still working, the
 *   task is delivered again, and the late consumer's ack is refused. Tasks must be idempotent, and
 *   long tasks should `extend` their lease;
 * - an ack or extend after the deadline still succeeds as long as the expired lease has not been
 *   reclaimed yet (nobody else has the task): that avoids a needless second run;
 * - `maxAttempts` caps deliveries: a task delivered `maxAttempts` times whose lease then expires
 *   (reason `lease expired N times`) or that is nacked with requeue (reason `nacked after N
 *   attempts`) goes to the dead-letter list instead of pending (poison-task protection);
 * - durability is Redis's: what survives a Redis failover or restart depends on its persistence
 *   and replication (ElastiCache replicates asynchronously).
 *
 * Data, all under one hash tag so that the multi-key scripts also run on cluster-mode caches:
 * `pq:{name}:seq` (counter), `:body` (hash id -> task JSON, written once), `:state` (hash id ->
 * small JSON: sort member, priority, attempts, expirations, consumer, lease token), `:pending`
 * (sorted set, all scores 0, members `<16-digit inverted priority>:<16-digit seq>:<id>`: the
 * lexicographic order is the delivery order), `:inflight` (sorted set id -> lease deadline, ms),
 * `:delayed` (sorted set id -> ready time, ms, for nacks with a delay) and `:dead` (list of JSON
 * dead letters).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface RedisPriorityQueueOptions {
  /** How long a dequeued task stays leased to its consumer before it is delivered again. @default 30000 */
  readonly visibilityTimeoutMs?: number;
  /** Deliveries before a failing task is dead-lettered. @default 5 */
  readonly maxAttempts?: number;
  /** Key prefix: keys are `<prefix>:{<name>}:...`. @default 'pq' */
  readonly prefix?: string;
}

/** A task leased to a consumer by `dequeue`. Pass it (or its id and lease token) to ack, nack, extend. */
export interface Delivery<T> {
  readonly id: string;
  readonly task: T;
  readonly priority: number;
  /** Deliveries of this task so far, this one included (1 on the first delivery). */
  readonly attempts: number;
  /** Lease deadline, epoch milliseconds on the Redis server's clock. */
  readonly leaseUntil: number;
  readonly consumerId: string;
  /** Identifies this delivery: only its holder can ack, nack or extend it. */
  readonly leaseToken: string;
}

/** What ack, nack and extend need of a delivery. */
export interface LeaseRef {
  readonly id: string;
  readonly leaseToken: string;
}

/** A pending task as `peek` shows it. */
export interface PendingTask<T> {
  readonly id: string;
  readonly task: T;
  readonly priority: number;
  /** Deliveries so far (0 for a task never dequeued). */
  readonly attempts: number;
}

export interface DeadLetter<T> {
  readonly id: string;
  readonly task: T;
  readonly priority: number;
  readonly attempts: number;
  readonly reason: string;
  /** When it was dead-lettered, epoch milliseconds (Redis server clock). */
  readonly at: number;
}

export interface QueueSize {
  /** Tasks waiting for a consumer, delayed ones included. */
  readonly pending: number;
  /** Of `pending`, tasks nacked with a delay that is not over yet. */
  readonly delayed: number;
  /** Leased tasks (an expired lease counts until it is reclaimed). */
  readonly inFlight: number;
  readonly deadLettered: number;
}

export interface NackOptions {
  /** True: back to pending (at its original position); false: to the dead letters. */
  readonly requeue: boolean;
  /** With `requeue`, keep it invisible this long first. @default 0 */
  readonly delayMs?: number;
  /** The dead letter's reason (`requeue: false`). @default 'rejected' */
  readonly reason?: string;
}

/** `refused`: the lease is no longer this delivery's (expired and re-taken, acked, cleared). */
export type NackOutcome = 'requeued' | 'delayed' | 'dead-lettered' | 'refused';

export interface DequeueOptions {
  /** Wait up to this long for a task, polling every `pollMs`. @default 0 (return at once) */
  readonly waitMs?: number;
  /** @default 50 */
  readonly pollMs?: number;
}

/** Priorities are integers of at most 15 digits (they are encoded in a fixed-width sort key). */
const PRIORITY_LIMIT = 1e15;
/** Expired leases (and due delayed tasks) handled per script call. */
const RECLAIM_BATCH = 100;
/** Where the id starts in a pending member: 16 digits, ':', 16 digits, ':'. */
const ID_OFFSET = 35;

const PRELUDE = `
if redis.replicate_commands then redis.replicate_commands() end
local seqKey, bodyKey, stateKey, pendingKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local inflightKey, delayedKey, deadKey = KEYS[5], KEYS[6], KEYS[7]
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function deadLetter(id, s, reason, at)
  local body = redis.call('HGET', bodyKey, id) or 'null'
  redis.call('RPUSH', deadKey, '{"id":' .. cjson.encode(id) .. ',"priority":' .. s.p ..
    ',"attempts":' .. s.a .. ',"reason":' .. cjson.encode(reason) ..
    ',"at":' .. string.format('%.0f', at) .. ',"task":' .. body .. '}')
  redis.call('HDEL', bodyKey, id)
  redis.call('HDEL', stateKey, id)
end
local function owned(id, token)
  local raw = redis.call('HGET', stateKey, id)
  if not raw then return nil end
  local s = cjson.decode(raw)
  if s.k ~= token or not redis.call('ZSCORE', inflightKey, id) then return nil end
  return s
end
local function maintain(t, maxAttempts, limit)
  local due = redis.call('ZRANGEBYSCORE', delayedKey, '-inf', t, 'LIMIT', 0, limit)
  for _, id in ipairs(due) do
    redis.call('ZREM', delayedKey, id)
    local raw = redis.call('HGET', stateKey, id)
    if raw then redis.call('ZADD', pendingKey, 0, cjson.decode(raw).m) end
  end
  local expired = redis.call('ZRANGEBYSCORE', inflightKey, '-inf', t, 'LIMIT', 0, limit)
  for _, id in ipairs(expired) do
    redis.call('ZREM', inflightKey, id)
    local raw = redis.call('HGET', stateKey, id)
    if raw then
      local s = cjson.decode(raw)
      s.x = s.x + 1
      if s.a >= maxAttempts then
        deadLetter(id, s, 'lease expired ' .. s.x .. ' times', t)
      else
        s.c = ''
        s.k = ''
        redis.call('HSET', stateKey, id, cjson.encode(s))
        redis.call('ZADD', pendingKey, 0, s.m)
      end
    end
  end
  return #expired
end
`;

/** ARGV: id, body JSON, priority, 16-digit priority sort key. 1 = enqueued, 0 = duplicate id. */
const ENQUEUE = `${PRELUDE}
local id = ARGV[1]
if redis.call('HEXISTS', stateKey, id) == 1 then return 0 end
local seq = redis.call('INCR', seqKey)
local member = ARGV[4] .. ':' .. string.format('%016.0f', seq) .. ':' .. id
redis.call('HSET', bodyKey, id, ARGV[2])
redis.call('HSET', stateKey, id, cjson.encode({m = member, p = ARGV[3], a = 0, x = 0, c = '', k = ''}))
redis.call('ZADD', pendingKey, 0, member)
return 1
`;

/** ARGV: consumer, lease token, visibility ms, max attempts, reclaim batch. */
const DEQUEUE = `${PRELUDE}
local t = now()
maintain(t, tonumber(ARGV[4]), tonumber(ARGV[5]))
while true do
  local popped = redis.call('ZPOPMIN', pendingKey)
  if #popped == 0 then return false end
  local id = string.sub(popped[1], ${ID_OFFSET})
  local raw = redis.call('HGET', stateKey, id)
  if raw then
    local s = cjson.decode(raw)
    s.a = s.a + 1
    s.c = ARGV[1]
    s.k = ARGV[2]
    local leaseUntil = t + tonumber(ARGV[3])
    redis.call('HSET', stateKey, id, cjson.encode(s))
    redis.call('ZADD', inflightKey, leaseUntil, id)
    return {id, redis.call('HGET', bodyKey, id), s.p, s.a, leaseUntil}
  end
end
`;

/** ARGV: id, lease token. */
const ACK = `${PRELUDE}
local id = ARGV[1]
if not owned(id, ARGV[2]) then return 0 end
redis.call('ZREM', inflightKey, id)
redis.call('HDEL', bodyKey, id)
redis.call('HDEL', stateKey, id)
return 1
`;

/** ARGV: id, lease token, 'requeue' | 'dead', delay ms, max attempts, reason. */
const NACK = `${PRELUDE}
local id = ARGV[1]
local s = owned(id, ARGV[2])
if not s then return 'refused' end
local t = now()
redis.call('ZREM', inflightKey, id)
if ARGV[3] == 'dead' then
  deadLetter(id, s, ARGV[6], t)
  return 'dead-lettered'
end
if s.a >= tonumber(ARGV[5]) then
  deadLetter(id, s, 'nacked after ' .. s.a .. ' attempts', t)
  return 'dead-lettered'
end
s.c = ''
s.k = ''
redis.call('HSET', stateKey, id, cjson.encode(s))
local delay = tonumber(ARGV[4])
if delay > 0 then
  redis.call('ZADD', delayedKey, t + delay, id)
  return 'delayed'
end
redis.call('ZADD', pendingKey, 0, s.m)
return 'requeued'
`;

/** ARGV: id, lease token, ms. The new deadline, or 0. */
const EXTEND = `${PRELUDE}
local id = ARGV[1]
if not owned(id, ARGV[2]) then return 0 end
local leaseUntil = now() + tonumber(ARGV[3])
redis.call('ZADD', inflightKey, leaseUntil, id)
return leaseUntil
`;

/** ARGV: max attempts, batch. Expired leases handled. */
const RECLAIM = `${PRELUDE}
return maintain(now(), tonumber(ARGV[1]), tonumber(ARGV[2]))
`;

/** ARGV: n. Flat {id, body, priority, attempts} of the first n pending tasks. */
const PEEK = `${PRELUDE}
local out = {}
for _, member in ipairs(redis.call('ZRANGE', pendingKey, 0, tonumber(ARGV[1]) - 1)) do
  local id = string.sub(member, ${ID_OFFSET})
  local raw = redis.call('HGET', stateKey, id)
  if raw then
    local s = cjson.decode(raw)
    table.insert(out, id)
    table.insert(out, redis.call('HGET', bodyKey, id))
    table.insert(out, s.p)
    table.insert(out, s.a)
  end
end
return out
`;

const COMMANDS = {
  pqEnqueue: ENQUEUE,
  pqDequeue: DEQUEUE,
  pqAck: ACK,
  pqNack: NACK,
  pqExtend: EXTEND,
  pqReclaim: RECLAIM,
  pqPeek: PEEK,
} as const;

const KEY_NAMES = ['seq', 'body', 'state', 'pending', 'inflight', 'delayed', 'dead'] as const;
type QueueKeys = readonly [string, string, string, string, string, string, string];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function priorityKey(priority: number): string {
  if (!Number.isSafeInteger(priority) || Math.abs(priority) >= PRIORITY_LIMIT) {
    throw new RangeError(`priority must be an integer of at most 15 digits, got ${priority}`);
  }
  // Inverted so that a higher priority sorts first; 1 .. 2e15 - 1 fits 16 digits.
  return String(PRIORITY_LIMIT - priority).padStart(16, '0');
}

function positiveMs(value: number, what: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${what} must be > 0, got ${value}`);
  return Math.ceil(value);
}

export class RedisPriorityQueue<T> {
  readonly visibilityTimeoutMs: number;
  readonly maxAttempts: number;
  private readonly keys: QueueKeys;

  constructor(
    private readonly redis: Redis,
    readonly name: string,
    options: RedisPriorityQueueOptions = {},
  ) {
    this.visibilityTimeoutMs = positiveMs(options.visibilityTimeoutMs ?? 30_000, 'visibilityTimeoutMs');
    this.maxAttempts = options.maxAttempts ?? 5;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) {
      throw new RangeError(`maxAttempts must be an integer >= 1, got ${options.maxAttempts}`);
    }
    const base = `${options.prefix ?? 'pq'}:{${name}}:`;
    this.keys = KEY_NAMES.map((k) => base + k) as unknown as QueueKeys;
    for (const [command, lua] of Object.entries(COMMANDS)) {
      if (!(command in redis)) redis.defineCommand(command, { numberOfKeys: KEY_NAMES.length, lua });
    }
  }

  /**
   * Adds a task; returns its id. An `id` that is already pending or in flight is not enqueued a
   * second time (the call returns the id; the existing task is unchanged).
   */
  async enqueue(task: T, priority: number, options: { id?: string } = {}): Promise<string> {
    const id = options.id ?? randomUUID();
    if (id.length === 0) throw new RangeError('id must not be empty');
    const body = JSON.stringify(task);
    if (body === undefined) throw new TypeError('task is not JSON-serializable');
    await this.redis.pqEnqueue(...this.keys, id, body, String(priority), priorityKey(priority));
    return id;
  }

  /**
   * Leases the next task to `consumerId` (reclaiming expired leases first), or undefined when none
   * is pending (after waiting up to `waitMs`).
   */
  async dequeue(consumerId: string, options: DequeueOptions = {}): Promise<Delivery<T> | undefined> {
    const deadline = Date.now() + (options.waitMs ?? 0);
    for (;;) {
      const leaseToken = `${consumerId}:${randomUUID()}`;
      const reply = (await this.redis.pqDequeue(
        ...this.keys,
        consumerId,
        leaseToken,
        String(this.visibilityTimeoutMs),
        String(this.maxAttempts),
        String(RECLAIM_BATCH),
      )) as [string, string, string, number, number] | null;
      if (reply) {
        const [id, body, priority, attempts, leaseUntil] = reply;
        return {
          id,
          task: JSON.parse(body) as T,
          priority: Number(priority),
          attempts: Number(attempts),
          leaseUntil: Number(leaseUntil),
          consumerId,
          leaseToken,
        };
      }
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await sleep(Math.min(options.pollMs ?? 50, left));
    }
  }

  /** Completes a delivery. False when its lease is no longer held (expired and re-taken, or gone). */
  async ack(lease: LeaseRef): Promise<boolean> {
    return (await this.redis.pqAck(...this.keys, lease.id, lease.leaseToken)) === 1;
  }

  /**
   * Gives a delivery back: to pending at its original position (after `delayMs`), or to the dead
   * letters (`requeue: false`, or `requeue` of a task already delivered `maxAttempts` times).
   */
  async nack(lease: LeaseRef, options: NackOptions): Promise<NackOutcome> {
    const delayMs = options.delayMs ?? 0;
    if (!Number.isFinite(delayMs) || delayMs < 0)
      throw new RangeError(`delayMs must be >= 0, got ${delayMs}`);
    return (await this.redis.pqNack(
      ...this.keys,
      lease.id,
      lease.leaseToken,
      options.requeue ? 'requeue' : 'dead',
      String(Math.ceil(delayMs)),
      String(this.maxAttempts),
      options.reason ?? 'rejected',
    )) as NackOutcome;
  }

  /** Renews a lease to `ms` from now (server clock); the new deadline, or undefined when not held. */
  async extend(lease: LeaseRef, ms: number): Promise<number | undefined> {
    const until = Number(
      await this.redis.pqExtend(...this.keys, lease.id, lease.leaseToken, String(positiveMs(ms, 'ms'))),
    );
    return until > 0 ? until : undefined;
  }

  /**
   * Moves every in-flight task whose lease has expired back to pending (or to the dead letters after
   * `maxAttempts` deliveries), and due delayed tasks to pending. Returns the expired leases handled.
   */
  async reclaim(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = Number(
        await this.redis.pqReclaim(...this.keys, String(this.maxAttempts), String(RECLAIM_BATCH)),
      );
      total += n;
      if (n < RECLAIM_BATCH) return total;
    }
  }

  /** The next `n` tasks in delivery order, without taking them (delayed tasks are not shown). */
  async peek(n = 1): Promise<PendingTask<T>[]> {
    if (!Number.isInteger(n) || n < 1) return [];
    const flat = (await this.redis.pqPeek(...this.keys, String(n))) as (string | number)[];
    const out: PendingTask<T>[] = [];
    for (let i = 0; i + 3 < flat.length; i += 4) {
      out.push({
        id: String(flat[i]),
        task: JSON.parse(String(flat[i + 1])) as T,
        priority: Number(flat[i + 2]),
        attempts: Number(flat[i + 3]),
      });
    }
    return out;
  }

  async size(): Promise<QueueSize> {
    const [, , , pendingKey, inflightKey, delayedKey, deadKey] = this.keys;
    const replies = await this.redis
      .multi()
      .zcard(pendingKey)
      .zcard(delayedKey)
      .zcard(inflightKey)
      .llen(deadKey)
      .exec();
    const [ready, delayed, inFlight, dead] = (replies ?? []).map(([error, value]) => {
      if (error) throw error;
      return Number(value);
    });
    return {
      pending: (ready ?? 0) + (delayed ?? 0),
      delayed: delayed ?? 0,
      inFlight: inFlight ?? 0,
      deadLettered: dead ?? 0,
    };
  }

  /** The dead letters, oldest first (at most `limit`). */
  async deadLetters(limit = 1000): Promise<DeadLetter<T>[]> {
    if (!Number.isInteger(limit) || limit < 1) return [];
    const raw = await this.redis.lrange(this.keys[6], 0, limit - 1);
    return raw.map((entry) => JSON.parse(entry) as DeadLetter<T>);
  }

  /**
   * Puts dead letters back on the queue, oldest first, at their priority and under their id (with
   * a fresh attempt count): at most `max`; returns how many. Each is enqueued before its dead
   * letter is removed, so a crash in between repeats one (enqueue ignores an id already pending)
   * and loses none.
   */
  async redriveDeadLetters(max = Number.POSITIVE_INFINITY): Promise<number> {
    let moved = 0;
    while (moved < max) {
      const raw = await this.redis.lindex(this.keys[6], 0);
      if (raw === null) break;
      const dead = JSON.parse(raw) as DeadLetter<T>;
      await this.enqueue(dead.task, dead.priority, { id: dead.id });
      await this.redis.lrem(this.keys[6], 1, raw);
      moved++;
    }
    return moved;
  }

  /** Removes everything: pending, in-flight and dead-lettered tasks (in-flight acks then fail). */
  async clear(): Promise<void> {
    await this.redis.del(...this.keys);
  }
}

type Keys7 = [string, string, string, string, string, string, string];

declare module 'ioredis' {
  interface RedisCommander<Context> {
    pqEnqueue(
      ...args: [...Keys7, id: string, body: string, priority: string, sortKey: string]
    ): Promise<unknown>;
    pqDequeue(
      ...args: [
        ...Keys7,
        consumer: string,
        token: string,
        visibilityMs: string,
        maxAttempts: string,
        batch: string,
      ]
    ): Promise<unknown>;
    pqAck(...args: [...Keys7, id: string, token: string]): Promise<unknown>;
    pqNack(
      ...args: [
        ...Keys7,
        id: string,
        token: string,
        mode: string,
        delayMs: string,
        maxAttempts: string,
        reason: string,
      ]
    ): Promise<unknown>;
    pqExtend(...args: [...Keys7, id: string, token: string, ms: string]): Promise<unknown>;
    pqReclaim(...args: [...Keys7, maxAttempts: string, batch: string]): Promise<unknown>;
    pqPeek(...args: [...Keys7, n: string]): Promise<unknown>;
  }
}

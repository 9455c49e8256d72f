/**
 * Window state outside the function, in Redis, so that repeated and concurrent invocations give
 * the result of one pass:
 *
 * 1. Per partition, Redis holds the last applied offset and the stream time.
 * 2. A batch is reduced in memory by the pure windowing core, started at that stream time, into
 *    partial aggregates (counts, sums, page sets: they merge by addition and union), late records
 *    and dead letters. Records at or below the applied offset (a redelivery) are skipped.
 * 3. One Lua script applies it atomically, only if the applied offset is still the one read
 *    (compare-and-set; otherwise the batch is reduced again on the fresh state): it merges the
 *    partials, moves the offset and stream time, closes every window whose end + grace has been
 *    reached, and appends the closed windows, late records and dead letters to the partition's
 *    outbox.
 * 4. The outbox is then delivered (results store, Kafka topics) and trimmed. Delivery is
 *    idempotent on the results store and keyed on the topics, so a crash between delivery and trim
 *    repeats a message with the same key, never a count.
 *
 * All keys of a partition share one hash tag, so the script also runs on cluster-mode caches
 * (ElastiCache Serverless).
 */
import type { Redis } from 'ioredis';
import {
  type ActivityFact,
  type LateRecord,
  WindowedAggregator,
  type WindowSpec,
} from '../domain/windowing.js';

/** What the outbox holds and delivery sends on. */
export type OutboxEntry =
  | {
      readonly kind: 'window';
      readonly spec: string;
      readonly key: string;
      readonly start: number;
      readonly end: number;
      readonly events: number;
      readonly pageViews: number;
      readonly uniquePages: number;
      readonly addToCarts: number;
      readonly purchases: number;
      readonly totalSpent: number;
    }
  | { readonly kind: 'late'; readonly record: LateRecord; readonly offset: number; readonly value: string }
  | {
      readonly kind: 'dead';
      readonly reason: string;
      readonly offset: number;
      readonly value: string | null;
    };

export interface BatchRecord {
  readonly offset: number;
  /** The decoded fact, or why the record could not be decoded (it goes to the dead letters). */
  readonly fact?: ActivityFact;
  /** Kept out of the metrics by a business rule (counted only). */
  readonly excluded?: string;
  readonly deadReason?: string;
  /** The record's value as received, for the late and dead-letter topics. */
  readonly value: string | null;
}

export interface ApplyOutcome {
  /** Records applied by this call (0 when the whole batch was a redelivery). */
  readonly applied: number;
  /** Records skipped because an earlier delivery applied them. */
  readonly redelivered: number;
  readonly late: number;
  readonly dead: number;
  readonly excluded: number;
  /** Optimistic-concurrency retries (another invocation applied to the partition meanwhile). */
  readonly conflicts: number;
  readonly streamTime: number;
}

/** A closed window of a user, as GET /analytics/users/{userId} returns it. */
export interface StoredWindow {
  readonly window: string;
  readonly start: string;
  readonly end: string;
  readonly metrics: {
    readonly events: number;
    readonly pageViews: number;
    readonly uniquePages: number;
    readonly addToCarts: number;
    readonly purchases: number;
    readonly totalSpent: number;
    readonly averageOrderValue: number;
  };
}

const APPLY = `
local meta = KEYS[1]
local base = string.sub(meta, 1, -5)
local current = redis.call('HGET', meta, 'offset') or '-1'
if current ~= ARGV[1] then return {0, current} end
local p = cjson.decode(ARGV[2])
for _, w in ipairs(p.windows) do
  local k = base .. 'w:' .. w.id
  redis.call('HSET', k, 'spec', w.spec, 'key', w.key, 'start', w.start, 'end', w['end'])
  redis.call('HINCRBY', k, 'events', w.events)
  redis.call('HINCRBY', k, 'pageViews', w.pageViews)
  redis.call('HINCRBY', k, 'addToCarts', w.addToCarts)
  redis.call('HINCRBY', k, 'purchases', w.purchases)
  redis.call('HINCRBY', k, 'totalSpent', w.totalSpent)
  local pages = w.pages
  for i = 1, #pages, 500 do
    redis.call('SADD', base .. 'p:' .. w.id, unpack(pages, i, math.min(i + 499, #pages)))
  end
  redis.call('ZADD', base .. 'open', w.closeAt, w.id)
end
for _, entry in ipairs(p.outbox) do redis.call('RPUSH', base .. 'outbox', entry) end
redis.call('HSET', meta, 'offset', p.offset, 'streamTime', p.streamTime)
redis.call('HINCRBY', meta, 'late', p.late)
redis.call('HINCRBY', meta, 'dead', p.dead)
redis.call('HINCRBY', meta, 'excluded', p.excluded)
local closing = redis.call('ZRANGEBYSCORE', base .. 'open', '-inf', p.streamTime)
for _, id in ipairs(closing) do
  local k = base .. 'w:' .. id
  local h = redis.call('HGETALL', k)
  local w = {}
  for i = 1, #h, 2 do w[h[i]] = h[i + 1] end
  local entry = cjson.encode({
    kind = 'window', spec = w.spec, key = w.key, start = w.start, ['end'] = w['end'],
    events = tonumber(w.events), pageViews = tonumber(w.pageViews),
    uniquePages = redis.call('SCARD', base .. 'p:' .. id),
    addToCarts = tonumber(w.addToCarts), purchases = tonumber(w.purchases), totalSpent = tonumber(w.totalSpent)
  })
  redis.call('RPUSH', base .. 'outbox', entry)
  redis.call('DEL', k, base .. 'p:' .. id)
  redis.call('ZREM', base .. 'open', id)
end
return {1, #closing}
`;

export interface RedisWindowStoreOptions {
  /** Closed windows kept per user. @default 100 */
  readonly resultsPerUser?: number;
  /** Key prefix. @default 'analytics' */
  readonly prefix?: string;
}

export class RedisWindowStore {
  private readonly prefix: string;
  private readonly resultsPerUser: number;
  private readonly graceOf: Map<string, number>;

  constructor(
    private readonly redis: Redis,
    private readonly specs: readonly WindowSpec[],
    options: RedisWindowStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? 'analytics';
    this.resultsPerUser = options.resultsPerUser ?? 100;
    this.graceOf = new Map(specs.map((s) => [s.name, s.graceMs]));
    if (!redis.applyWindowBatch) {
      redis.defineCommand('applyWindowBatch', { numberOfKeys: 1, lua: APPLY });
    }
  }

  private base(topic: string, partition: number): string {
    return `${this.prefix}:{${topic}:${partition}}:`;
  }

  private resultsKey(userKey: string): string {
    return `${this.prefix}:results:${userKey}`;
  }

  /** Applies one partition's records (in offset order) exactly once. */
  async applyBatch(topic: string, partition: number, records: readonly BatchRecord[]): Promise<ApplyOutcome> {
    const base = this.base(topic, partition);
    const meta = `${base}meta`;
    for (let conflicts = 0; conflicts < 20; conflicts++) {
      const [offsetText, streamTimeText] = await this.redis.hmget(meta, 'offset', 'streamTime');
      const appliedOffset = offsetText === null ? -1 : Number(offsetText);
      const fresh = records.filter((r) => r.offset > appliedOffset);
      if (fresh.length === 0) {
        return {
          applied: 0,
          redelivered: records.length,
          late: 0,
          dead: 0,
          excluded: 0,
          conflicts,
          streamTime: Number(streamTimeText ?? Number.NEGATIVE_INFINITY),
        };
      }
      const aggregator = new WindowedAggregator(
        this.specs,
        // -1: no fact seen yet on the partition (only dead letters, say).
        streamTimeText === null || Number(streamTimeText) < 0 ? {} : { streamTime: Number(streamTimeText) },
      );
      const outbox: string[] = [];
      let late = 0;
      let dead = 0;
      let excluded = 0;
      for (const r of fresh) {
        if (r.fact) {
          const lateRecord = aggregator.add(r.fact);
          if (lateRecord) {
            late++;
            outbox.push(
              JSON.stringify({ kind: 'late', record: lateRecord, offset: r.offset, value: r.value }),
            );
          }
        } else if (r.excluded) {
          excluded++;
        } else {
          dead++;
          outbox.push(
            JSON.stringify({
              kind: 'dead',
              reason: r.deadReason ?? 'undecodable',
              offset: r.offset,
              value: r.value,
            }),
          );
        }
      }
      const windows = aggregator.openWindows().map((w) => ({
        id: `${w.spec}|${w.key}|${w.start}`,
        spec: w.spec,
        key: w.key,
        start: String(w.start),
        end: String(w.end),
        closeAt: w.end + (this.graceOf.get(w.spec) ?? 0),
        events: w.aggregate.events,
        pageViews: w.aggregate.pageViews,
        addToCarts: w.aggregate.addToCarts,
        purchases: w.aggregate.purchases,
        totalSpent: w.aggregate.totalSpent,
        pages: [...w.aggregate.pages],
      }));
      const streamTime = aggregator.streamTime;
      const payload = {
        offset: fresh[fresh.length - 1]?.offset ?? appliedOffset,
        // No fact yet: stream time stays unknown (below every event time).
        streamTime: Number.isFinite(streamTime) ? streamTime : -1,
        windows,
        outbox,
        late,
        dead,
        excluded,
      };
      const [ok] = (await this.redis.applyWindowBatch(
        meta,
        String(appliedOffset),
        JSON.stringify(payload),
      )) as [number, unknown];
      if (ok === 1) {
        return {
          applied: fresh.length,
          redelivered: records.length - fresh.length,
          late,
          dead,
          excluded,
          conflicts,
          streamTime,
        };
      }
    }
    throw new Error(`partition ${topic}-${partition}: too many concurrent writers`);
  }

  /** What the partition's outbox holds, oldest first (at most `max`). */
  async pending(topic: string, partition: number, max = 1000): Promise<OutboxEntry[]> {
    const raw = await this.redis.lrange(`${this.base(topic, partition)}outbox`, 0, max - 1);
    return raw.map((entry) => {
      const e = JSON.parse(entry) as OutboxEntry & { start: number | string; end: number | string };
      return e.kind === 'window' ? { ...e, start: Number(e.start), end: Number(e.end) } : e;
    });
  }

  /** Removes the first `count` entries, once they are delivered. */
  async acknowledge(topic: string, partition: number, count: number): Promise<void> {
    if (count > 0) await this.redis.ltrim(`${this.base(topic, partition)}outbox`, count, -1);
  }

  /** Keeps a closed window in its user's results (idempotent: the same window twice is one entry). */
  async storeResults(windows: readonly Extract<OutboxEntry, { kind: 'window' }>[]): Promise<void> {
    if (windows.length === 0) return;
    const multi = this.redis.multi();
    for (const w of windows) {
      const key = this.resultsKey(w.key);
      const stored: StoredWindow = toStoredWindow(w);
      // One member per (window, start): a newer value replaces an equal one, never adds a second.
      multi.hset(`${key}:data`, `${w.spec}|${w.start}`, JSON.stringify(stored));
      multi.zadd(key, w.start, `${w.spec}|${w.start}`);
    }
    await multi.exec();
    const users = new Set(windows.map((w) => w.key));
    for (const user of users) await this.trim(user);
  }

  private async trim(userKey: string): Promise<void> {
    const key = this.resultsKey(userKey);
    const excess = (await this.redis.zcard(key)) - this.resultsPerUser;
    if (excess <= 0) return;
    const old = await this.redis.zrange(key, '0', String(excess - 1));
    if (old.length > 0)
      await this.redis
        .multi()
        .zrem(key, ...old)
        .hdel(`${key}:data`, ...old)
        .exec();
  }

  /** A user's closed windows, newest first. */
  async resultsOf(
    userKey: string,
    options: { window?: string; limit?: number } = {},
  ): Promise<StoredWindow[]> {
    const key = this.resultsKey(userKey);
    const members = await this.redis.zrevrange(key, 0, -1);
    const wanted = members
      .filter((m) => !options.window || m.startsWith(`${options.window}|`))
      .slice(0, options.limit ?? 100);
    if (wanted.length === 0) return [];
    const values = await this.redis.hmget(`${key}:data`, ...wanted);
    return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as StoredWindow);
  }

  /** The partition's counters (for tests and diagnostics). */
  async partitionState(topic: string, partition: number): Promise<Record<string, string>> {
    return this.redis.hgetall(`${this.base(topic, partition)}meta`);
  }
}

export function toStoredWindow(w: Extract<OutboxEntry, { kind: 'window' }>): StoredWindow {
  return {
    window: w.spec,
    start: new Date(w.start).toISOString(),
    end: new Date(w.end).toISOString(),
    metrics: {
      events: w.events,
      pageViews: w.pageViews,
      uniquePages: w.uniquePages,
      addToCarts: w.addToCarts,
      purchases: w.purchases,
      totalSpent: w.totalSpent,
      averageOrderValue: w.purchases === 0 ? 0 : w.totalSpent / w.purchases,
    },
  };
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    applyWindowBatch(meta: string, expectedOffset: string, payload: string): Promise<unknown>;
  }
}

import {
  type ActivityFact,
  WindowedAggregator,
  type WindowSpec,
} from '../../lambdas/analytics/domain/windowing.js';
import { median, round } from './stats.js';
import type { BenchSuite } from './types.js';

/** The acceptance figure for a tumbling window with count and sum over 10,000 keys. */
const TARGET_EVENTS_PER_SEC = 1_000_000;
/** The speedup over the seed's stream processor the issue asks for. */
const TARGET_SPEEDUP = 50;

const THROUGHPUT_EVENTS = 2_000_000;
const THROUGHPUT_KEYS = 10_000;
const SEED_EVENTS = 100_000;
const SEED_KEYS = 1_000;
const SEED_RUNS = 5;
const DRAIN_EVERY = 1_000;
/** Start of the synthetic event times (2025-01-01T00:00:00Z). */
const T0 = 1_735_689_600_000;

const tumbling: WindowSpec = { name: 'tumbling-1m', sizeMs: 60_000, advanceMs: 60_000, graceMs: 5_000 };
const hopping: WindowSpec = { name: 'hopping-1m-10s', sizeMs: 60_000, advanceMs: 10_000, graceMs: 5_000 };

/** Deterministic PRNG (mulberry32): the same events on every run and machine. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function keyNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `user-${i}`);
}

/**
 * Purchases with amounts over 10,000 keys, 10,000 events per second of event time (so a 60 s
 * window holds ~60 events per key), arriving up to 2 s out of order (inside the 5 s grace).
 */
function purchases(): ActivityFact[] {
  const random = mulberry32(42);
  const keys = keyNames(THROUGHPUT_KEYS);
  const facts: ActivityFact[] = new Array(THROUGHPUT_EVENTS);
  for (let i = 0; i < THROUGHPUT_EVENTS; i++) {
    facts[i] = {
      key: keys[Math.floor(random() * THROUGHPUT_KEYS)] as string,
      eventTime: T0 + Math.floor(i / 10) - Math.floor(random() * 2_000),
      type: 'purchase',
      amount: 100 + Math.floor(random() * 20_000),
    };
  }
  return facts;
}

/**
 * The seed's workload: 1,000 keys, events in time order spread over 2 minutes (a 60 s window holds
 * ~50,000 events, ~50 per key): 60 % page views over 200 pages, 25 % purchases, 15 % add-to-carts.
 */
function activity(): ActivityFact[] {
  const random = mulberry32(7);
  const keys = keyNames(SEED_KEYS);
  const pages = Array.from({ length: 200 }, (_, i) => `/products/${i}`);
  const facts: ActivityFact[] = new Array(SEED_EVENTS);
  for (let i = 0; i < SEED_EVENTS; i++) {
    const key = keys[Math.floor(random() * SEED_KEYS)] as string;
    const eventTime = T0 + Math.floor((i * 120_000) / SEED_EVENTS);
    const r = random();
    if (r < 0.6)
      facts[i] = {
        key,
        eventTime,
        type: 'page_view',
        page: pages[Math.floor(random() * pages.length)] as string,
      };
    else if (r < 0.85)
      facts[i] = { key, eventTime, type: 'purchase', amount: 100 + Math.floor(random() * 20_000) };
    else facts[i] = { key, eventTime, type: 'add_to_cart' };
  }
  return facts;
}

/** Windowed aggregation of all facts with a drain every 1,000 events; returns a checksum. */
function aggregate(facts: readonly ActivityFact[], spec: WindowSpec): number {
  const aggregator = new WindowedAggregator([spec]);
  let checksum = 0;
  for (let i = 0; i < facts.length; i++) {
    if (aggregator.add(facts[i] as ActivityFact) !== undefined) checksum--;
    if ((i + 1) % DRAIN_EVERY === 0) {
      for (const window of aggregator.drainClosed()) checksum += window.metrics.events;
    }
  }
  for (const window of aggregator.drainClosed()) checksum += window.metrics.events;
  return checksum + aggregator.openWindowCount();
}

/** Outside the timing: every event lands in exactly one tumbling window, none is late. */
function verifyTumbling(facts: readonly ActivityFact[]): void {
  const aggregator = new WindowedAggregator([tumbling]);
  let events = 0;
  for (const fact of facts) {
    if (aggregator.add(fact) !== undefined) throw new Error('windowing: unexpected late event');
  }
  for (const window of [...aggregator.drainClosed(), ...aggregator.openWindows()])
    events += window.metrics.events;
  if (events !== facts.length) throw new Error(`windowing: ${events} events aggregated, ${facts.length} fed`);
}

interface SeedEntry {
  readonly event: ActivityFact;
  readonly timestamp: number;
}

/** Append-right / pop-left queue with O(1) operations (Python's `collections.deque`). */
class Deque {
  private items: SeedEntry[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  first(): SeedEntry | undefined {
    return this.items[this.head];
  }

  popLeft(): void {
    this.head++;
    if (this.head > 1_024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  append(entry: SeedEntry): void {
    this.items.push(entry);
  }

  /** Entry `i` from the left (0 ≤ i < length). */
  at(i: number): SeedEntry {
    return this.items[this.head + i] as SeedEntry;
  }
}

type SeedResult =
  | {
      metricType: 'user_activity_window';
      userId: string;
      windowStart: number;
      windowEnd: number;
      pageViews: number;
      uniquePages: number;
    }
  | {
      metricType: 'user_purchase_window';
      userId: string;
      windowStart: number;
      windowEnd: number;
      totalSpent: number;
      purchaseCount: number;
      averageOrderValue: number;
    };

/**
 * The seed's stream processor (the Python `KafkaStreamProcessor` of the message-queues chapter),
 * reimplemented with the same algorithm: per key a deque of every event of the last 60 s; on each
 * event, evict old entries from EVERY key's deque (dropping empty ones), append the event, then
 * recompute the key's metrics by scanning its whole deque. The seed's clock is the wall clock at
 * processing time; here it is the event time, so both implementations see the same timeline.
 * Iterating the key map directly (the seed copies its keys into a list first) and scanning the
 * deques with indexed loops rather than iterators favour the seed.
 */
class SeedStreamProcessor {
  private readonly windowStore = new Map<string, Deque>();

  constructor(private readonly windowSizeMs: number) {}

  process(event: ActivityFact): SeedResult | undefined {
    const currentTime = event.eventTime;
    this.cleanWindow(currentTime);
    this.addToWindow(event, currentTime);
    if (event.type === 'page_view') return this.pageViewMetrics(event, currentTime);
    if (event.type === 'purchase') return this.purchaseMetrics(event, currentTime);
    return undefined;
  }

  private cleanWindow(currentTime: number): void {
    const cutoff = currentTime - this.windowSizeMs;
    for (const [key, window] of this.windowStore) {
      for (
        let first = window.first();
        first !== undefined && first.timestamp < cutoff;
        first = window.first()
      ) {
        window.popLeft();
      }
      if (window.length === 0) this.windowStore.delete(key);
    }
  }

  private addToWindow(event: ActivityFact, timestamp: number): void {
    let window = this.windowStore.get(event.key);
    if (window === undefined) {
      window = new Deque();
      this.windowStore.set(event.key, window);
    }
    window.append({ event, timestamp });
  }

  private pageViewMetrics(event: ActivityFact, currentTime: number): SeedResult {
    const window = this.windowStore.get(event.key) as Deque;
    let pageViews = 0;
    for (let i = 0; i < window.length; i++) if (window.at(i).event.type === 'page_view') pageViews++;
    const pages = new Set<string | undefined>();
    for (let i = 0; i < window.length; i++) {
      const item = window.at(i);
      if (item.event.type === 'page_view') pages.add(item.event.page);
    }
    return {
      metricType: 'user_activity_window',
      userId: event.key,
      windowStart: currentTime - this.windowSizeMs,
      windowEnd: currentTime,
      pageViews,
      uniquePages: pages.size,
    };
  }

  private purchaseMetrics(event: ActivityFact, currentTime: number): SeedResult {
    const window = this.windowStore.get(event.key) as Deque;
    let totalSpent = 0;
    for (let i = 0; i < window.length; i++) {
      const item = window.at(i);
      if (item.event.type === 'purchase') totalSpent += item.event.amount ?? 0;
    }
    let purchaseCount = 0;
    for (let i = 0; i < window.length; i++) if (window.at(i).event.type === 'purchase') purchaseCount++;
    return {
      metricType: 'user_purchase_window',
      userId: event.key,
      windowStart: currentTime - this.windowSizeMs,
      windowEnd: currentTime,
      totalSpent,
      purchaseCount,
      averageOrderValue: purchaseCount > 0 ? totalSpent / purchaseCount : 0,
    };
  }
}

/** The seed's approach over all facts; returns a checksum of its results. */
function seedApproach(facts: readonly ActivityFact[]): number {
  const processor = new SeedStreamProcessor(60_000);
  let checksum = 0;
  for (const fact of facts) {
    const result = processor.process(fact);
    if (result !== undefined)
      checksum += result.metricType === 'user_activity_window' ? result.pageViews : result.purchaseCount;
  }
  return checksum;
}

/** Events per second of one call. */
function eventsPerSec(count: number, fn: () => number): number {
  const t0 = performance.now();
  const checksum = fn();
  const seconds = (performance.now() - t0) / 1000;
  if (Number.isNaN(checksum)) throw new Error('unreachable');
  return count / seconds;
}

/**
 * `windowing.tumbling.eventsPerSec`: the event-time windowing core (`lambdas/analytics/domain/windowing.ts`)
 * on one partition, tumbling 60 s window over 10,000 keys (baseline: the 1,000,000 events/s target);
 * `hoppingEventsPerSec`: the same events in 60 s windows every 10 s (6 windows per event);
 * `speedupVsSeed`: against the seed's per-event sliding-window rescan, same 100,000 events (1,000 keys).
 */
export const windowingSuite: BenchSuite = {
  name: 'windowing',
  description:
    'event-time windowing throughput (tumbling, hopping) and speedup over the seed stream processor',
  async run(ctx) {
    const warmup = Math.max(1, ctx.warmup);
    ctx.log(`windowing: generating ${THROUGHPUT_EVENTS} purchases over ${THROUGHPUT_KEYS} keys`);
    const throughputFacts = purchases();
    verifyTumbling(throughputFacts);
    const tumblingRuns: number[] = [];
    const hoppingRuns: number[] = [];
    for (let i = 0; i < warmup + ctx.runs; i++) {
      const tumblingRate = eventsPerSec(throughputFacts.length, () => aggregate(throughputFacts, tumbling));
      const hoppingRate = eventsPerSec(throughputFacts.length, () => aggregate(throughputFacts, hopping));
      if (i < warmup) continue;
      tumblingRuns.push(tumblingRate);
      hoppingRuns.push(hoppingRate);
      if (ctx.verbose)
        ctx.log(
          `windowing: run ${i - warmup + 1}: tumbling ${round(tumblingRate, 0)}, hopping ${round(hoppingRate, 0)} events/s`,
        );
    }

    ctx.log(`windowing: seed comparison on ${SEED_EVENTS} events over ${SEED_KEYS} keys`);
    const seedFacts = activity();
    verifyTumbling(seedFacts);
    const seedRuns: number[] = [];
    const sameDataRuns: number[] = [];
    // The seed's approach takes seconds per run: one warm-up and at most SEED_RUNS measured runs
    // keep the suite short.
    for (let i = 0; i < 1 + Math.min(ctx.runs, SEED_RUNS); i++) {
      const seedRate = eventsPerSec(seedFacts.length, () => seedApproach(seedFacts));
      const oursRate = eventsPerSec(seedFacts.length, () => aggregate(seedFacts, tumbling));
      if (i === 0) continue;
      seedRuns.push(seedRate);
      sameDataRuns.push(oursRate);
      if (ctx.verbose)
        ctx.log(`windowing: run ${i}: seed ${round(seedRate, 0)}, windowing ${round(oursRate, 0)} events/s`);
    }
    const seedRate = median(seedRuns);
    const sameDataRate = median(sameDataRuns);
    return {
      'tumbling.eventsPerSec': {
        value: round(median(tumblingRuns), 0),
        unit: 'events/s',
        baseline: TARGET_EVENTS_PER_SEC,
      },
      'hopping.eventsPerSec': { value: round(median(hoppingRuns), 0), unit: 'events/s' },
      'seedScan.eventsPerSec': { value: round(seedRate, 0), unit: 'events/s' },
      'seedData.eventsPerSec': { value: round(sameDataRate, 0), unit: 'events/s' },
      speedupVsSeedScan: { value: round(sameDataRate / seedRate, 1), unit: 'x', baseline: TARGET_SPEEDUP },
    };
  },
};

/**
 * Event-time windowing of user activity with the semantics of Kafka Streams' `TimeWindows`
 * (`KStreamWindowAggregate` followed by `suppress(untilWindowCloses)`). Pure: no AWS, no Kafka, no
 * Node-specific API; one {@link WindowedAggregator} holds the state of ONE partition.
 *
 * - Windows are aligned to the epoch: starts are the non-negative multiples of `advanceMs`, a window
 *   is `[start, start + sizeMs)`. Tumbling when `advanceMs === sizeMs`, hopping when smaller.
 * - Stream time is the largest event time seen on the partition; it never goes back.
 * - A record first moves stream time, then, for each of its windows, is aggregated when
 *   `windowEnd > streamTime - graceMs` and dropped (reported as late) otherwise, so a record can be
 *   late for some of its hopping windows and on time for the others.
 * - A window is closed (final) once `windowEnd <= streamTime - graceMs`; {@link WindowedAggregator.drainClosed}
 *   emits each closed window exactly once and frees its state. No record can reach a closed window
 *   afterwards (the same rule would drop it), so emitted results are final.
 *
 * Cost per record: its windows (1 tumbling, ~`sizeMs / advanceMs` hopping) plus, for an
 * out-of-order record, the newer windows of its key it walks past (after a drain, a key holds at
 * most `ceil((sizeMs + graceMs) / advanceMs)` windows per spec): O(1) for fixed specs, plus
 * O(log distinct open starts) when it opens the first window of a start. Draining pops only the
 * windows that close. Memory is bounded by open windows × keys, never by the number of records.
 */

/** The activity types with a metric of their own; any other type only counts in `events`. */
export type ActivityType = 'page_view' | 'add_to_cart' | 'purchase';

/** One user activity, the input of the windowing. */
export interface ActivityFact {
  /** Grouping key (e.g. the user id); windows are per key. */
  readonly key: string;
  /** Event time in epoch milliseconds; finite and ≥ 0 (a negative time is rejected, as Kafka Streams does). */
  readonly eventTime: number;
  readonly type: ActivityType | (string & {});
  /** Page of a `page_view` (a page view without a page counts in `pageViews` but not in `uniquePages`). */
  readonly page?: string;
  /** Amount of a `purchase`, in minor units (cents); a missing or non-finite amount counts as 0. */
  readonly amount?: number;
}

/** A windowing: tumbling when `advanceMs === sizeMs`, hopping when `advanceMs < sizeMs`. */
export interface WindowSpec {
  /** Unique within an aggregator; reported on every window and late record. */
  readonly name: string;
  /** Window length in milliseconds (positive integer). */
  readonly sizeMs: number;
  /** Distance between two window starts in milliseconds (positive integer, ≤ `sizeMs`). */
  readonly advanceMs: number;
  /** How long after its end a window still accepts out-of-order records (integer ≥ 0). */
  readonly graceMs: number;
}

/**
 * Partial aggregate of one window, serialisable (plain JSON) so that a store outside the process
 * (e.g. Redis) can hold the partials of several batches and {@link mergeAggregates} them.
 */
export interface WindowAggregate {
  /** All records, whatever their type. */
  readonly events: number;
  readonly pageViews: number;
  readonly addToCarts: number;
  readonly purchases: number;
  /** Sum of the purchase amounts (minor units). */
  readonly totalSpent: number;
  /** Distinct pages of the page views, sorted. */
  readonly pages: readonly string[];
}

/** The metrics reported for a window. */
export interface WindowMetrics {
  readonly events: number;
  readonly pageViews: number;
  /** Exact number of distinct pages viewed. */
  readonly uniquePages: number;
  readonly addToCarts: number;
  readonly purchases: number;
  readonly totalSpent: number;
  /** `totalSpent / purchases`, 0 without purchases. */
  readonly averageOrderValue: number;
}

/** One window of one key, with its aggregate: a closed window when drained, an open one in a snapshot. */
export interface WindowSnapshot {
  readonly key: string;
  /** The {@link WindowSpec.name}. */
  readonly spec: string;
  /** Inclusive start, epoch milliseconds. */
  readonly start: number;
  /** Exclusive end (`start + sizeMs`). */
  readonly end: number;
  readonly aggregate: WindowAggregate;
  readonly metrics: WindowMetrics;
}

/** A final window, emitted once by {@link WindowedAggregator.drainClosed}. */
export type ClosedWindow = WindowSnapshot;

/** The windows of one spec that a record missed because they had closed. */
export interface MissedWindows {
  readonly spec: string;
  /** Starts of the missed windows, ascending (each window is `[start, start + sizeMs)`). */
  readonly starts: readonly number[];
}

/** A record that missed at least one of its windows; it was merged into its other windows, if any. */
export interface LateRecord {
  readonly fact: ActivityFact;
  /** Stream time when the record was judged (already including the record itself). */
  readonly streamTime: number;
  /** One entry per spec for which the record missed at least one window, in spec order. */
  readonly missed: readonly MissedWindows[];
  /** True when the record missed all its windows of every spec (it changed no aggregate). */
  readonly dropped: boolean;
}

export interface WindowedAggregatorOptions {
  /**
   * Stream time to resume from (e.g. a checkpoint of the partition): finite and ≥ 0, or
   * `-Infinity` (the default: no record seen yet).
   */
  readonly streamTime?: number;
}

function isPositiveInteger(value: number): boolean {
  return Number.isSafeInteger(value) && value > 0;
}

/**
 * Checks a spec and returns it: name non-empty, `sizeMs` and `advanceMs` positive integers with
 * `advanceMs <= sizeMs`, `graceMs` an integer ≥ 0. Throws an Error naming the spec otherwise.
 */
export function validateWindowSpec(spec: WindowSpec): WindowSpec {
  const label = `window spec ${JSON.stringify(spec.name)}`;
  if (typeof spec.name !== 'string' || spec.name.length === 0)
    throw new Error('window spec: name must be a non-empty string');
  if (!isPositiveInteger(spec.sizeMs))
    throw new Error(`${label}: sizeMs must be a positive integer, got ${spec.sizeMs}`);
  if (!isPositiveInteger(spec.advanceMs))
    throw new Error(`${label}: advanceMs must be a positive integer, got ${spec.advanceMs}`);
  if (spec.advanceMs > spec.sizeMs)
    throw new Error(
      `${label}: advanceMs (${spec.advanceMs}) must not exceed sizeMs (${spec.sizeMs}); windows would leave gaps`,
    );
  if (!Number.isSafeInteger(spec.graceMs) || spec.graceMs < 0)
    throw new Error(`${label}: graceMs must be an integer >= 0, got ${spec.graceMs}`);
  return spec;
}

function assertEventTime(eventTime: number): void {
  if (!Number.isFinite(eventTime) || eventTime < 0)
    throw new RangeError(`event time must be a finite number >= 0, got ${eventTime}`);
}

/** The first (smallest) start of the windows containing `t`: the least multiple of advance > t − size, ≥ 0. */
function firstStart(t: number, sizeMs: number, advanceMs: number): number {
  const start = Math.floor((t - sizeMs) / advanceMs) * advanceMs + advanceMs;
  return Math.max(0, start);
}

/**
 * Starts of every window of `spec` containing event time `t` (`start <= t < start + sizeMs`,
 * `start >= 0`), ascending: one for a tumbling window, about `sizeMs / advanceMs` for a hopping one.
 * Same as Kafka Streams' `TimeWindows.windowsFor`.
 */
export function windowStartsFor(spec: WindowSpec, t: number): number[] {
  assertEventTime(t);
  const starts: number[] = [];
  for (let start = firstStart(t, spec.sizeMs, spec.advanceMs); start <= t; start += spec.advanceMs) {
    starts.push(start);
  }
  return starts;
}

/** An aggregate with nothing in it (the identity of {@link mergeAggregates}). */
export function emptyAggregate(): WindowAggregate {
  return { events: 0, pageViews: 0, addToCarts: 0, purchases: 0, totalSpent: 0, pages: [] };
}

/**
 * Merges two partial aggregates of the same window: counts and sums add up, pages are the sorted
 * union. Associative and commutative, with {@link emptyAggregate} as identity.
 */
export function mergeAggregates(a: WindowAggregate, b: WindowAggregate): WindowAggregate {
  let pages: string[];
  if (b.pages.length === 0) pages = [...new Set(a.pages)].sort();
  else if (a.pages.length === 0) pages = [...new Set(b.pages)].sort();
  else pages = [...new Set([...a.pages, ...b.pages])].sort();
  return {
    events: a.events + b.events,
    pageViews: a.pageViews + b.pageViews,
    addToCarts: a.addToCarts + b.addToCarts,
    purchases: a.purchases + b.purchases,
    totalSpent: a.totalSpent + b.totalSpent,
    pages,
  };
}

/** The reported metrics of an aggregate (`uniquePages` counts distinct pages, `averageOrderValue` derived). */
export function metricsOf(aggregate: WindowAggregate): WindowMetrics {
  return {
    events: aggregate.events,
    pageViews: aggregate.pageViews,
    uniquePages: new Set(aggregate.pages).size,
    addToCarts: aggregate.addToCarts,
    purchases: aggregate.purchases,
    totalSpent: aggregate.totalSpent,
    averageOrderValue: aggregate.purchases === 0 ? 0 : aggregate.totalSpent / aggregate.purchases,
  };
}

/** Binary min-heap push on a plain array. */
function heapPush(heap: number[], value: number): void {
  let i = heap.length;
  heap.push(value);
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const above = heap[parent] as number;
    if (above <= value) break;
    heap[i] = above;
    i = parent;
  }
  heap[i] = value;
}

/** Binary min-heap pop (the heap must not be empty). */
function heapPop(heap: number[]): number {
  const top = heap[0] as number;
  const last = heap.pop() as number;
  const n = heap.length;
  if (n === 0) return top;
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= n) break;
    const right = left + 1;
    let child = left;
    let childValue = heap[left] as number;
    if (right < n && (heap[right] as number) < childValue) {
      child = right;
      childValue = heap[right] as number;
    }
    if (childValue >= last) break;
    heap[i] = childValue;
    i = child;
  }
  heap[i] = last;
  return top;
}

// What a record adds to its windows besides `events`, decided once per record.
const OTHER = 0;
const PURCHASE = 1;
const PAGE_VIEW = 2;
const ADD_TO_CART = 3;

/**
 * Aggregate of one window of one key for one spec. The windows of a key form a doubly linked list
 * by descending start (newest first), headed from the spec's key map: an in-order record finds its
 * window at the head, a hopping record walks its few windows once.
 */
class Accumulator {
  events = 0;
  pageViews = 0;
  addToCarts = 0;
  purchases = 0;
  totalSpent = 0;
  /** Distinct pages, only once the window has a page view with a page. */
  pages: Set<string> | undefined = undefined;
  /** Newer window of the same key. */
  prev: Accumulator | undefined = undefined;
  /** Older window of the same key. */
  next: Accumulator | undefined = undefined;

  constructor(
    readonly key: string,
    readonly start: number,
  ) {}

  add(kind: number, amount: number, page: string | undefined): void {
    this.events++;
    if (kind === PURCHASE) {
      this.purchases++;
      this.totalSpent += amount;
    } else if (kind === PAGE_VIEW) {
      this.pageViews++;
      if (page !== undefined) {
        if (this.pages === undefined) this.pages = new Set();
        this.pages.add(page);
      }
    } else if (kind === ADD_TO_CART) {
      this.addToCarts++;
    }
  }

  snapshot(spec: string, end: number): WindowSnapshot {
    const { events, pageViews, addToCarts, purchases, totalSpent } = this;
    const pages = this.pages === undefined ? [] : [...this.pages].sort();
    return {
      key: this.key,
      spec,
      start: this.start,
      end,
      aggregate: { events, pageViews, addToCarts, purchases, totalSpent, pages },
      metrics: {
        events,
        pageViews,
        uniquePages: pages.length,
        addToCarts,
        purchases,
        totalSpent,
        averageOrderValue: purchases === 0 ? 0 : totalSpent / purchases,
      },
    };
  }
}

/**
 * State of one spec: the newest window of each key (head of its list), and a close index: for
 * each window start, its aggregates, with a min-heap of those starts so that draining pops only
 * what closes.
 */
class SpecState {
  readonly name: string;
  readonly sizeMs: number;
  readonly advanceMs: number;
  readonly graceMs: number;
  readonly newest = new Map<string, Accumulator>();
  readonly closing = new Map<number, Accumulator[]>();
  readonly starts: number[] = [];
  /** One-entry cache of the last close-index list used (windows opened in a row mostly share it). */
  lastStart = Number.NaN;
  lastClosing: Accumulator[] | undefined = undefined;

  constructor(spec: WindowSpec) {
    this.name = spec.name;
    this.sizeMs = spec.sizeMs;
    this.advanceMs = spec.advanceMs;
    this.graceMs = spec.graceMs;
  }

  /** Registers a new window in the close index. */
  index(accumulator: Accumulator): void {
    const start = accumulator.start;
    let list: Accumulator[] | undefined;
    if (start === this.lastStart) list = this.lastClosing as Accumulator[];
    else {
      list = this.closing.get(start);
      if (list === undefined) {
        list = [];
        this.closing.set(start, list);
        heapPush(this.starts, start);
      }
      this.lastStart = start;
      this.lastClosing = list;
    }
    list.push(accumulator);
  }

  /** Removes the earliest start from the close index and returns its windows. */
  popEarliest(): Accumulator[] {
    const start = heapPop(this.starts);
    const list = this.closing.get(start) as Accumulator[];
    this.closing.delete(start);
    if (start === this.lastStart) {
      this.lastStart = Number.NaN;
      this.lastClosing = undefined;
    }
    return list;
  }

  /**
   * Unlinks a window from its key's list (dropping the key with its last window). Windows close
   * oldest first, so this is the tail in practice; any position is handled.
   */
  unlink(accumulator: Accumulator): void {
    const { prev, next } = accumulator;
    if (next !== undefined) next.prev = prev;
    if (prev !== undefined) prev.next = next;
    else if (next !== undefined) this.newest.set(accumulator.key, next);
    else this.newest.delete(accumulator.key);
  }
}

/**
 * Windowed aggregation of the activity of ONE partition for one or more {@link WindowSpec}s, with a
 * single stream time shared by all specs. Feed records in partition order with {@link add}, call
 * {@link drainClosed} periodically (e.g. every batch) to emit and free the final windows.
 */
export class WindowedAggregator {
  readonly specs: readonly WindowSpec[];
  private readonly states: SpecState[];
  private current: number;
  private held = 0;

  /** Throws on an invalid spec, duplicate spec names, no spec, or an invalid `options.streamTime`. */
  constructor(specs: readonly WindowSpec[], options: WindowedAggregatorOptions = {}) {
    if (specs.length === 0) throw new Error('WindowedAggregator: at least one window spec is required');
    const names = new Set<string>();
    for (const spec of specs) {
      validateWindowSpec(spec);
      if (names.has(spec.name))
        throw new Error(`WindowedAggregator: duplicate window spec name "${spec.name}"`);
      names.add(spec.name);
    }
    const streamTime = options.streamTime ?? Number.NEGATIVE_INFINITY;
    if (streamTime !== Number.NEGATIVE_INFINITY) assertEventTime(streamTime);
    this.specs = [...specs];
    this.states = specs.map((spec) => new SpecState(spec));
    this.current = streamTime;
  }

  /** Largest event time seen on the partition (or resumed from); `-Infinity` before any record. */
  get streamTime(): number {
    return this.current;
  }

  /**
   * Moves stream time to the record's event time if later, then merges the record into each of its
   * windows that is still open (`end > streamTime - graceMs`). Returns the windows it missed, or
   * `undefined` when it was on time for all of them (the common case: no allocation).
   * Throws a RangeError on a negative or non-finite event time.
   */
  add(fact: ActivityFact): LateRecord | undefined {
    const t = fact.eventTime;
    if (!(t >= 0) || t === Number.POSITIVE_INFINITY) assertEventTime(t);
    if (t > this.current) this.current = t;
    const streamTime = this.current;
    const key = fact.key;
    const type = fact.type;
    let kind = OTHER;
    let amount = 0;
    let page: string | undefined;
    if (type === 'purchase') {
      kind = PURCHASE;
      const value = fact.amount;
      if (typeof value === 'number' && Number.isFinite(value)) amount = value;
    } else if (type === 'page_view') {
      kind = PAGE_VIEW;
      if (typeof fact.page === 'string') page = fact.page;
    } else if (type === 'add_to_cart') kind = ADD_TO_CART;

    let missed: MissedWindows[] | undefined;
    let merged = false;
    const states = this.states;
    for (let s = 0; s < states.length; s++) {
      const state = states[s] as SpecState;
      const size = state.sizeMs;
      const advance = state.advanceMs;
      const closeTime = streamTime - state.graceMs;
      const first = firstStart(t, size, advance);
      // Newest window first, walking the key's list (newest first) alongside.
      let start = Math.floor(t / advance) * advance;
      if (start + size > closeTime) {
        let previous: Accumulator | undefined;
        let node = state.newest.get(key);
        for (; start >= first; start -= advance) {
          if (start + size <= closeTime) break;
          while (node !== undefined && node.start > start) {
            previous = node;
            node = node.next;
          }
          if (node === undefined || node.start !== start) {
            const created = new Accumulator(key, start);
            created.prev = previous;
            created.next = node;
            if (node !== undefined) node.prev = created;
            if (previous === undefined) state.newest.set(key, created);
            else previous.next = created;
            state.index(created);
            this.held++;
            node = created;
          }
          node.add(kind, amount, page);
          merged = true;
        }
      }
      if (start >= first) {
        // This window and every older one have closed: the record is late for them.
        const late: number[] = [];
        for (let old = first; old <= start; old += advance) late.push(old);
        if (missed === undefined) missed = [];
        missed.push({ spec: state.name, starts: late });
      }
    }
    if (missed === undefined) return undefined;
    return { fact, streamTime, missed, dropped: !merged };
  }

  /**
   * Emits every window with `end <= streamTime - graceMs` not emitted yet, exactly once, and frees
   * its state. Order: by spec (in spec order), then ascending window start, then keys in the order
   * in which they opened the window.
   */
  drainClosed(): ClosedWindow[] {
    const closed: ClosedWindow[] = [];
    for (const state of this.states) {
      const closeTime = this.current - state.graceMs;
      while (state.starts.length > 0 && (state.starts[0] as number) + state.sizeMs <= closeTime) {
        const windows = state.popEarliest();
        for (const accumulator of windows) {
          closed.push(accumulator.snapshot(state.name, accumulator.start + state.sizeMs));
          state.unlink(accumulator);
        }
        this.held -= windows.length;
      }
    }
    return closed;
  }

  /** Number of (spec, window, key) aggregates held: the open windows plus the closed ones not drained yet. */
  openWindowCount(): number {
    return this.held;
  }

  /**
   * Snapshot of every window held and not drained yet (including windows that have closed since
   * the last {@link drainClosed}), in the order of {@link drainClosed}. Their aggregates are partial.
   */
  openWindows(): WindowSnapshot[] {
    const snapshots: WindowSnapshot[] = [];
    for (const state of this.states) {
      const starts = [...state.closing.keys()].sort((a, b) => a - b);
      for (const start of starts) {
        for (const accumulator of state.closing.get(start) as Accumulator[]) {
          snapshots.push(accumulator.snapshot(state.name, start + state.sizeMs));
        }
      }
    }
    return snapshots;
  }
}

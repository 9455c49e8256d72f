/**
 * Small, dependency-free statistics helpers for the benchmark.
 *
 * All functions take a read-only list and never reorder it. An empty list is a programming error
 * (there is no meaningful median of nothing), so they throw a RangeError instead of returning NaN.
 */

function assertNonEmpty(values: readonly number[], what: string): void {
  if (values.length === 0) throw new RangeError(`${what}: no values`);
  for (const value of values) {
    if (!Number.isFinite(value)) throw new RangeError(`${what}: non-finite value ${value}`);
  }
}

function sortedCopy(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/** Arithmetic mean. */
export function mean(values: readonly number[]): number {
  assertNonEmpty(values, 'mean');
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

/**
 * Percentile `p` (0–100) with linear interpolation between the closest ranks
 * (the "R-7" / Excel PERCENTILE.INC / NumPy default method): rank = p/100 · (n − 1).
 * p0 is the minimum, p100 the maximum, p50 the median.
 */
export function percentile(values: readonly number[], p: number): number {
  assertNonEmpty(values, 'percentile');
  if (!Number.isFinite(p) || p < 0 || p > 100)
    throw new RangeError(`percentile: p must be in [0, 100], got ${p}`);
  const sorted = sortedCopy(values);
  const rank = (p / 100) * (sorted.length - 1);
  const lowerIndex = Math.floor(rank);
  const upperIndex = Math.ceil(rank);
  const lower = sorted[lowerIndex] as number;
  const upper = sorted[upperIndex] as number;
  return lower + (upper - lower) * (rank - lowerIndex);
}

/** Median (= p50): middle value, or the mean of the two middle values for an even count. */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export function min(values: readonly number[]): number {
  assertNonEmpty(values, 'min');
  return Math.min(...values);
}

export function max(values: readonly number[]): number {
  assertNonEmpty(values, 'max');
  return Math.max(...values);
}

export interface Summary {
  n: number;
  min: number;
  max: number;
  mean: number;
  p50: number;
  p95: number;
}

export function summarize(values: readonly number[]): Summary {
  return {
    n: values.length,
    min: min(values),
    max: max(values),
    mean: mean(values),
    p50: percentile(values, 50),
    p95: percentile(values, 95),
  };
}

/** Round to a fixed number of decimals (for reporting only; never round before computing statistics). */
export function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

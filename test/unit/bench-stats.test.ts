import { describe, expect, it } from 'vitest';
import { bundleNameFromPath, toKebab } from '../../scripts/bench/assembly.js';
import { max, mean, median, min, percentile, round, summarize } from '../../scripts/bench/stats.js';

describe('mean', () => {
  it('averages', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    expect(mean([7])).toBe(7);
    expect(mean([-2, 2, 6])).toBe(2);
  });

  it('rejects an empty list and non-finite values', () => {
    expect(() => mean([])).toThrow(RangeError);
    expect(() => mean([1, Number.NaN])).toThrow(RangeError);
  });
});

describe('median', () => {
  it('takes the middle value of an odd count, regardless of order', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([98.1, 31.2, 40.5, 29.9, 33.3, 35.0, 30.1])).toBe(33.3);
  });

  it('averages the two middle values of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([10, 20])).toBe(15);
  });

  it('is the value itself for one sample', () => {
    expect(median([42])).toBe(42);
  });

  it('does not reorder its input', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });

  it('rejects an empty list', () => {
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('percentile (linear interpolation, R-7)', () => {
  const tenToHundred = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];

  it('p0 and p100 are the extremes', () => {
    expect(percentile(tenToHundred, 0)).toBe(10);
    expect(percentile(tenToHundred, 100)).toBe(100);
  });

  it('interpolates between the closest ranks', () => {
    // rank = p/100 · (n − 1): p50 → 4.5 → 50 + 0.5·10; p95 → 8.55 → 90 + 0.55·10; p25 → 2.25 → 30 + 0.25·10
    expect(percentile(tenToHundred, 50)).toBeCloseTo(55, 10);
    expect(percentile(tenToHundred, 95)).toBeCloseTo(95.5, 10);
    expect(percentile(tenToHundred, 25)).toBeCloseTo(32.5, 10);
  });

  it('matches NumPy for an unsorted 7-sample run', () => {
    // numpy.percentile([12, 15, 11, 30, 14, 13, 16], 95) == 25.799999999999997
    expect(percentile([12, 15, 11, 30, 14, 13, 16], 95)).toBeCloseTo(25.8, 10);
    expect(percentile([12, 15, 11, 30, 14, 13, 16], 50)).toBe(14);
  });

  it('hits exact ranks without interpolation', () => {
    expect(percentile([1, 2, 3, 4, 5], 75)).toBe(4);
  });

  it('is constant for one sample', () => {
    expect(percentile([7], 0)).toBe(7);
    expect(percentile([7], 95)).toBe(7);
  });

  it('rejects p outside [0, 100] and empty input', () => {
    expect(() => percentile([1, 2], -1)).toThrow(RangeError);
    expect(() => percentile([1, 2], 101)).toThrow(RangeError);
    expect(() => percentile([1, 2], Number.NaN)).toThrow(RangeError);
    expect(() => percentile([], 50)).toThrow(RangeError);
  });
});

describe('min, max, summarize, round', () => {
  it('summarizes a sample', () => {
    expect(min([3, -1, 2])).toBe(-1);
    expect(max([3, -1, 2])).toBe(3);
    const summary = summarize([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(summary.n).toBe(10);
    expect(summary.min).toBe(10);
    expect(summary.max).toBe(100);
    expect(summary.mean).toBe(55);
    expect(summary.p50).toBeCloseTo(55, 10);
    expect(summary.p95).toBeCloseTo(95.5, 10);
  });

  it('rounds to fixed decimals', () => {
    expect(round(98.149, 1)).toBe(98.1);
    expect(round(0.27349, 3)).toBe(0.273);
    expect(round(12.5, 0)).toBe(13);
  });
});

describe('bundle names (scripts/bench/assembly.ts)', () => {
  it('kebab-cases construct ids', () => {
    expect(toKebab('OrderApi')).toBe('order-api');
    expect(toKebab('APIKeyRotator')).toBe('api-key-rotator');
    expect(toKebab('Custom::S3AutoDeleteObjects')).toBe('custom-s3-auto-delete-objects');
  });

  it('uses the last meaningful construct id', () => {
    expect(bundleNameFromPath('Dev-Orders/OrderApi/Function/Resource', 'X')).toBe('order-api');
    expect(bundleNameFromPath('Dev-Orders/OutboxWorkerHandler/Resource', 'X')).toBe('outbox-worker');
    expect(bundleNameFromPath('Dev/Orders/Ingest/Handler/Resource', 'X')).toBe('ingest');
    expect(bundleNameFromPath('Dev-Orders/Handler/Resource', 'X')).toBe('handler');
  });

  it('falls back to the logical id without its hash', () => {
    expect(bundleNameFromPath(undefined, 'OrderApiFunction7DE8FFB8')).toBe('order-api');
  });
});

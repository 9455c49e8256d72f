import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../lambdas/commons/resilience/backoff.js';

/** The largest double below 1: the top of a `Math.random`-like source. */
const ALMOST_ONE = 1 - Number.EPSILON / 2;
const lowest = () => 0;
const highest = () => ALMOST_ONE;

describe('backoffDelay', () => {
  it.each([
    // attempt, ceiling with the defaults (base 2, cap 300): min(300, 2 * 2^(attempt-1))
    [1, 2],
    [2, 4],
    [3, 8],
    [4, 16],
    [5, 32],
    [6, 64],
    [7, 128],
    [8, 256],
    [9, 300],
    [20, 300],
  ])('after attempt %i draws from [1, %i] with full jitter', (attempt, ceiling) => {
    // GIVEN the default base and cap
    // WHEN the random source is at its bottom and at its top
    const low = backoffDelay(attempt, { random: lowest });
    const high = backoffDelay(attempt, { random: highest });
    // THEN the delay spans 1 (never 0) to the ceiling of the attempt
    expect(low).toBe(1);
    expect(high).toBe(ceiling);
  });

  it('stays within [1, ceiling] for any random value', () => {
    // GIVEN random values across [0, 1)
    for (let attempt = 1; attempt <= 12; attempt++) {
      const ceiling = Math.min(300, 2 * 2 ** (attempt - 1));
      for (let r = 0; r < 1; r += 0.0625) {
        // WHEN the delay is drawn
        const delay = backoffDelay(attempt, { random: () => r });
        // THEN it is a whole number inside the bounds
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(1);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  it('scales the middle of the range with the random value (rounded up)', () => {
    // GIVEN attempt 4 (ceiling 16)
    // WHEN the random value is a half and a third
    // THEN the delay is ceil(r * 16)
    expect(backoffDelay(4, { random: () => 0.5 })).toBe(8);
    expect(backoffDelay(4, { random: () => 1 / 3 })).toBe(6);
  });

  it('respects a custom base and cap', () => {
    // GIVEN base 5 and cap 60
    const options = { base: 5, cap: 60 };
    // THEN the ceilings are 5, 10, 20, 40, then 60 for good
    expect([1, 2, 3, 4, 5, 6, 30].map((a) => backoffDelay(a, { ...options, random: highest }))).toEqual([
      5, 10, 20, 40, 60, 60, 60,
    ]);
    expect(backoffDelay(30, { ...options, random: lowest })).toBe(1);
  });

  it('never exceeds the cap, however large the attempt', () => {
    // GIVEN an attempt whose exponential would overflow to Infinity
    // WHEN the delay is drawn at the top of the random range
    // THEN it is the cap
    expect(backoffDelay(5000, { random: highest })).toBe(300);
    expect(backoffDelay(5000, { cap: 900, random: highest })).toBe(900);
  });

  it('never goes below 1, even with a tiny ceiling', () => {
    // GIVEN a base below one unit
    // WHEN the random value is 0 or close to the top
    // THEN the delay is still 1
    expect(backoffDelay(1, { base: 0.1, random: lowest })).toBe(1);
    expect(backoffDelay(1, { base: 0.1, random: highest })).toBe(1);
    expect(backoffDelay(1, { cap: 0.5, random: highest })).toBe(1);
  });

  it('treats an attempt below 1 as the first attempt', () => {
    // GIVEN attempt 0 (no attempt made yet)
    // THEN the ceiling is the base
    expect(backoffDelay(0, { random: highest })).toBe(2);
    expect(backoffDelay(-3, { random: highest })).toBe(2);
  });

  it('uses Math.random by default and stays within bounds', () => {
    // GIVEN no random source
    // WHEN many delays are drawn after attempt 3 (ceiling 8)
    const delays = Array.from({ length: 200 }, () => backoffDelay(3));
    // THEN every one is in [1, 8]
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(1);
      expect(delay).toBeLessThanOrEqual(8);
    }
  });
});

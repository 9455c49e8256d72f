import { describe, expect, it, vi } from 'vitest';
import { ConcurrencyError, withOptimisticRetry } from '../../../lambdas/commons/event-store/event-store.js';

const conflict = () => new ConcurrencyError('agg-1', 4);

function recordingSleep() {
  const delays: number[] = [];
  return { delays, sleep: async (ms: number) => void delays.push(ms) };
}

describe('withOptimisticRetry', () => {
  it('reruns on ConcurrencyError until the function succeeds', async () => {
    // GIVEN a function that loses twice, then wins
    const fn = vi
      .fn<(attempt: number) => Promise<string>>()
      .mockRejectedValueOnce(conflict())
      .mockRejectedValueOnce(conflict())
      .mockResolvedValueOnce('ok');
    const { sleep } = recordingSleep();

    // THEN the third attempt's result is returned
    await expect(withOptimisticRetry(fn, { sleep })).resolves.toBe('ok');
    expect(fn.mock.calls.map(([attempt]) => attempt)).toEqual([1, 2, 3]);
  });

  it('gives up after the bound and rethrows the ConcurrencyError', async () => {
    // GIVEN a function that always loses
    const fn = vi.fn(async () => {
      throw conflict();
    });
    const { sleep, delays } = recordingSleep();

    // WHEN retried with the default bound of 5 attempts
    const result = withOptimisticRetry(fn, { sleep });

    // THEN it tries exactly 5 times, sleeps between them, and rethrows
    await expect(result).rejects.toBeInstanceOf(ConcurrencyError);
    expect(fn).toHaveBeenCalledTimes(5);
    expect(delays).toHaveLength(4);
  });

  it('does not retry any other error', async () => {
    const boom = new Error('throttled');
    const fn = vi.fn(async () => {
      throw boom;
    });
    const { sleep, delays } = recordingSleep();

    await expect(withOptimisticRetry(fn, { sleep })).rejects.toBe(boom);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(delays).toEqual([]);
  });

  it('backs off exponentially from the base, capped', async () => {
    const fn = vi.fn(async () => {
      throw conflict();
    });
    const { sleep, delays } = recordingSleep();

    await expect(
      withOptimisticRetry(fn, { attempts: 7, baseDelayMs: 10, maxDelayMs: 200, jitter: false, sleep }),
    ).rejects.toThrow(ConcurrencyError);
    expect(delays).toEqual([10, 20, 40, 80, 160, 200]);
  });

  it('uses full jitter: each delay is uniform in [0, cap)', async () => {
    const fn = vi.fn(async () => {
      throw conflict();
    });
    const { sleep, delays } = recordingSleep();
    const randoms = [0, 0.5, 0.999, 0.25];

    await expect(withOptimisticRetry(fn, { jitter: () => randoms.shift() ?? 0, sleep })).rejects.toThrow(
      ConcurrencyError,
    );
    expect(delays).toEqual([0, 10, 39, 20]);
  });

  it('keeps the default random jitter within [0, cap)', async () => {
    const fn = vi.fn(async () => {
      throw conflict();
    });
    const { sleep, delays } = recordingSleep();
    await expect(withOptimisticRetry(fn, { attempts: 5, baseDelayMs: 10, sleep })).rejects.toThrow();
    delays.forEach((delay, i) => {
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(10 * 2 ** i);
    });
  });

  it('carries the aggregate id and expected version on the error', () => {
    const error = conflict();
    expect(error).toMatchObject({ name: 'ConcurrencyError', aggregateId: 'agg-1', expectedVersion: 4 });
    expect(error.message).toContain('agg-1');
  });
});

/** The careful client's retry policy: what is retried with the same key, and how long it waits. */
import { describe, expect, it } from 'vitest';
import { backoffCeilingMs, backoffMs, cancelVerdict, placeVerdict } from '../../../scripts/chaos/backoff.js';
import { seededRandom } from '../../../scripts/chaos/random.js';

const policy = { baseMs: 100, capMs: 5000 };

describe('backoff schedule', () => {
  it('doubles the ceiling per attempt up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((a) => backoffCeilingMs(a, policy))).toEqual([
      100, 200, 400, 800, 1600, 3200, 5000, 5000,
    ]);
  });

  it('waits a jittered time within [0, ceiling], spread rather than synchronized', () => {
    const random = seededRandom(7);
    for (let attempt = 1; attempt <= 10; attempt++) {
      const waits = Array.from({ length: 200 }, () => backoffMs(attempt, random, policy));
      const ceiling = backoffCeilingMs(attempt, policy);
      expect(Math.min(...waits)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...waits)).toBeLessThanOrEqual(ceiling);
      // Full jitter: clients who failed together come back at many different times.
      expect(new Set(waits).size).toBeGreaterThan(Math.min(100, ceiling / 2));
    }
  });

  it('never retries sooner than a Retry-After', () => {
    expect(backoffMs(1, () => 0, policy, 2)).toBe(2000);
    expect(backoffMs(1, () => 0.99, policy, 30)).toBe(30_000);
    expect(backoffMs(8, () => 0.5, policy, 1)).toBe(2500);
  });

  it('is reproducible for a seed', () => {
    const a = seededRandom(3);
    const b = seededRandom(3);
    expect(Array.from({ length: 5 }, (_, i) => backoffMs(i + 1, a, policy))).toEqual(
      Array.from({ length: 5 }, (_, i) => backoffMs(i + 1, b, policy)),
    );
  });
});

describe('what the client sends again', () => {
  const response = (status: number, code?: string) => ({
    kind: 'response' as const,
    status,
    ...(code ? { code } : {}),
  });

  it('places until a 2xx: no answer, 5xx, 429 and 409-still-running are retried, other 4xx are final', () => {
    expect(placeVerdict({ kind: 'network', error: 'ECONNREFUSED' })).toBe('retry');
    expect(placeVerdict({ kind: 'network', error: 'timeout' })).toBe('retry');
    for (const status of [500, 502, 503, 504]) expect(placeVerdict(response(status))).toBe('retry');
    expect(placeVerdict(response(429))).toBe('retry');
    expect(placeVerdict(response(409, 'IDEMPOTENCY_IN_PROGRESS'))).toBe('retry');
    expect(placeVerdict(response(409, 'CONCURRENT_MODIFICATION'))).toBe('retry');
    expect(placeVerdict(response(202))).toBe('done');
    expect(placeVerdict(response(200))).toBe('done');
    expect(placeVerdict(response(400))).toBe('refused');
    expect(placeVerdict(response(422, 'IDEMPOTENCY_KEY_REUSED'))).toBe('refused');
    expect(placeVerdict(response(409, 'ORDER_EXISTS'))).toBe('refused');
  });

  it('cancels until 202 or a final 409 (no longer cancellable)', () => {
    expect(cancelVerdict(response(202))).toBe('done');
    expect(cancelVerdict(response(409, 'INVALID_TRANSITION'))).toBe('done');
    expect(cancelVerdict(response(409, 'CONCURRENT_MODIFICATION'))).toBe('retry');
    expect(cancelVerdict(response(503))).toBe('retry');
    expect(cancelVerdict({ kind: 'network', error: 'ECONNRESET' })).toBe('retry');
    expect(cancelVerdict(response(404))).toBe('refused');
  });
});

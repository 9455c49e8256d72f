import { describe, expect, it } from 'vitest';
import { Coalescer, type ItemOutcome } from '../../../lambdas/commons/batching/coalescer.js';

/** A batch call that records its batches and answers each item with its double (odd items fail). */
function recordingCall() {
  const batches: number[][] = [];
  const call = async (items: readonly number[]): Promise<ItemOutcome<number>[]> => {
    batches.push([...items]);
    return items.map((n) =>
      n % 2 === 0 ? { ok: true, value: n * 2 } : { ok: false, error: new Error(`odd ${n}`) },
    );
  };
  return { batches, call };
}

describe('Coalescer', () => {
  it('sends requests made together in one call and gives each caller its own outcome', async () => {
    // GIVEN a coalescer over a recording batch call
    const { batches, call } = recordingCall();
    const coalescer = new Coalescer(call, { maxItems: 50, maxWaitMs: 5 });
    // WHEN four requests are made in the same tick
    const results = await Promise.allSettled([2, 3, 4, 6].map((n) => coalescer.submit(n)));
    // THEN one call carried all four, and each caller got its own value or error
    expect(batches).toEqual([[2, 3, 4, 6]]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      4,
      'odd 3',
      8,
      12,
    ]);
  });

  it('never puts more than maxItems in a call', async () => {
    const { batches, call } = recordingCall();
    const coalescer = new Coalescer(call, { maxItems: 3, maxWaitMs: 5 });
    await Promise.all([0, 2, 4, 6, 8, 10, 12].map((n) => coalescer.submit(n)));
    expect(batches).toEqual([[0, 2, 4], [6, 8, 10], [12]]);
  });

  it('keeps groups apart', async () => {
    const { batches, call } = recordingCall();
    const coalescer = new Coalescer(call, {
      maxItems: 10,
      maxWaitMs: 5,
      groupOf: (n) => (n % 4 === 0 ? 'a' : 'b'),
    });
    await Promise.all([0, 2, 4, 6].map((n) => coalescer.submit(n)));
    expect(batches.map((b) => b.sort((x, y) => x - y)).sort((x, y) => (x[0] ?? 0) - (y[0] ?? 0))).toEqual([
      [0, 4],
      [2, 6],
    ]);
  });

  it('sends requests made after a flush in a later call', async () => {
    const { batches, call } = recordingCall();
    const coalescer = new Coalescer(call, { maxItems: 10, maxWaitMs: 1 });
    await coalescer.submit(2);
    await coalescer.submit(4);
    expect(batches).toEqual([[2], [4]]);
  });

  it('fails every item of a call that throws', async () => {
    const coalescer = new Coalescer<number, number>(
      async () => {
        throw new Error('throttled');
      },
      { maxItems: 10, maxWaitMs: 1 },
    );
    const results = await Promise.allSettled([1, 2].map((n) => coalescer.submit(n)));
    expect(results.map((r) => r.status === 'rejected' && (r.reason as Error).message)).toEqual([
      'throttled',
      'throttled',
    ]);
  });

  it('fails an item the call returned no outcome for, instead of leaving it pending', async () => {
    const coalescer = new Coalescer<number, number>(async () => [{ ok: true, value: 1 }], {
      maxItems: 10,
      maxWaitMs: 1,
    });
    const results = await Promise.allSettled([1, 2].map((n) => coalescer.submit(n)));
    expect(results[0]).toEqual({ status: 'fulfilled', value: 1 });
    expect(results[1]?.status).toBe('rejected');
  });

  it('refuses a maxItems below one', () => {
    expect(() => new Coalescer(async () => [], { maxItems: 0 })).toThrow(/maxItems/);
  });
});

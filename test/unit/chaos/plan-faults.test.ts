/** The seeded order mix and the fault schedule of a chaos run. */
import { describe, expect, it } from 'vitest';
import { faultSchedule } from '../../../scripts/chaos/faults.js';
import { planOrders, planSkus, TOKENS } from '../../../scripts/chaos/plan.js';
import { seededRandom } from '../../../scripts/chaos/random.js';

describe('order plan', () => {
  const skus = planSkus('r1', 1000);
  const plan = (seed: number) =>
    planOrders({
      runId: 'r1',
      orders: 1000,
      skus,
      customers: ['c1', 'c2', 'c3'],
      random: seededRandom(seed),
    });

  it('is the same for the same seed, and another for another seed', () => {
    expect(plan(1)).toEqual(plan(1));
    expect(plan(2)).not.toEqual(plan(1));
  });

  it('gives every order its own key, valid as an Idempotency-Key and a correlation id', () => {
    const orders = plan(1);
    expect(new Set(orders.map((o) => o.key)).size).toBe(1000);
    for (const o of orders) {
      expect(o.key).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
      expect(o.cancelCorrelationId).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
      expect(new Set(o.items.map((i) => i.sku)).size).toBe(o.items.length);
    }
  });

  it('runs every path: charged, declined, transient, no payment method, cancelled, scarce stock', () => {
    const orders = plan(1);
    const share = (pred: (o: (typeof orders)[number]) => boolean) =>
      orders.filter(pred).length / orders.length;
    expect(share((o) => o.paymentToken === TOKENS.charged)).toBeGreaterThan(0.6);
    expect(share((o) => o.paymentToken === TOKENS.declined)).toBeGreaterThan(0.05);
    expect(share((o) => o.paymentToken === TOKENS.transient)).toBeGreaterThan(0.05);
    expect(share((o) => o.paymentToken === undefined)).toBeGreaterThan(0.02);
    expect(share((o) => o.cancel)).toBeGreaterThan(0.05);
    const scarce = skus.find((s) => s.sku.endsWith('SCARCE'));
    const demand = orders.flatMap((o) => o.items).filter((i) => i.sku === scarce?.sku);
    expect(demand.reduce((sum, i) => sum + i.quantity, 0)).toBeGreaterThan(scarce?.initial ?? 0);
  });
});

describe('fault schedule', () => {
  it('spreads the faults evenly over the load, in the order given', () => {
    expect(faultSchedule(100, ['redis', 'rabbitmq', 'kafka', 'cloud'])).toEqual([
      { kind: 'redis', atSeconds: 20 },
      { kind: 'rabbitmq', atSeconds: 40 },
      { kind: 'kafka', atSeconds: 60 },
      { kind: 'cloud', atSeconds: 80 },
    ]);
    expect(faultSchedule(30, ['cloud'])).toEqual([{ kind: 'cloud', atSeconds: 15 }]);
    expect(faultSchedule(30, [])).toEqual([]);
  });
});

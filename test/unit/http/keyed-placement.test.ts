/**
 * A retry with an Idempotency-Key that finds its order already placed answers it again only when
 * the order is what the retry asks for (`isSamePlacement`); otherwise the key was reused (422).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSamePlacement, type PlaceOrderBody } from '../../../lambdas/orders/domain/order-schemas.js';

const item = fc.record({
  sku: fc.string({ minLength: 1, maxLength: 8 }),
  quantity: fc.integer({ min: 1, max: 10 }),
  unitPrice: fc.integer({ min: 0, max: 1000 }),
});
const body: fc.Arbitrary<PlaceOrderBody> = fc.record(
  {
    customerId: fc.string({ minLength: 1, maxLength: 8 }),
    items: fc.array(item, { minLength: 1, maxLength: 4 }),
    currency: fc.constantFrom('EUR', 'USD'),
    paymentToken: fc.string({ minLength: 1, maxLength: 8 }),
  },
  { requiredKeys: ['customerId', 'items', 'currency'] },
);
const placedFrom = (b: PlaceOrderBody) => ({
  customerId: b.customerId,
  currency: b.currency,
  paymentToken: b.paymentToken ?? null,
  items: b.items.map((i) => ({ ...i })),
});

describe('isSamePlacement', () => {
  it('holds for the order placed from the same body', () => {
    fc.assert(
      fc.property(body, (b) => {
        expect(isSamePlacement(placedFrom(b), b)).toBe(true);
      }),
      { seed: 1404, numRuns: 200 },
    );
  });

  it('fails when any field differs', () => {
    fc.assert(
      fc.property(body, body, (a, b) => {
        const same = JSON.stringify(placedFrom(a)) === JSON.stringify(placedFrom(b));
        expect(isSamePlacement(placedFrom(a), b)).toBe(same);
      }),
      { seed: 1404, numRuns: 200 },
    );
    const b: PlaceOrderBody = {
      customerId: 'c',
      currency: 'EUR',
      items: [{ sku: 'A', quantity: 1, unitPrice: 1 }],
    };
    expect(isSamePlacement({ ...placedFrom(b), paymentToken: 'tok' }, b)).toBe(false);
    expect(isSamePlacement({ ...placedFrom(b), items: [] }, b)).toBe(false);
    expect(isSamePlacement({ ...placedFrom(b), items: [{ sku: 'A', quantity: 2, unitPrice: 1 }] }, b)).toBe(
      false,
    );
  });
});

/**
 * The payment service's guard, given/when/then: GIVEN the order's events as the event store has
 * them, WHEN an InventoryReserved arrives (genuine, duplicate, stale or forged), THEN a charge with
 * the order's idempotency key, a failure, or a refusal (a logged no-op).
 */
import { describe, expect, it } from 'vitest';
import { decidePayment, paymentIdempotencyKey } from '../../../lambdas/payments/domain/payment-policy.js';
import {
  ORDER_ID,
  type OrderEventName,
  orderAfter,
  received,
  refusal,
  TOTAL,
} from '../orders/order-history.js';

describe('payment guard', () => {
  it('GIVEN a reserved order WHEN its InventoryReserved THEN it is charged its own total with the order’s idempotency key', () => {
    expect(decidePayment(orderAfter('placed', 'reserved'), received('InventoryReserved', 2))).toEqual({
      kind: 'charge',
      request: {
        orderId: ORDER_ID,
        amount: TOTAL,
        currency: 'EUR',
        paymentToken: 'tok',
        idempotencyKey: `order-${ORDER_ID}`,
      },
    });
    expect(paymentIdempotencyKey(ORDER_ID)).toBe('order-ord-1');
  });

  it('GIVEN a reserved order without a payment method WHEN its InventoryReserved THEN the payment fails, nothing is charged', () => {
    expect(
      decidePayment(orderAfter('placedWithoutToken', 'reserved'), received('InventoryReserved', 2)),
    ).toEqual({
      kind: 'fail',
      reason: 'no payment method',
    });
  });

  it.each([
    ['paid', ['placed', 'reserved', 'paid']],
    ['shipped', ['placed', 'reserved', 'paid', 'shipped']],
    ['payment-failed', ['placed', 'reserved', 'failed']],
    ['cancelled', ['placed', 'reserved', 'cancelled']],
  ] as [string, OrderEventName[]][])(
    'GIVEN a %s order WHEN its InventoryReserved is redelivered THEN nothing is charged',
    (_, history) => {
      expect(refusal(() => decidePayment(orderAfter(...history), received('InventoryReserved', 2)))).toBe(
        'ORDER_NOT_AWAITING_PAYMENT',
      );
    },
  );

  it.each([
    ['an unknown order', orderAfter(), received('InventoryReserved', 2), 'ORDER_UNKNOWN'],
    [
      'another event id',
      orderAfter('placed', 'reserved'),
      received('InventoryReserved', 2, 'forged'),
      'EVENT_NOT_IN_STREAM',
    ],
    [
      'a version beyond the stream',
      orderAfter('placed', 'reserved'),
      received('InventoryReserved', 3),
      'EVENT_NOT_IN_STREAM',
    ],
    [
      'another type at that version',
      orderAfter('placed', 'reserved'),
      received('InventoryReserved', 1),
      'EVENT_NOT_IN_STREAM',
    ],
    [
      'another trigger',
      orderAfter('placed', 'reserved'),
      received('OrderPlaced', 1),
      'NOT_A_PAYMENT_TRIGGER',
    ],
  ])('GIVEN %s WHEN an InventoryReserved arrives THEN nothing is charged', (_, order, trigger, code) => {
    expect(refusal(() => decidePayment(order, trigger))).toBe(code);
  });
});

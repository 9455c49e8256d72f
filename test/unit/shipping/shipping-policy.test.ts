/**
 * The shipping service's guard, given/when/then: GIVEN the order's events, WHEN a PaymentCompleted
 * arrives (genuine, duplicate, stale or forged), THEN one shipment or a refusal (a logged no-op).
 */
import { describe, expect, it } from 'vitest';
import { decideShipment } from '../../../lambdas/shipping/domain/shipping-policy.js';
import { type OrderEventName, orderAfter, received, refusal } from '../orders/order-history.js';

describe('shipping guard', () => {
  it('GIVEN a paid order WHEN its PaymentCompleted THEN it is shipped under the order’s shipment id', () => {
    expect(
      decideShipment(orderAfter('placed', 'reserved', 'paid'), received('PaymentCompleted', 3), 'DHL'),
    ).toEqual({
      shipmentId: 'shp-ord-1',
      carrier: 'DHL',
    });
  });

  it.each([['shipped', ['placed', 'reserved', 'paid', 'shipped']]] as [string, OrderEventName[]][])(
    'GIVEN a %s order WHEN its PaymentCompleted is redelivered THEN nothing is shipped',
    (_, history) => {
      expect(
        refusal(() => decideShipment(orderAfter(...history), received('PaymentCompleted', 3), 'DHL')),
      ).toBe('ORDER_NOT_AWAITING_SHIPMENT');
    },
  );

  it.each([
    ['an unknown order', orderAfter(), received('PaymentCompleted', 3), 'ORDER_UNKNOWN'],
    [
      'a forged event id',
      orderAfter('placed', 'reserved', 'paid'),
      received('PaymentCompleted', 3, 'forged'),
      'EVENT_NOT_IN_STREAM',
    ],
    [
      'a payment the stream never had',
      orderAfter('placed', 'reserved', 'failed'),
      received('PaymentCompleted', 3),
      'EVENT_NOT_IN_STREAM',
    ],
    [
      'a version beyond the stream',
      orderAfter('placed', 'reserved'),
      received('PaymentCompleted', 3),
      'EVENT_NOT_IN_STREAM',
    ],
  ])('GIVEN %s WHEN a PaymentCompleted arrives THEN nothing is shipped', (_, order, trigger, code) => {
    expect(refusal(() => decideShipment(order, trigger, 'DHL'))).toBe(code);
  });
});

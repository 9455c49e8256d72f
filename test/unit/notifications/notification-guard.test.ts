/**
 * The notification service's guard, given/when/then: GIVEN the order as the read model has it,
 * WHEN an order event arrives, THEN send (to the read model's customer), wait for the read model,
 * or refuse an event the order's status contradicts (a logged no-op).
 */
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../lambdas/commons/domain/decider.js';
import { decideOrderNotification } from '../../../lambdas/notifications/domain/notification-guard.js';

const event = (type: string, version: number) => ({ type, aggregateId: 'ord-1', version });
const order = (status: string, version: number) => ({ customerId: 'cus-1', status, version });

describe('notification guard', () => {
  it.each([
    ['OrderPlaced', 1, 'SHIPPED', 4],
    ['PaymentCompleted', 3, 'SHIPPED', 4],
    ['PaymentFailed', 3, 'CANCELLED', 4],
    ['OrderShipped', 4, 'SHIPPED', 4],
    ['OrderCancelled', 3, 'CANCELLED', 3],
    ['InventoryRejected', 2, 'REJECTED', 2],
  ])(
    'GIVEN the read model WHEN %s v%i of a %s order (v%i) THEN it is sent to the read model’s customer',
    (type, v, status, at) => {
      expect(decideOrderNotification(order(status, at), event(type, v))).toEqual({
        kind: 'send',
        customerId: 'cus-1',
      });
    },
  );

  it('GIVEN no order in the read model (lag, or a forged order) WHEN an event THEN wait, with the reason', () => {
    expect(decideOrderNotification(undefined, event('OrderPlaced', 1))).toEqual({
      kind: 'wait',
      reason: 'order ord-1 not in the read model yet',
    });
  });

  it('GIVEN a read model behind the event WHEN the event THEN wait', () => {
    expect(decideOrderNotification(order('PAID', 3), event('OrderShipped', 4)).kind).toBe('wait');
  });

  it.each([
    ['OrderCancelled', 4, 'SHIPPED', 4],
    ['OrderShipped', 3, 'CANCELLED', 3],
    ['PaymentCompleted', 2, 'PENDING', 2],
  ])(
    'GIVEN the read model WHEN %s v%i of a %s order (v%i) THEN it is refused: EVENT_CONTRADICTS_ORDER',
    (type, v, status, at) => {
      let error: unknown;
      try {
        decideOrderNotification(order(status, at), event(type, v));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).code).toBe('EVENT_CONTRADICTS_ORDER');
    },
  );
});

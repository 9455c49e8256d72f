/**
 * Reading an event: envelope ids must be well-formed text (parser and writer), an event's `data`
 * is parsed with its type's schema, and deterministic failures are told from transient ones.
 */
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { createEnvelope } from '../../../lambdas/commons/event-store/envelope.js';
import { readStoredRecord } from '../../../lambdas/commons/event-store/stored-record.js';
import {
  maxReceiveCountFromEnv,
  PoisonMessageError,
  parseEventData,
  poisonReason,
} from '../../../lambdas/commons/messaging/sqs-event-consumer.js';
import { orderEventDataSchemas } from '../../../lambdas/orders/domain/order-schemas.js';

const meta = {
  aggregateType: 'Order',
  aggregateId: 'o-1',
  version: 1,
  correlationId: 'c-1',
  causationId: 'c-1',
};
const paid = createEnvelope(
  { type: 'PaymentCompleted', data: { orderId: 'o-1', paymentId: 'p-1', amount: 1200, currency: 'EUR' } },
  meta,
);

describe('envelope ids', () => {
  it.each(['eventId', 'aggregateId', 'correlationId', 'causationId', 'type', 'aggregateType'])(
    'the parser refuses a lone surrogate in %s, naming the field',
    (field) => {
      const record = readStoredRecord({ ...paid, [field]: 'id-\ud800' });
      expect(record.kind).toBe('invalid');
      expect(record.kind === 'invalid' && record.reason).toMatch(
        new RegExp(`^not an event envelope: ${field}: must be well-formed Unicode`),
      );
    },
  );

  it('the parser refuses an id longer than 256 characters', () => {
    const record = readStoredRecord({ ...paid, aggregateId: 'x'.repeat(257) });
    expect(record.kind === 'invalid' && record.reason).toMatch(/aggregateId/);
  });

  it('the parser takes well-formed ids, astral characters included', () => {
    expect(readStoredRecord({ ...paid, aggregateId: 'o-😀' }).kind).toBe('event');
  });

  it('the writer refuses what the parser would refuse', () => {
    expect(() => createEnvelope({ type: 'X', data: {} }, { ...meta, correlationId: '\udc00' })).toThrow(
      /correlationId must be well-formed Unicode/,
    );
    expect(() => createEnvelope({ type: 'X', data: {} }, { ...meta, aggregateId: '' })).toThrow(
      /aggregateId must be a non-empty string/,
    );
  });
});

describe('parseEventData', () => {
  it('returns the event with the data its schema parsed', () => {
    expect(parseEventData(paid, orderEventDataSchemas)).toEqual({ ok: true, event: paid });
  });

  it('refuses invalid data, naming the fields', () => {
    const bad = { ...paid, data: { orderId: 'o-1', paymentId: 'p-1', amount: -1, currency: 'euro' } };
    const parsed = parseEventData(bad, orderEventDataSchemas);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toMatch(/^data of PaymentCompleted is invalid: amount: .*currency: /);
  });

  it.each([null, 'text', [], 42])('refuses data that is not an object (%j)', (data) => {
    expect(parseEventData({ ...paid, data } as never, orderEventDataSchemas).ok).toBe(false);
  });

  it('refuses a type it has no schema for, inherited names included', () => {
    for (const type of ['Unknown', 'constructor', '__proto__', 'toString']) {
      const parsed = parseEventData({ ...paid, type } as never, orderEventDataSchemas);
      expect(!parsed.ok && parsed.reason).toBe(`unknown event type ${JSON.stringify(type)}`);
    }
  });
});

describe('poison or transient', () => {
  it('takes PoisonMessageError and validation errors for poison, anything else for transient', () => {
    expect(poisonReason(new PoisonMessageError('no routing key'))).toBe('no routing key');
    const zodError = z.object({ a: z.string() }).safeParse({}).error;
    expect(poisonReason(zodError)).toMatch(/^invalid: a: /);
    expect(poisonReason(new Error('ECONNRESET'))).toBeUndefined();
    expect(
      poisonReason(Object.assign(new Error('slow down'), { name: 'ThrottlingException' })),
    ).toBeUndefined();
  });

  it('reads MAX_RECEIVE_COUNT as a positive integer, else unbounded', () => {
    expect(maxReceiveCountFromEnv({ MAX_RECEIVE_COUNT: '5' })).toBe(5);
    for (const value of [undefined, '', '0', '-1', '2.5', 'x']) {
      expect(maxReceiveCountFromEnv({ MAX_RECEIVE_COUNT: value })).toBe(Number.POSITIVE_INFINITY);
    }
  });
});

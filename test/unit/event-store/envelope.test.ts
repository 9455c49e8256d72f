import { describe, expect, it } from 'vitest';
import {
  createEnvelope,
  type EventEnvelope,
  toDomainEvent,
  UpcastError,
  Upcasters,
} from '../../../lambdas/commons/event-store/envelope.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function stored(type: string, schemaVersion: number, data: unknown): EventEnvelope {
  return createEnvelope(
    { type, data },
    {
      aggregateType: 'Order',
      aggregateId: 'order-1',
      version: 3,
      schemaVersion,
      correlationId: 'corr-1',
      causationId: 'cmd-1',
      occurredAt: '2024-01-02T03:04:05.000Z',
    },
  );
}

describe('createEnvelope', () => {
  it('wraps a domain event with identity, position and tracing ids', () => {
    // WHEN an event is enveloped without an explicit id, time or schema version
    const before = Date.now();
    const envelope = createEnvelope(
      { type: 'OrderPlaced', data: { total: 12 } },
      { aggregateType: 'Order', aggregateId: 'o-1', version: 1, correlationId: 'c', causationId: 'k' },
    );

    // THEN it gets a random UUID, schema version 1 and the current time, and keeps the event
    expect(envelope.eventId).toMatch(UUID);
    expect(envelope.schemaVersion).toBe(1);
    expect(Date.parse(envelope.occurredAt)).toBeGreaterThanOrEqual(before);
    expect(envelope).toMatchObject({
      type: 'OrderPlaced',
      aggregateType: 'Order',
      aggregateId: 'o-1',
      version: 1,
      correlationId: 'c',
      causationId: 'k',
      data: { total: 12 },
    });
    expect(toDomainEvent(envelope)).toEqual({ type: 'OrderPlaced', data: { total: 12 } });
  });

  it('refuses a version that is not a positive integer', () => {
    const meta = { aggregateType: 'Order', aggregateId: 'o-1', correlationId: 'c', causationId: 'k' };
    expect(() => createEnvelope({ type: 'X', data: {} }, { ...meta, version: 0 })).toThrow(RangeError);
    expect(() => createEnvelope({ type: 'X', data: {} }, { ...meta, version: 1.5 })).toThrow(RangeError);
  });
});

describe('Upcasters', () => {
  // v1 { amount: '12.50' } → v2 { amountCents: 1250 } → v3 { amount: { cents: 1250, currency: 'EUR' } }
  const upcasters = new Upcasters()
    .register('PaymentCaptured', 1, (data) => ({
      amountCents: Math.round(Number((data as { amount: string }).amount) * 100),
    }))
    .register('PaymentCaptured', 2, (data) => ({
      amount: { cents: (data as { amountCents: number }).amountCents, currency: 'EUR' },
    }));

  it('derives the current schema version from the registered steps', () => {
    expect(upcasters.currentVersion('PaymentCaptured')).toBe(3);
    expect(upcasters.currentVersion('SomethingElse')).toBe(1);
  });

  it('applies the chain from the stored version up to the current one', () => {
    // GIVEN an event stored at schema v1
    const v1 = stored('PaymentCaptured', 1, { amount: '12.50' });

    // WHEN read
    const upcast = upcasters.upcast(v1);

    // THEN both steps ran in order and only data and schemaVersion changed
    expect(upcast.data).toEqual({ amount: { cents: 1250, currency: 'EUR' } });
    expect(upcast.schemaVersion).toBe(3);
    expect({ ...upcast, data: v1.data, schemaVersion: 1 }).toEqual(v1);
  });

  it('starts the chain at the stored version', () => {
    const v2 = stored('PaymentCaptured', 2, { amountCents: 99 });
    expect(upcasters.upcast(v2).data).toEqual({ amount: { cents: 99, currency: 'EUR' } });
  });

  it('returns current events and unknown types untouched', () => {
    const v3 = stored('PaymentCaptured', 3, { amount: { cents: 1, currency: 'EUR' } });
    const other = stored('OrderPlaced', 1, { total: 1 });
    expect(upcasters.upcast(v3)).toBe(v3);
    expect(upcasters.upcast(other)).toBe(other);
  });

  it('fails on a missing link of the chain instead of skipping it', () => {
    // GIVEN steps 1→2 and 3→4 but no 2→3
    const gappy = new Upcasters().register('E', 1, (d) => d).register('E', 3, (d) => d);

    // THEN reading v1 fails at v2
    expect(() => gappy.upcast(stored('E', 1, {}))).toThrow(UpcastError);
    expect(() => gappy.upcast(stored('E', 1, {}))).toThrow(/E v2 → v3/);
  });

  it('fails on an event newer than the code knows', () => {
    expect(() => upcasters.upcast(stored('PaymentCaptured', 4, {}))).toThrow(/newer/);
  });

  it('refuses registering the same step twice', () => {
    expect(() => new Upcasters().register('E', 1, (d) => d).register('E', 1, (d) => d)).toThrow(
      /already registered/,
    );
  });
});

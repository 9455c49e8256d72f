import { describe, expect, it } from 'vitest';
import {
  filterView,
  matchesPattern,
  parseFilterCriteria,
  passes,
} from '../../../scripts/local-cloud/event-sources/filter.js';
import {
  parseSchedule,
  ScheduleExpressionError,
} from '../../../scripts/local-cloud/event-sources/schedule.js';
import { batchItemFailures } from '../../../scripts/local-cloud/event-sources/types.js';

describe('Lambda filter criteria', () => {
  const record = filterView(
    { messageId: 'm1', body: '{"type":"OrderPlaced","total":120,"tags":["a","b"]}' },
    'body',
  );

  it('matches exact values, prefixes, numeric ranges, anything-but and exists on a JSON body', () => {
    expect(matchesPattern({ body: { type: ['OrderPlaced'] } }, record)).toBe(true);
    expect(matchesPattern({ body: { type: [{ prefix: 'Order' }] } }, record)).toBe(true);
    expect(matchesPattern({ body: { total: [{ numeric: ['>', 100, '<=', 120] }] } }, record)).toBe(true);
    expect(matchesPattern({ body: { total: [{ numeric: ['>', 120] }] } }, record)).toBe(false);
    expect(matchesPattern({ body: { type: [{ 'anything-but': ['OrderPlaced'] }] } }, record)).toBe(false);
    expect(matchesPattern({ body: { missing: [{ exists: false }] } }, record)).toBe(true);
    expect(matchesPattern({ body: { tags: ['b'] } }, record)).toBe(true);
  });

  it('passes a record when any filter matches, and everything when there are no filters', () => {
    const filters = parseFilterCriteria({
      Filters: [{ Pattern: '{"body":{"type":["Nope"]}}' }, { Pattern: '{"body":{"type":["OrderPlaced"]}}' }],
    });
    expect(passes(filters, record)).toBe(true);
    expect(
      passes(parseFilterCriteria({ Filters: [{ Pattern: '{"body":{"type":["Nope"]}}' }] }), record),
    ).toBe(false);
    expect(passes(parseFilterCriteria(undefined), record)).toBe(true);
  });

  it('matches a non-JSON body as a plain string', () => {
    const plain = filterView({ body: 'hello' }, 'body');
    expect(matchesPattern({ body: [{ prefix: 'hel' }] }, plain)).toBe(true);
  });
});

describe('partial batch responses', () => {
  const ids = ['a', 'b', 'c'];
  it('reads the failed identifiers', () => {
    expect(batchItemFailures({ batchItemFailures: [{ itemIdentifier: 'b' }] }, ids)).toEqual(new Set(['b']));
    expect(batchItemFailures({ batchItemFailures: [] }, ids)).toEqual(new Set());
    expect(batchItemFailures(null, ids)).toEqual(new Set());
  });
  it('fails the whole batch on a malformed response, as Lambda does', () => {
    expect(batchItemFailures({ batchItemFailures: [{ itemIdentifier: '' }] }, ids)).toBe('all');
    expect(batchItemFailures({ batchItemFailures: [{ itemIdentifier: 'zzz' }] }, ids)).toBe('all');
    expect(batchItemFailures({ batchItemFailures: 'b' }, ids)).toBe('all');
  });
});

describe('schedule expressions', () => {
  it('parses rates', () => {
    expect(parseSchedule('rate(1 minute)')).toEqual({ kind: 'rate', everyMs: 60_000 });
    expect(parseSchedule('rate(2 hours)')).toEqual({ kind: 'rate', everyMs: 7_200_000 });
  });
  it('matches cron expressions in UTC', () => {
    const s = parseSchedule('cron(0/15 9-17 ? * MON-FRI *)');
    if (s.kind !== 'cron') throw new Error('expected cron');
    expect(s.matches(new Date('2026-11-26T09:30:00Z'))).toBe(true); // Thursday
    expect(s.matches(new Date('2026-11-26T09:31:00Z'))).toBe(false);
    expect(s.matches(new Date('2026-11-28T09:30:00Z'))).toBe(false); // Saturday
    expect(s.matches(new Date('2026-11-26T18:00:00Z'))).toBe(false);
  });
  it('rejects malformed expressions with the expression in the message', () => {
    expect(() => parseSchedule('every minute')).toThrow(ScheduleExpressionError);
    expect(() => parseSchedule('rate(0 minutes)')).toThrow(/at least 1/);
    expect(() => parseSchedule('cron(99 * * * ? *)')).toThrow(/out of 0-59/);
  });
});

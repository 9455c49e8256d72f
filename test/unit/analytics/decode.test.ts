import { describe, expect, it } from 'vitest';
import { decodeActivity } from '../../../lambdas/analytics/domain/decode.js';

const PAGE_VIEW = {
  schemaVersion: 1,
  userId: 'user-1',
  occurredAt: '2024-05-01T12:00:00+02:00',
  type: 'page_view',
  page: '/Shoes/?ref=ad',
};

const value = (event: unknown) => JSON.stringify(event);

describe('decodeActivity', () => {
  it.each([null, ''])('sends a record without a value (%j) to the dead letters', (raw) => {
    expect(decodeActivity(raw)).toEqual({ kind: 'dead', reason: 'the record has no value' });
  });

  it.each(['{', 'not json', '{"userId": "u1",}', "{'a': 1}"])(
    'sends a value that is not JSON (%j) to the dead letters with the parser message',
    (raw) => {
      // GIVEN a value that does not parse
      // WHEN it is decoded
      const decoded = decodeActivity(raw);
      // THEN it is dead, and the reason says why
      expect(decoded.kind).toBe('dead');
      expect(decoded.kind === 'dead' && decoded.reason).toMatch(/^the value is not JSON: .+/);
    },
  );

  it('sends a JSON value that is not an activity event to the dead letters with path and message', () => {
    // GIVEN a page view with an empty page
    const raw = value({ ...PAGE_VIEW, page: '' });
    // WHEN it is decoded
    // THEN the reason names the field and its error
    expect(decodeActivity(raw)).toEqual({
      kind: 'dead',
      reason: 'not an activity event: page: page must not be empty',
    });
  });

  it('joins several schema errors with "; "', () => {
    const raw = value({ ...PAGE_VIEW, schemaVersion: 2, userId: '' });
    expect(decodeActivity(raw)).toEqual({
      kind: 'dead',
      reason:
        'not an activity event: schemaVersion: schemaVersion must be 1; userId: userId must not be empty',
    });
  });

  it('names the event itself when the error has no path', () => {
    expect(decodeActivity(value({ ...PAGE_VIEW, extra: 1 }))).toEqual({
      kind: 'dead',
      reason: expect.stringMatching(/^not an activity event: \(event\): /),
    });
  });

  it.each([['null'], ['42'], ['"page_view"'], ['[]']])('sends the JSON %s to the dead letters', (raw) => {
    const decoded = decodeActivity(raw);
    expect(decoded.kind).toBe('dead');
    expect(decoded.kind === 'dead' && decoded.reason).toMatch(/^not an activity event: /);
  });

  it('accepts the receivedAt the platform sets at ingest', () => {
    const decoded = decodeActivity(value({ ...PAGE_VIEW, receivedAt: '2024-05-01T10:00:01.500Z' }));
    expect(decoded.kind).toBe('fact');
  });

  it('sends an event that occurred before 1970 to the dead letters', () => {
    // GIVEN an otherwise valid event one second before the epoch
    const raw = value({ ...PAGE_VIEW, occurredAt: '1969-12-31T23:59:59Z' });
    // WHEN it is decoded
    // THEN it is dead (the windowing rejects negative event times)
    expect(decodeActivity(raw)).toEqual({ kind: 'dead', reason: 'occurredAt is before 1970' });
  });

  it('decodes an event at the epoch itself as a fact at time 0', () => {
    const decoded = decodeActivity(value({ ...PAGE_VIEW, occurredAt: '1970-01-01T00:00:00Z' }));
    expect(decoded.kind === 'fact' && decoded.fact.eventTime).toBe(0);
  });

  it('excludes bot traffic', () => {
    const decoded = decodeActivity(value({ ...PAGE_VIEW, userAgent: 'Googlebot/2.1' }));
    expect(decoded).toEqual({ kind: 'excluded', reason: 'bot' });
  });

  it('decodes a valid page view into a fact with the normalised page and the epoch time', () => {
    // GIVEN a page view at 12:00 +02:00 on a page with a query and a trailing slash
    // WHEN it is decoded
    // THEN it is a fact keyed by the user, at 10:00 UTC, on the normalised page
    expect(decodeActivity(value(PAGE_VIEW))).toEqual({
      kind: 'fact',
      fact: { key: 'user-1', eventTime: Date.UTC(2024, 4, 1, 10), type: 'page_view', page: '/shoes' },
    });
  });

  it('decodes a purchase into a fact with its amount', () => {
    const raw = value({
      schemaVersion: 1,
      userId: 'user-2',
      occurredAt: '2024-05-01T10:00:00Z',
      type: 'purchase',
      amount: 4999,
      currency: 'USD',
    });
    expect(decodeActivity(raw)).toEqual({
      kind: 'fact',
      fact: { key: 'user-2', eventTime: Date.UTC(2024, 4, 1, 10), type: 'purchase', amount: 4999 },
    });
  });

  it.each(['userId', 'sessionId', 'page'])(
    'dead-letters a lone surrogate in %s, naming the field',
    (field) => {
      // JSON.stringify writes `\ud800` as an escape: valid JSON text, as a producer could send it.
      const decoded = decodeActivity(value({ ...PAGE_VIEW, sessionId: 's-1', [field]: 'x\ud800' }));
      expect(decoded).toEqual({
        kind: 'dead',
        reason: `not well-formed Unicode at ${field} (a lone UTF-16 surrogate)`,
      });
    },
  );

  it('reads a value that was not UTF-8 as text with replacement characters, never throws', () => {
    const text = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('utf8');
    expect(decodeActivity(text).kind).toBe('dead');
  });
});

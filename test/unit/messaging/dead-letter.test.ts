/**
 * The dead-letter copy: SQS-safe attributes, always a reason, and a size within what SQS accepts,
 * counted as SQS counts it (body + attribute names, types and values, in UTF-8 bytes).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';

const sent = vi.hoisted(() => [] as { input: Record<string, unknown> }[]);
vi.mock('../../../lambdas/commons/clients/sqs.js', () => ({
  sqsClient: () => ({ send: async (command: { input: Record<string, unknown> }) => void sent.push(command) }),
}));

import type { ClaimCheckStore } from '../../../lambdas/commons/messaging/claim-check.js';
import { fromTransport } from '../../../lambdas/commons/messaging/claim-check.js';
import {
  DEAD_LETTER_MAX_BYTES,
  type DeadLetterMessage,
  deadLetterMessage,
  EMPTY_BODY_PLACEHOLDER,
  MAX_REASON_BYTES,
  sendToDeadLetterQueue,
  sqsMessageSize,
} from '../../../lambdas/commons/messaging/dead-letter.js';
import { isSqsText } from '../../../lambdas/commons/messaging/well-formed.js';
import { DEAD_LETTER_ATTRIBUTES } from '../../../scripts/lib/dlq.js';

const source = {
  sourceMessageId: '6f1c1c55-2d1c-4b7e-9c55-8b0b1f1d2a33',
  sourceQueue: 'arn:aws:sqs:eu-west-1:123456789012:platform-dev-fulfilment-AnalyticsQueue',
  correlationId: 'corr-1',
};

const sizeOf = (m: DeadLetterMessage) => sqsMessageSize(m.MessageBody, m.MessageAttributes);
const everyText = (m: DeadLetterMessage) => [
  m.MessageBody,
  ...Object.entries(m.MessageAttributes).flatMap(([k, v]) => [k, v.DataType, v.StringValue]),
];

describe('sqsMessageSize', () => {
  it('counts the body and every attribute name, data type and value in UTF-8 bytes', () => {
    expect(sqsMessageSize('abc')).toBe(3);
    // 'é' is 2 bytes, '😀' 4.
    expect(sqsMessageSize('é😀')).toBe(6);
    expect(
      sqsMessageSize('{}', {
        reason: { DataType: 'String', StringValue: 'bad' },
        n: { DataType: 'Number', StringValue: '12' },
      }),
    ).toBe(2 + (6 + 6 + 3) + (1 + 6 + 2));
    expect(sqsMessageSize('', { b: { DataType: 'Binary', BinaryValue: new Uint8Array(10) } })).toBe(
      1 + 6 + 10,
    );
  });

  it('keeps the bound a constant of 256 KiB', () => {
    expect(DEAD_LETTER_MAX_BYTES).toBe(262_144);
  });
});

describe('deadLetterMessage', () => {
  it('keeps a body that fits untouched, with the reason and provenance', () => {
    const m = deadLetterMessage({ body: '{"a":1}', reason: 'data of OrderPlaced is invalid', ...source });
    expect(m.MessageBody).toBe('{"a":1}');
    expect(m.MessageAttributes).toEqual({
      reason: { DataType: 'String', StringValue: 'data of OrderPlaced is invalid' },
      sourceMessageId: { DataType: 'String', StringValue: source.sourceMessageId },
      sourceQueue: { DataType: 'String', StringValue: source.sourceQueue },
      correlationId: { DataType: 'String', StringValue: 'corr-1' },
    });
  });

  it('makes every attribute SQS text: lone surrogates and refused controls become U+FFFD', () => {
    const m = deadLetterMessage({
      body: '{"eventId":"\\ud800"}',
      reason: 'eventId: bad \ud800 id\u0000',
      sourceMessageId: 'm\udc00',
      correlationId: '\ud800',
    });
    for (const t of everyText(m)) expect(isSqsText(t)).toBe(true);
    expect(m.MessageAttributes.reason?.StringValue).toBe('eventId: bad \ufffd id\ufffd');
    expect(m.MessageAttributes.correlationId?.StringValue).toBe('\ufffd');
    expect(m.MessageBody).toBe('{"eventId":"\\ud800"}');
  });

  it('always carries a reason, and leaves out empty attributes SQS would refuse', () => {
    const m = deadLetterMessage({ body: 'x', reason: '', sourceMessageId: '', correlationId: '' });
    expect(m.MessageAttributes.reason?.StringValue).toBe('(no reason given)');
    expect(Object.keys(m.MessageAttributes)).toEqual(['reason']);
  });

  it('bounds a long reason by bytes, without splitting a character', () => {
    const m = deadLetterMessage({ body: 'x', reason: '😀'.repeat(10_000) });
    const reason = m.MessageAttributes.reason?.StringValue ?? '';
    expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(MAX_REASON_BYTES);
    expect(reason).toBe('😀'.repeat(MAX_REASON_BYTES / 4));
  });

  it('replaces an empty body (SQS refuses one) with a placeholder, marked', () => {
    const m = deadLetterMessage({ body: '', reason: 'empty' });
    expect(m.MessageBody).toBe(EMPTY_BODY_PLACEHOLDER);
    expect(m.MessageAttributes.bodyEmpty?.StringValue).toBe('true');
  });

  it('cuts a near-256 KiB body so that body and attributes fit, marked with its size and SHA-256', () => {
    // GIVEN a body SNS and SQS accepted (256 KiB less the source's own attributes) and a long reason
    const body = `{"data":"${'x'.repeat(DEAD_LETTER_MAX_BYTES - 200)}"}`;
    const input = { body, reason: `gave up after 5 attempts: ${'e'.repeat(3000)}`, ...source };
    // WHEN it is dead-lettered whole, it would not fit
    expect(
      sqsMessageSize(body, deadLetterMessage({ ...input, body: 'x' }).MessageAttributes),
    ).toBeGreaterThan(DEAD_LETTER_MAX_BYTES);
    const m = deadLetterMessage(input);
    // THEN the copy fits exactly within the bound, the reason is kept and the cut is marked
    expect(sizeOf(m)).toBeLessThanOrEqual(DEAD_LETTER_MAX_BYTES);
    expect(sizeOf(m)).toBeGreaterThan(DEAD_LETTER_MAX_BYTES - 8);
    expect(m.MessageAttributes.reason?.StringValue).toMatch(/^gave up after 5 attempts: e+$/);
    expect(m.MessageAttributes.bodyTruncated?.StringValue).toBe('true');
    expect(m.MessageAttributes.bodyOriginalBytes).toEqual({
      DataType: 'Number',
      StringValue: String(Buffer.byteLength(body)),
    });
    expect(m.MessageAttributes.bodySha256?.StringValue).toBe(createHash('sha256').update(body).digest('hex'));
    expect(body.startsWith(m.MessageBody)).toBe(true);
  });

  it('cuts a multi-byte body between characters', () => {
    const body = '€😀'.repeat(60_000); // 7 bytes a pair: 420,000 bytes
    const m = deadLetterMessage({ body, reason: 'too big', ...source });
    expect(sizeOf(m)).toBeLessThanOrEqual(DEAD_LETTER_MAX_BYTES);
    expect(isSqsText(m.MessageBody)).toBe(true);
    expect(m.MessageBody.includes('\ufffd')).toBe(false);
    expect(body.startsWith(m.MessageBody)).toBe(true);
  });

  it('fits smaller bounds too (attributes alone take at most 3.6 KB)', () => {
    for (const max of [4096, 16_384, 65_536]) {
      const m = deadLetterMessage({ body: 'y'.repeat(100_000), reason: 'r'.repeat(5000), ...source }, max);
      expect(sizeOf(m)).toBeLessThanOrEqual(max);
      expect(m.MessageAttributes.reason?.StringValue.length).toBeGreaterThan(0);
    }
  });
});

describe('sendToDeadLetterQueue', () => {
  const record = {
    body: 'z'.repeat(DEAD_LETTER_MAX_BYTES),
    messageId: 'm-1',
    eventSourceARN: source.sourceQueue,
  };

  it('puts a body too large behind the claim check; the reference resolves to the original', async () => {
    const objects = new Map<string, string>();
    const store: ClaimCheckStore = {
      put: async (key, body) => {
        objects.set(key, body);
        return { bucket: 'claims', key };
      },
      get: async (ref) => objects.get(ref.key) ?? '',
    };
    sent.length = 0;
    await sendToDeadLetterQueue(
      'http://sqs/dlq',
      { ...record, body: JSON.stringify({ big: record.body }) },
      'why',
      {
        claimCheck: store,
      },
    );
    const input = sent[0]?.input as unknown as DeadLetterMessage & { QueueUrl: string };
    expect(input.QueueUrl).toBe('http://sqs/dlq');
    expect(input.MessageAttributes.reason?.StringValue).toBe('why');
    expect(input.MessageAttributes.bodyClaimChecked?.StringValue).toMatch(
      /^s3:\/\/claims\/events\/dead-letters\//,
    );
    expect(sizeOf(input)).toBeLessThan(2048);
    // A redrive hands the reference to the consumer, which swaps it for the original event.
    expect(await fromTransport(JSON.parse(input.MessageBody), store)).toEqual({ big: record.body });
  });

  it('cuts the body when the claim-check store refuses it, keeping the reason', async () => {
    const store: ClaimCheckStore = {
      put: async () => {
        throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
      },
      get: async () => '',
    };
    sent.length = 0;
    await sendToDeadLetterQueue('http://sqs/dlq', record, 'why', { claimCheck: store });
    const input = sent[0]?.input as unknown as DeadLetterMessage;
    expect(input.MessageAttributes.reason?.StringValue).toBe('why');
    expect(input.MessageAttributes.bodyTruncated?.StringValue).toBe('true');
    expect(sizeOf(input)).toBeLessThanOrEqual(DEAD_LETTER_MAX_BYTES);
  });

  it('sets only attributes a redrive strips (the correlation id goes back with the message)', async () => {
    const store: ClaimCheckStore = { put: async (key) => ({ bucket: 'b', key }), get: async () => '' };
    sent.length = 0;
    await sendToDeadLetterQueue('http://sqs/dlq', record, 'why', { claimCheck: store, correlationId: 'c' });
    const names = new Set([
      ...Object.keys((sent[0]?.input as unknown as DeadLetterMessage | undefined)?.MessageAttributes ?? {}),
      ...Object.keys(deadLetterMessage({ body: record.body, reason: 'r', ...source }).MessageAttributes),
      ...Object.keys(deadLetterMessage({ body: '', reason: 'r', ...source }).MessageAttributes),
    ]);
    names.delete('correlationId');
    expect([...names].filter((n) => !DEAD_LETTER_ATTRIBUTES.includes(n))).toEqual([]);
  });
});

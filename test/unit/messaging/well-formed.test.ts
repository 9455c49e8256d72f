/** Well-formed text: lone surrogates found, replaced, SQS's character set enforced, UTF-8 cuts. */
import { describe, expect, it } from 'vitest';
import {
  firstMalformedString,
  isSqsText,
  isWellFormed,
  toSqsText,
  toWellFormed,
  truncateUtf8,
} from '../../../lambdas/commons/messaging/well-formed.js';

describe('well-formed text', () => {
  it('finds lone and reversed surrogates, not pairs', () => {
    expect(isWellFormed('plain é 😀')).toBe(true);
    for (const bad of ['\ud800', 'a\udc00b', '\udc00\ud800', 'x\ud83d'])
      expect(isWellFormed(bad)).toBe(false);
    expect(toWellFormed('a\ud800b\udc00😀')).toBe('a\ufffdb\ufffd😀');
  });

  it("keeps SQS's character set: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF", () => {
    expect(isSqsText('tab\tnl\ncr\r ~ \ud7ff \ue000 \ufffd 😀')).toBe(true);
    for (const bad of ['\u0000', '\u0008', '\u000b', '\u001f', '\ufffe', '\uffff', '\ud800']) {
      expect(isSqsText(`a${bad}b`)).toBe(false);
      expect(toSqsText(`a${bad}b`)).toBe('a\ufffdb');
    }
    // The global pattern's state does not leak between calls.
    expect([isSqsText('\u0000'), isSqsText('\u0000'), isSqsText('ok')]).toEqual([false, false, true]);
  });

  it('names the path of the first malformed string, keys included', () => {
    expect(firstMalformedString({ a: [1, 'ok', { b: '\ud800' }] })).toBe('a.2.b');
    expect(firstMalformedString({ 'k\udc00': 1 })).toBe('k\ufffd (the key)');
    expect(firstMalformedString('\ud800')).toBe('(root)');
    expect(firstMalformedString({ a: 'fine', b: [null, 2] })).toBeUndefined();
    let deep: unknown = 'x';
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(firstMalformedString(deep, 10)).toMatch(/nested deeper than 10/);
  });

  it('cuts UTF-8 between characters', () => {
    expect(truncateUtf8('abc', 10)).toBe('abc');
    expect(truncateUtf8('aé', 2)).toBe('a');
    expect(truncateUtf8('a😀', 4)).toBe('a');
    expect(truncateUtf8('a😀', 5)).toBe('a😀');
    expect(truncateUtf8('abc', 0)).toBe('');
  });
});

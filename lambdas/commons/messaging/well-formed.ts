/**
 * Well-formed text for messages. A JavaScript string may hold a lone UTF-16 surrogate (`"\ud800"`
 * is valid JSON), which no UTF-8 encoder can represent: SQS refuses it in a body or an attribute,
 * DynamoDB and Kafka turn it into U+FFFD behind our back. Messages parse such strings as bad input;
 * what we write ourselves (reasons, attributes, headers) is made safe instead. Pure.
 *
 * (`String.prototype.isWellFormed` exists from Node 20, but not in the ES2023 lib the project
 * compiles against: the two regular expressions below say the same.)
 */

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

/**
 * What SQS refuses in a body or a String attribute: everything outside
 * `#x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF` (XML 1.0 characters), i.e. the
 * other C0 controls, U+FFFE, U+FFFF and lone surrogates.
 */
const NOT_SQS_CHARACTER = new RegExp(
  `[\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\uFFFE\\uFFFF]|${LONE_SURROGATE.source}`,
  'g',
);

/** The replacement character, as every UTF-8 decoder writes for what it cannot read. */
export const REPLACEMENT_CHARACTER = '\uFFFD';

/** True when `text` holds no lone surrogate (it has a UTF-8 encoding). */
export const isWellFormed = (text: string): boolean => !LONE_SURROGATE.test(text);

/** `text` with each lone surrogate replaced by U+FFFD. */
export const toWellFormed = (text: string): string => text.replace(LONE_SURROGATES, REPLACEMENT_CHARACTER);

/** `text` with every character SQS refuses replaced by U+FFFD: safe as a body or an attribute. */
export const toSqsText = (text: string): string => text.replace(NOT_SQS_CHARACTER, REPLACEMENT_CHARACTER);

/** True when SQS accepts `text` as it is. */
export const isSqsText = (text: string): boolean => {
  NOT_SQS_CHARACTER.lastIndex = 0;
  const bad = NOT_SQS_CHARACTER.test(text);
  NOT_SQS_CHARACTER.lastIndex = 0;
  return !bad;
};

/**
 * The path of the first string (value or object key) in `value` that is not well-formed, e.g.
 * `items.0.sku`, or `(root)` for the value itself; undefined when every string is well-formed.
 * Depth-bounded: JSON nested deeper than `maxDepth` is reported as such rather than walked.
 */
export function firstMalformedString(value: unknown, maxDepth = 64): string | undefined {
  const walk = (v: unknown, path: readonly (string | number)[], depth: number): string | undefined => {
    const here = () => (path.length > 0 ? path.join('.') : '(root)');
    if (typeof v === 'string') return isWellFormed(v) ? undefined : here();
    if (v === null || typeof v !== 'object') return undefined;
    if (depth >= maxDepth) return `${here()} (nested deeper than ${maxDepth})`;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const found = walk(v[i], [...path, i], depth + 1);
        if (found) return found;
      }
      return undefined;
    }
    for (const [key, inner] of Object.entries(v)) {
      if (!isWellFormed(key)) return `${[...path, toWellFormed(key)].join('.')} (the key)`;
      const found = walk(inner, [...path, key], depth + 1);
      if (found) return found;
    }
    return undefined;
  };
  return walk(value, [], 0);
}

/**
 * The longest prefix of `text` whose UTF-8 encoding fits in `maxBytes`, cut between characters
 * (never inside a surrogate pair or a multi-byte sequence).
 */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return '';
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const bytes = Buffer.from(toWellFormed(text), 'utf8');
  let end = Math.min(maxBytes, bytes.length);
  // Back off continuation bytes (10xxxxxx) to the start of the character that would be split.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

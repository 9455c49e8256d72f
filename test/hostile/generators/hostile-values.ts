/**
 * The hostile vocabulary: the values that broke the platform before (issue 14) and their
 * relatives. Each list is small and named, so a report's class says which one a case used.
 */
import fc from 'fast-check';
import { type Json, RawJson } from './json.js';

/** Lone and reversed UTF-16 surrogates: valid JSON (`"\ud800"`), ill-formed Unicode. */
export const LONE_SURROGATES = [
  '\ud800',
  '\udbff',
  '\udc00',
  '\udfff',
  '\udc00\ud800',
  '\ude00\ud83d',
  'a\ud83d',
  '\ude00b',
] as const;

/** Names that are properties of every plain object: a map built from request data must not see them. */
export const PROTOTYPE_KEYS = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'prototype',
  'isPrototypeOf',
  '__defineGetter__',
  '__lookupGetter__',
  'propertyIsEnumerable',
  'toLocaleString',
] as const;

export const CONTROL_CHARACTERS = [
  '\u0000',
  '\u0001',
  '\u0007',
  '\b',
  '\t',
  '\n',
  '\r',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u2028',
  '\u2029',
  '\u200b',
  '\u202e',
  '\ufeff',
  '\uffff',
] as const;

/** Percent-encodings a decoder must refuse: truncated, not hex, invalid or overlong UTF-8, an encoded surrogate. */
export const MALFORMED_PERCENT = [
  '%',
  '%Z',
  '%ZZ',
  '%2',
  '%%',
  '%E0%A4%A',
  '%FF%FE',
  '%C0%AF',
  '%ED%A0%80',
  '%ED%B0%80',
  '%F4%90%80%80',
  '%C3',
  '%E2%82',
  '%u0041',
  '%C0%80',
] as const;

/** Well-formed percent-encodings that decode to something an id must not hold (or may). */
export const ENCODED_SPECIALS = [
  '%00',
  '%01',
  '%1F',
  '%7F',
  '%0A',
  '%0D%0A',
  '%2F',
  '%5C',
  '%25',
  '%23',
  '%3F',
  '%20',
  '%2E%2E',
  '%F0%9F%98%80',
  '%E2%80%AE',
  '%EF%BB%BF',
  '%C2%85',
] as const;

export const INJECTIONS = [
  '__proto__',
  'constructor',
  '../../etc/passwd',
  '${jndi:ldap://x/a}',
  "' OR 1=1 --",
  '<script>alert(1)</script>',
  '{{7*7}}',
  '#',
  'a#b',
  '\\',
  '"',
  'null',
  'undefined',
  'NaN',
  ' ',
  '   ',
  '',
] as const;

/** Values of every JSON type: one of another type than a field's is a wrong-type case. */
export const WRONG_TYPES: readonly Json[] = [
  0,
  -1,
  1.5,
  1e308,
  true,
  false,
  null,
  [],
  {},
  '',
  'text',
  [1, 2],
  { a: 1 },
  ['\ud800'],
];

/** Number literals beyond a double, or that only look like integers. */
export const NUMBER_LITERALS = [
  '1e400',
  '-1e400',
  '123456789012345678901234567890',
  '9007199254740993',
  '-0',
  '1E+2',
  '1e-400',
  '1.0',
  '0.1',
  '-9007199254740993',
  '4294967296',
] as const;

export const numberLiteral = fc.constantFrom(...NUMBER_LITERALS).map((t) => new RawJson(t));

/** JSON nested `depth` levels deep, as text (parsers that recurse overflow their stack on it). */
export const deeplyNested = (depth: number, open = '[', close = ']') =>
  new RawJson(`${open.repeat(depth)}${close.repeat(depth)}`);

export const deeplyNestedObject = (depth: number) =>
  new RawJson(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);

/** A string with a hostile character inserted at a position of `base`. */
export const insertedInto = (base: string, inserts: readonly string[]) =>
  fc
    .record({ at: fc.nat({ max: base.length }), insert: fc.constantFrom(...inserts) })
    .map(({ at, insert }) => base.slice(0, at) + insert + base.slice(at));

/** A non-blank string of exactly `n` characters (so trimming cannot bring it within bounds). */
export const exactly = (n: number, unit = 'x') => unit.repeat(Math.max(0, n));

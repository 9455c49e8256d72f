/**
 * From a valid value to a hostile one: pick a place the schema describes (any depth), and do one
 * thing to it that a careless or malicious client would. Each mutation says what it did
 * (`label`), and the report groups failures by it.
 */
import fc from 'fast-check';
import {
  CONTROL_CHARACTERS,
  deeplyNested,
  deeplyNestedObject,
  exactly,
  INJECTIONS,
  insertedInto,
  LONE_SURROGATES,
  numberLiteral,
  PROTOTYPE_KEYS,
  WRONG_TYPES,
} from './hostile-values.js';
import { DELETE, Entries, getAt, type Json, objectOf, type PathSegment, pathPattern, setAt } from './json.js';
import { type JsonSchema, type Slot, slotsOf } from './schema-arbitrary.js';

export interface Mutated {
  readonly value: Json;
  /** e.g. `items.*.sku: lone surrogate`. */
  readonly label: string;
  /** The field a lone surrogate was put in (a refusal must name it). */
  readonly surrogateAt?: readonly PathSegment[];
}

type Op = (
  slot: Slot,
  current: Json,
) => fc.Arbitrary<{ value: Json | typeof DELETE; what: string; surrogate?: true }>;

const typeOf = (v: Json): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'object' ? 'object' : typeof v;

const wrongType: Op = (_slot, current) =>
  fc
    .constantFrom(...WRONG_TYPES.filter((w) => typeOf(w) !== typeOf(current)))
    .map((value) => ({ value, what: `wrong type (${typeOf(value)})` }));

const stringOps = (
  slot: Slot,
  current: string,
): fc.Arbitrary<{ value: Json; what: string; surrogate?: true }>[] => {
  const max = slot.schema.maxLength;
  const ops: fc.Arbitrary<{ value: Json; what: string; surrogate?: true }>[] = [
    insertedInto(current, LONE_SURROGATES).map((value) => ({
      value,
      what: 'lone surrogate',
      surrogate: true as const,
    })),
    fc
      .constantFrom(...LONE_SURROGATES)
      .map((value) => ({ value, what: 'lone surrogate', surrogate: true as const })),
    insertedInto(current, CONTROL_CHARACTERS).map((value) => ({ value, what: 'control character' })),
    fc.constantFrom(...INJECTIONS).map((value) => ({ value, what: 'injection string' })),
    fc.constantFrom(...PROTOTYPE_KEYS).map((value) => ({ value, what: 'prototype name as value' })),
    fc.constantFrom(10_000, 40_000).map((n) => ({ value: exactly(n), what: `very long string` })),
  ];
  if (max !== undefined) {
    ops.push(
      fc
        .constantFrom(max, max + 1)
        .map((n) => ({ value: exactly(n), what: `length ${n === max ? 'at' : 'over'} maxLength` })),
    );
  }
  return ops;
};

const numberOps = (slot: Slot): fc.Arbitrary<{ value: Json; what: string }>[] => {
  const { minimum, maximum, exclusiveMinimum } = slot.schema;
  const bounds = [minimum, maximum, exclusiveMinimum]
    .filter((b): b is number => b !== undefined)
    .flatMap((b) => [b - 1, b, b + 1]);
  return [
    fc
      .constantFrom(0.5, -1, 2 ** 53 + 2, -(2 ** 53) - 2, 1e308, -1e308, Number.MIN_VALUE)
      .map((value) => ({ value, what: 'extreme number' })),
    ...(bounds.length > 0
      ? [fc.constantFrom(...bounds).map((value) => ({ value, what: 'number at a bound' }))]
      : []),
    fc.constantFrom('5', '1e3', ' 1', '0x10').map((value) => ({ value, what: 'number as a string' })),
  ];
};

const objectOps = (current: Json): fc.Arbitrary<{ value: Json; what: string; surrogate?: true }>[] => {
  const entries = Object.entries(current as Record<string, Json>);
  const hostileKeys = fc.oneof(
    fc.constantFrom(...PROTOTYPE_KEYS).map((k) => ({ key: k, what: 'prototype key' })),
    fc.constantFrom(...LONE_SURROGATES).map((k) => ({ key: k, what: 'lone surrogate in a key' })),
    fc
      .constantFrom('', ' ', 'a.b', '0', exactly(1000, 'k'), '\u0000')
      .map((k) => ({ key: k, what: 'odd key' })),
  );
  const ops: fc.Arbitrary<{ value: Json; what: string; surrogate?: true }>[] = [
    fc
      .tuple(hostileKeys, fc.constantFrom<Json>(1, 'x', null, {}, { polluted: true }, []))
      .map(([{ key, what }, v]) => ({ value: objectOf([...entries, [key, v]]), what: `extra key: ${what}` })),
    fc.constant({ value: objectOf([]), what: 'empty object' }),
  ];
  if (entries.length > 0) {
    ops.push(
      fc
        .tuple(fc.constantFrom(...entries.map(([k]) => k)), fc.constantFrom<Json>(1, 'x', null, '\ud800'))
        .map(([key, v]) => ({ value: new Entries([...entries, [key, v]]), what: 'duplicate key' })),
    );
  }
  return ops;
};

const arrayOps = (slot: Slot, current: readonly Json[]): fc.Arbitrary<{ value: Json; what: string }>[] => {
  const ops: fc.Arbitrary<{ value: Json; what: string }>[] = [
    fc.constant({ value: [], what: 'empty array' }),
  ];
  const max = slot.schema.maxItems;
  if (max !== undefined && current.length > 0 && max <= 1000) {
    ops.push(
      fc.constant({
        value: Array.from({ length: max + 1 }, (_, i) => current[i % current.length] as Json),
        what: 'one item over maxItems',
      }),
    );
  }
  return ops;
};

/** One mutation of `value` at a place `schema` describes. */
export function mutationOf(value: Json, schema: JsonSchema): fc.Arbitrary<Mutated> {
  const slots = slotsOf(value, schema);
  return fc.constantFrom(...slots).chain((slot) => {
    const current = getAt(value, slot.path) ?? null;
    const ops: fc.Arbitrary<{ value: Json | typeof DELETE; what: string; surrogate?: true }>[] = [
      wrongType(slot, current),
      numberLiteral.map((value) => ({ value, what: `number literal ${value.text}` })),
      fc.constant({ value: deeplyNested(5000), what: 'deeply nested array' }),
      fc.constant({ value: deeplyNestedObject(2000), what: 'deeply nested object' }),
    ];
    if (slot.path.length > 0) {
      ops.push(
        fc.constant({
          value: DELETE,
          what: slot.required ? 'required field missing' : 'optional field missing',
        }),
      );
    }
    if (typeof current === 'string') ops.push(...stringOps(slot, current));
    if (typeof current === 'number') ops.push(...numberOps(slot));
    if (Array.isArray(current)) ops.push(...arrayOps(slot, current));
    else if (current !== null && typeof current === 'object') ops.push(...objectOps(current));
    return fc.oneof(...ops).map(({ value: next, what, surrogate }) => ({
      value: setAt(value, slot.path, next),
      label: `${pathPattern(slot.path)}: ${what}`,
      ...(surrogate ? { surrogateAt: slot.path } : {}),
    }));
  });
}

/** One to three mutations on top of each other (what a fuzzer's clients do). */
export function mutationsOf(value: Json, schema: JsonSchema): fc.Arbitrary<Mutated> {
  return mutationOf(value, schema).chain((first) =>
    fc.oneof(
      { weight: 4, arbitrary: fc.constant(first) },
      {
        weight: 1,
        arbitrary: mutationOf(first.value, schema).map((second) => ({
          value: second.value,
          // The second may have removed the first's surrogate: no field path is then expected.
          label: `${first.label} + ${second.label}`,
        })),
      },
    ),
  );
}

/**
 * A lone surrogate in the string field at `pattern` (`items.*.sku`), or as a new key of the root
 * object (`(key)`); undefined when the value has no such field.
 */
export function surrogateMutation(
  value: Json,
  schema: JsonSchema,
  pattern: string,
): fc.Arbitrary<Mutated> | undefined {
  if (pattern === '(key)') {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    return fc.constantFrom(...LONE_SURROGATES).map((key) => ({
      value: objectOf([...Object.entries(value as Record<string, Json>), [key, 'x']]),
      label: '(body): lone surrogate in a key',
    }));
  }
  const slot = slotsOf(value, schema).find(
    (s) => pathPattern(s.path) === pattern && typeof getAt(value, s.path) === 'string',
  );
  if (!slot) return undefined;
  const current = getAt(value, slot.path) as string;
  return insertedInto(current, LONE_SURROGATES).map((next) => ({
    value: setAt(value, slot.path, next),
    label: `${pattern}: lone surrogate`,
    surrogateAt: slot.path,
  }));
}

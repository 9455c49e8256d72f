/**
 * Valid values from a route's or message's schema: the zod schema the handler parses with is
 * turned into JSON Schema (`z.toJSONSchema`, zod's own), and the JSON Schema into a fast-check
 * arbitrary. Mutations then turn these values into hostile ones, so every field the schema knows
 * is reached, whatever its depth.
 *
 * The subset handled is the one zod emits for the platform's schemas: objects (properties,
 * required, additionalProperties), arrays, strings (lengths, pattern, date-time and email
 * formats), integers and numbers (bounds), const, enum, oneOf/anyOf, and `{}` (any JSON).
 */
import fc from 'fast-check';
import * as z from 'zod';
import { Entries, type Json, type PathSegment, RawJson } from './json.js';

export interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchema;
  readonly items?: JsonSchema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly format?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly const?: Json;
  readonly enum?: readonly Json[];
  readonly oneOf?: readonly JsonSchema[];
  readonly anyOf?: readonly JsonSchema[];
}

/** The JSON Schema of what `schema` accepts after its transforms (trim, lower-case, email check). */
export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  let json = converted.get(schema);
  if (!json) {
    json = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as JsonSchema;
    converted.set(schema, json);
  }
  return json;
}
const converted = new WeakMap<z.ZodType, JsonSchema>();

export interface ArbitraryOptions {
  /** Valid values keep strings short; boundaries are the mutations' business. @default 24 */
  readonly maxStringLength?: number;
  /** Arbitrary for a property of this name, instead of the schema's (e.g. event times near now). */
  readonly byName?: Readonly<Record<string, fc.Arbitrary<Json>>>;
}

const IDENTIFIER_UNIT = fc.constantFrom(
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:'.split(''),
);

export function arbitraryOf(
  schema: JsonSchema,
  options: ArbitraryOptions = {},
  name?: string,
): fc.Arbitrary<Json> {
  const byName = name === undefined ? undefined : options.byName?.[name];
  if (byName) return byName;
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const branches = schema.oneOf ?? schema.anyOf;
  if (branches) return fc.oneof(...branches.map((b) => arbitraryOf(b, options, name)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      return stringOf(schema, options.maxStringLength ?? 24);
    case 'integer': {
      const min =
        schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : (schema.minimum ?? -1e6);
      const max =
        schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - 1 : (schema.maximum ?? 1e6);
      return fc.integer({
        min: Math.max(min, Number.MIN_SAFE_INTEGER),
        max: Math.min(max, Number.MAX_SAFE_INTEGER),
      });
    }
    case 'number':
      return fc.double({
        min: schema.minimum ?? -1e6,
        max: schema.maximum ?? 1e6,
        noNaN: true,
        noDefaultInfinity: true,
      });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(
        schema.items
          ? arbitraryOf(schema.items, options)
          : (fc.jsonValue({ maxDepth: 1 }) as fc.Arbitrary<Json>),
        {
          minLength: schema.minItems ?? 0,
          maxLength: Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? 4, 4)),
        },
      ) as fc.Arbitrary<Json>;
    case 'object': {
      const properties = schema.properties ?? {};
      const model: Record<string, fc.Arbitrary<Json>> = {};
      for (const [key, sub] of Object.entries(properties)) model[key] = arbitraryOf(sub, options, key);
      return fc.record(model, { requiredKeys: [...(schema.required ?? [])] }) as fc.Arbitrary<Json>;
    }
    default:
      return fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>;
  }
}

function stringOf(schema: JsonSchema, cap: number): fc.Arbitrary<Json> {
  const min = schema.minLength ?? 0;
  const max = Math.max(min, Math.min(schema.maxLength ?? cap, cap));
  if (schema.format === 'date-time') {
    return fc
      .date({
        min: new Date('2020-01-01T00:00:00Z'),
        max: new Date('2030-01-01T00:00:00Z'),
        noInvalidDate: true,
      })
      .map((d) => d.toISOString());
  }
  if (schema.format === 'email') {
    return fc
      .tuple(
        fc.string({ unit: IDENTIFIER_UNIT, minLength: 1, maxLength: 12 }),
        fc.constantFrom('example.com', 'shop.example', 'a.io'),
      )
      .map(([local, domain]) =>
        `${local.replace(/^[.-]+|[.-]+$/g, '') || 'x'}@${domain}`.replace(/\.\.+/g, '.'),
      );
  }
  if (schema.pattern) {
    return fc
      .stringMatching(new RegExp(schema.pattern, 'u'))
      .filter((s) => s.length >= min && s.length <= (schema.maxLength ?? Number.POSITIVE_INFINITY));
  }
  // Mostly plain identifiers (what real clients send), sometimes any Unicode (well-formed).
  return fc
    .oneof(
      {
        weight: 3,
        arbitrary: fc.string({
          unit: IDENTIFIER_UNIT,
          minLength: Math.max(min, 1),
          maxLength: Math.max(max, 1),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.string({ unit: 'grapheme', minLength: Math.max(min, 1), maxLength: Math.max(max, 1) }),
      },
    )
    .filter((s) => s.trim().length >= min && s.length <= (schema.maxLength ?? Number.POSITIVE_INFINITY));
}

/** A place in a value a mutation can hit, with the schema that governs it. */
export interface Slot {
  readonly path: readonly PathSegment[];
  readonly schema: JsonSchema;
  /** Whether the parent object requires this key. */
  readonly required: boolean;
}

/** Every value in `value` with the schema that describes it (the matching branch of a oneOf). */
export function slotsOf(value: Json, schema: JsonSchema, path: PathSegment[] = [], required = true): Slot[] {
  const branches = schema.oneOf ?? schema.anyOf;
  if (branches) {
    const branch = branches.find((b) => matchesConsts(value, b)) ?? branches[0];
    return branch ? slotsOf(value, branch, path, required) : [];
  }
  const here: Slot = { path, schema, required };
  if (value instanceof RawJson || value instanceof Entries) return [here];
  if (Array.isArray(value)) {
    return [
      here,
      ...value.flatMap((item, i) => slotsOf(item as Json, schema.items ?? {}, [...path, i], true)),
    ];
  }
  if (value !== null && typeof value === 'object' && schema.properties) {
    const record = value as Record<string, Json>;
    return [
      here,
      ...Object.keys(record).flatMap((key) =>
        slotsOf(
          record[key] as Json,
          schema.properties?.[key] ?? {},
          [...path, key],
          (schema.required ?? []).includes(key),
        ),
      ),
    ];
  }
  return [here];
}

function matchesConsts(value: Json, schema: JsonSchema): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  return Object.entries(schema.properties ?? {}).every(
    ([key, sub]) => sub.const === undefined || (value as Record<string, Json>)[key] === sub.const,
  );
}

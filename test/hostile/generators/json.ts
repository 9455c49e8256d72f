/**
 * JSON as a hostile client writes it: values that `JSON.stringify` cannot produce (a number
 * literal beyond a double, a key twice, `__proto__` as an own key) are kept as nodes and written
 * verbatim by `toJsonText`.
 */

/** Written verbatim, e.g. `1e400` or a truncated document. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** An object written entry by entry: duplicate keys and `__proto__` survive. */
export class Entries {
  constructor(readonly entries: readonly (readonly [string, Json])[]) {}
}

export type Json =
  | null
  | boolean
  | number
  | string
  | RawJson
  | Entries
  | readonly Json[]
  | { readonly [key: string]: Json };

export function toJsonText(value: Json): string {
  if (value instanceof RawJson) return value.text;
  if (value instanceof Entries) {
    return `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`).join(',')}}`;
  }
  if (Array.isArray(value)) return `[${value.map((v) => toJsonText(v as Json)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return toJsonText(new Entries(Object.entries(value as Record<string, Json>)));
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return 'null';
  return JSON.stringify(value);
}

/** A plain object with these own entries (a `__proto__` key is an own property, not the prototype). */
export function objectOf(entries: readonly (readonly [string, Json])[]): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [k, v] of entries)
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

export type PathSegment = string | number;
export const DELETE = Symbol('delete');

/** `root` with the value at `path` replaced (or removed), copying only along the path. */
export function setAt(root: Json, path: readonly PathSegment[], value: Json | typeof DELETE): Json {
  if (path.length === 0) return value === DELETE ? null : value;
  const [head, ...rest] = path as [PathSegment, ...PathSegment[]];
  if (Array.isArray(root)) {
    const copy = [...root] as Json[];
    if (rest.length === 0 && value === DELETE) copy.splice(Number(head), 1);
    else copy[Number(head)] = setAt(copy[Number(head)] as Json, rest, value);
    return copy;
  }
  if (root !== null && typeof root === 'object' && !(root instanceof RawJson)) {
    const entries =
      root instanceof Entries ? [...root.entries] : Object.entries(root as Record<string, Json>);
    const at = entries.findIndex(([k]) => k === head);
    if (rest.length === 0 && value === DELETE) {
      if (at >= 0) entries.splice(at, 1);
    } else if (at >= 0) {
      entries[at] = [String(head), setAt(entries[at]?.[1] as Json, rest, value)];
    } else {
      entries.push([String(head), setAt(null, rest, value)]);
    }
    return root instanceof Entries ? new Entries(entries) : objectOf(entries);
  }
  return root;
}

export function getAt(root: Json, path: readonly PathSegment[]): Json | undefined {
  let at: Json | undefined = root;
  for (const segment of path) {
    if (at === null || typeof at !== 'object' || at instanceof RawJson) return undefined;
    if (at instanceof Entries) at = at.entries.find(([k]) => k === segment)?.[1];
    else at = (at as Record<string, Json>)[segment as string];
  }
  return at;
}

/** Whether any string or key anywhere in a parsed JSON value holds a lone UTF-16 surrogate (iterative: values may nest deeply). */
export function hasLoneSurrogate(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (/\p{Cs}/u.test(v)) return true;
    } else if (Array.isArray(v)) {
      stack.push(...v);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, inner] of Object.entries(v)) {
        if (/\p{Cs}/u.test(k)) return true;
        stack.push(inner);
      }
    }
  }
  return false;
}

/** `items.0.sku` → `items.*.sku`: paths of one shape group together in reports. */
export const pathPattern = (path: readonly PathSegment[]) =>
  path.map((s) => (typeof s === 'number' ? '*' : s)).join('.') || '(body)';

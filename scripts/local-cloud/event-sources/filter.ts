/**
 * Lambda event filtering (FilterCriteria), the EventBridge pattern subset Lambda supports:
 * exact values, prefix, suffix, anything-but, numeric ranges, exists, and nested objects.
 * A record passes when any filter matches it. For SQS and Kafka the `body`/`value` field is
 * matched as parsed JSON when it is JSON.
 */
export type Pattern = { readonly [key: string]: Pattern | readonly unknown[] };

function matchesRule(rule: unknown, value: unknown, present: boolean): boolean {
  if (rule === null) return value === null;
  if (typeof rule !== 'object') return present && value === rule;
  const r = rule as Record<string, unknown>;
  if ('exists' in r) return r.exists === present;
  if (!present) return false;
  if ('prefix' in r) return typeof value === 'string' && value.startsWith(String(r.prefix));
  if ('suffix' in r) return typeof value === 'string' && value.endsWith(String(r.suffix));
  if ('equals-ignore-case' in r)
    return typeof value === 'string' && value.toLowerCase() === String(r['equals-ignore-case']).toLowerCase();
  if ('anything-but' in r) {
    const but = r['anything-but'];
    if (Array.isArray(but)) return !but.includes(value);
    if (typeof but === 'object' && but !== null && 'prefix' in but)
      return typeof value === 'string' && !value.startsWith(String((but as { prefix: string }).prefix));
    return value !== but;
  }
  if ('numeric' in r) {
    if (typeof value !== 'number') return false;
    const ops = r.numeric as unknown[];
    for (let i = 0; i + 1 < ops.length; i += 2) {
      const op = ops[i];
      const bound = Number(ops[i + 1]);
      const ok =
        op === '='
          ? value === bound
          : op === '<'
            ? value < bound
            : op === '<='
              ? value <= bound
              : op === '>'
                ? value > bound
                : op === '>='
                  ? value >= bound
                  : false;
      if (!ok) return false;
    }
    return true;
  }
  return false;
}

export function matchesPattern(pattern: Pattern, event: unknown): boolean {
  if (typeof event !== 'object' || event === null) return false;
  const obj = event as Record<string, unknown>;
  for (const [key, rule] of Object.entries(pattern)) {
    const present = key in obj && obj[key] !== undefined;
    const value = obj[key];
    if (Array.isArray(rule)) {
      const values = Array.isArray(value) ? value : [value];
      if (!rule.some((r) => values.some((v) => matchesRule(r, v, present)))) return false;
    } else if (!matchesPattern(rule as Pattern, value)) {
      return false;
    }
  }
  return true;
}

/** Parses a mapping's FilterCriteria into patterns; undefined when the mapping has none. */
export function parseFilterCriteria(criteria: unknown): Pattern[] | undefined {
  const filters = (criteria as { Filters?: { Pattern?: string }[] } | undefined)?.Filters;
  if (!filters || filters.length === 0) return undefined;
  return filters.map((f) => JSON.parse(f.Pattern ?? '{}') as Pattern);
}

/** The view of a record that filters see: JSON bodies are matched as objects. */
export function filterView(record: Record<string, unknown>, bodyKey: 'body' | 'value' | 'data'): unknown {
  const raw = record[bodyKey];
  if (typeof raw !== 'string') return record;
  try {
    return { ...record, [bodyKey]: JSON.parse(raw) };
  } catch {
    return record;
  }
}

export function passes(patterns: Pattern[] | undefined, view: unknown): boolean {
  return patterns === undefined || patterns.some((p) => matchesPattern(p, view));
}

/**
 * CloudFormation intrinsic functions, resolved to concrete values against what the caller knows
 * (physical ids, attributes, exports, conditions, mappings). An intrinsic that cannot be resolved
 * is an {@link UnresolvableError} naming the intrinsic and where it sits.
 */
import { createHash } from 'node:crypto';
import type { CfnTemplate, StackArtifact } from './assembly.js';

export interface ResolveContext {
  readonly stackName: string;
  readonly region: string;
  readonly accountId: string;
  /** Default `aws`. */
  readonly partition?: string;
  /** Physical id of a resource, or the value of a parameter; undefined when unknown. */
  ref(logicalId: string): string | undefined;
  /** Attribute of a resource; undefined when unknown. */
  getAtt(logicalId: string, attribute: string): unknown;
  /** Value exported by another stack; undefined when nothing exports that name. */
  importValue(exportName: string): string | undefined;
  /** Output of another stack (`Fn::GetStackOutput`); undefined when unknown. */
  stackOutput?(stackName: string, outputName: string): string | undefined;
  /** Value of a template condition (see {@link evaluateConditions}, {@link withTemplate}). */
  condition?(name: string): boolean;
  /** The template's `Mappings`, for `Fn::FindInMap`. */
  readonly mappings?: Record<string, unknown>;
}

export class UnresolvableError extends Error {
  override readonly name = 'UnresolvableError';
  /** Where the intrinsic sits, e.g. `Fn1.Properties.Environment.Variables.TABLE`. */
  readonly path: string;
  /** What could not be resolved, without the path. */
  readonly reason: string;

  constructor(path: string, reason: string) {
    super(`${path || '(root)'}: ${reason}`);
    this.path = path;
    this.reason = reason;
  }
}

/** Marks a value removed by `Ref: AWS::NoValue`. */
const NO_VALUE: unique symbol = Symbol('AWS::NoValue');

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A UUID-shaped stack id suffix, stable for one account/region/stack (CDK splits it for unique names). */
function stackUuid(ctx: ResolveContext): string {
  const h = createHash('sha1').update(`${ctx.accountId}/${ctx.region}/${ctx.stackName}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

const PSEUDO_PREFIX = 'AWS::';

function pseudo(name: string, ctx: ResolveContext): string | string[] | typeof NO_VALUE | undefined {
  const partition = ctx.partition ?? 'aws';
  switch (name) {
    case 'AWS::Region':
      return ctx.region;
    case 'AWS::AccountId':
      return ctx.accountId;
    case 'AWS::Partition':
      return partition;
    case 'AWS::StackName':
      return ctx.stackName;
    case 'AWS::StackId':
      return `arn:${partition}:cloudformation:${ctx.region}:${ctx.accountId}:stack/${ctx.stackName}/${stackUuid(ctx)}`;
    case 'AWS::URLSuffix':
      return partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
    case 'AWS::NotificationARNs':
      return [];
    case 'AWS::NoValue':
      return NO_VALUE;
    default:
      return undefined;
  }
}

function getAtt(id: string, attr: string, ctx: ResolveContext, path: string): unknown {
  const value = ctx.getAtt(id, attr);
  if (value === undefined) throw new UnresolvableError(path, `Fn::GetAtt ${id}.${attr} is not known`);
  return value;
}

function ref(name: string, ctx: ResolveContext, path: string): unknown {
  const p = pseudo(name, ctx);
  if (p !== undefined) return p;
  if (name.startsWith(PSEUDO_PREFIX))
    throw new UnresolvableError(path, `Ref ${name}: unknown pseudo parameter`);
  const v = ctx.ref(name);
  if (v === undefined) throw new UnresolvableError(path, `Ref ${name} is not known`);
  return v;
}

/** `${...}` placeholders of an `Fn::Sub` template string. */
const SUB_VAR = /\$\{([^}]*)\}/g;

function scalar(v: unknown, what: string, path: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new UnresolvableError(path, `${what} resolved to ${JSON.stringify(v) ?? String(v)}, not a string`);
}

function sub(template: string, vars: Obj, ctx: ResolveContext, path: string): string {
  return template.replace(SUB_VAR, (whole, name: string) => {
    if (name.startsWith('!')) return `\${${name.slice(1)}}`;
    const what = `Fn::Sub ${whole}`;
    if (Object.hasOwn(vars, name)) return scalar(vars[name], what, path);
    const p = pseudo(name, ctx);
    if (typeof p === 'string') return p;
    const dot = name.indexOf('.');
    if (dot > 0) return scalar(getAtt(name.slice(0, dot), name.slice(dot + 1), ctx, path), what, path);
    const v = ctx.ref(name);
    if (v === undefined) throw new UnresolvableError(path, `${what}: ${name} is not known`);
    return v;
  });
}

function malformed(key: string, arg: unknown, path: string): never {
  throw new UnresolvableError(path, `${key} is malformed: ${JSON.stringify(arg)}`);
}

function list(v: unknown, what: string, path: string): unknown[] {
  if (!Array.isArray(v)) throw new UnresolvableError(path, `${what} needs a list, got ${JSON.stringify(v)}`);
  return v;
}

function condition(name: string, ctx: ResolveContext, what: string, path: string): boolean {
  if (!ctx.condition) throw new UnresolvableError(path, `${what}: condition ${name} cannot be evaluated`);
  return ctx.condition(name);
}

function equal(a: unknown, b: unknown): boolean {
  const norm = (v: unknown): unknown =>
    typeof v === 'number' || typeof v === 'boolean' ? String(v) : Array.isArray(v) ? v.map(norm) : v;
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}

function truthy(v: unknown, what: string, path: string): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  throw new UnresolvableError(path, `${what} needs a condition, got ${JSON.stringify(v)}`);
}

/** Resolves one intrinsic `{ key: arg }`; `undefined` when `key` is no intrinsic (a plain property). */
function intrinsic(
  key: string,
  arg: unknown,
  ctx: ResolveContext,
  path: string,
): { value: unknown } | undefined {
  const r = (v: unknown) => resolveInner(v, ctx, path);
  switch (key) {
    case 'Ref':
      if (typeof arg !== 'string') return malformed(key, arg, path);
      return { value: ref(arg, ctx, path) };
    case 'Fn::GetAtt': {
      let id: string;
      let attr: string;
      if (typeof arg === 'string') {
        const dot = arg.indexOf('.');
        if (dot <= 0) return malformed(key, arg, path);
        id = arg.slice(0, dot);
        attr = arg.slice(dot + 1);
      } else if (Array.isArray(arg) && arg.length === 2 && typeof arg[0] === 'string') {
        id = arg[0];
        attr = scalar(r(arg[1]), `${key} attribute`, path);
      } else {
        return malformed(key, arg, path);
      }
      return { value: getAtt(id, attr, ctx, path) };
    }
    case 'Fn::Join': {
      if (!Array.isArray(arg) || arg.length !== 2 || typeof arg[0] !== 'string')
        return malformed(key, arg, path);
      const parts = list(r(arg[1]), key, path);
      return { value: parts.map((p) => scalar(p, `${key} element`, path)).join(arg[0]) };
    }
    case 'Fn::Sub': {
      if (typeof arg === 'string') return { value: sub(arg, {}, ctx, path) };
      if (!Array.isArray(arg) || typeof arg[0] !== 'string' || (arg[1] !== undefined && !isObject(arg[1]))) {
        return malformed(key, arg, path);
      }
      return { value: sub(arg[0], r(arg[1] ?? {}) as Obj, ctx, path) };
    }
    case 'Fn::Select': {
      if (!Array.isArray(arg) || arg.length !== 2) return malformed(key, arg, path);
      const index = Number(r(arg[0]));
      const items = list(r(arg[1]), key, path);
      if (!Number.isInteger(index) || index < 0 || index >= items.length) {
        throw new UnresolvableError(
          path,
          `${key} index ${String(arg[0])} out of range (${items.length} items)`,
        );
      }
      return { value: items[index] };
    }
    case 'Fn::Split': {
      if (!Array.isArray(arg) || arg.length !== 2 || typeof arg[0] !== 'string')
        return malformed(key, arg, path);
      return { value: scalar(r(arg[1]), `${key} source`, path).split(arg[0]) };
    }
    case 'Fn::ImportValue': {
      const name = scalar(r(arg), `${key} name`, path);
      const v = ctx.importValue(name);
      if (v === undefined) throw new UnresolvableError(path, `${key} ${name} is not exported by any stack`);
      return { value: v };
    }
    case 'Fn::GetStackOutput': {
      // CDK's "weak" cross-stack references read the producer's Output directly.
      if (!arg || typeof arg !== 'object' || Array.isArray(arg)) return malformed(key, arg, path);
      const a = arg as Record<string, unknown>;
      const stackName = scalar(r(a.StackName), `${key} StackName`, path);
      const outputName = scalar(r(a.OutputName), `${key} OutputName`, path);
      const v = ctx.stackOutput?.(stackName, outputName);
      if (v === undefined) {
        throw new UnresolvableError(
          path,
          `${key} ${stackName}.${outputName} is not an output of a known stack`,
        );
      }
      return { value: v };
    }
    case 'Fn::Base64':
      return { value: Buffer.from(scalar(r(arg), key, path)).toString('base64') };
    case 'Fn::GetAZs': {
      const region = scalar(r(arg ?? ''), key, path) || ctx.region;
      return { value: ['a', 'b', 'c'].map((l) => `${region}${l}`) };
    }
    case 'Fn::Equals': {
      if (!Array.isArray(arg) || arg.length !== 2) return malformed(key, arg, path);
      return { value: equal(r(arg[0]), r(arg[1])) };
    }
    case 'Fn::Not': {
      if (!Array.isArray(arg) || arg.length !== 1) return malformed(key, arg, path);
      return { value: !truthy(r(arg[0]), key, path) };
    }
    case 'Fn::And':
    case 'Fn::Or': {
      if (!Array.isArray(arg)) return malformed(key, arg, path);
      const values = arg.map((c) => truthy(r(c), key, path));
      return { value: key === 'Fn::And' ? values.every(Boolean) : values.some(Boolean) };
    }
    case 'Condition':
      // `Condition` is also an ordinary property name (IAM statements): only a string is a reference.
      if (typeof arg !== 'string') return undefined;
      return { value: condition(arg, ctx, 'Condition', path) };
    case 'Fn::If': {
      if (!Array.isArray(arg) || arg.length !== 3 || typeof arg[0] !== 'string')
        return malformed(key, arg, path);
      return { value: r(condition(arg[0], ctx, key, path) ? arg[1] : arg[2]) };
    }
    case 'Fn::FindInMap': {
      if (!Array.isArray(arg) || arg.length < 3) return malformed(key, arg, path);
      const [map, top, second] = arg.slice(0, 3).map((a) => scalar(r(a), key, path)) as [
        string,
        string,
        string,
      ];
      const found = (() => {
        const m = ctx.mappings?.[map];
        const t = isObject(m) ? m[top] : undefined;
        return isObject(t) ? t[second] : undefined;
      })();
      if (found !== undefined) return { value: found };
      const fallback = arg[3];
      if (isObject(fallback) && 'DefaultValue' in fallback) return { value: r(fallback.DefaultValue) };
      throw new UnresolvableError(path, `${key} ${map}.${top}.${second} is not in the template's Mappings`);
    }
    case 'Fn::ToJsonString':
      return { value: JSON.stringify(r(arg)) };
    case 'Fn::Length':
      return { value: list(r(arg), key, path).length };
    default:
      if (key.startsWith('Fn::')) throw new UnresolvableError(path, `${key} is not supported`);
      return undefined;
  }
}

function resolveInner(value: unknown, ctx: ResolveContext, path: string): unknown {
  if (Array.isArray(value)) {
    return value.map((v, i) => resolveInner(v, ctx, `${path}[${i}]`)).filter((v) => v !== NO_VALUE);
  }
  if (!isObject(value)) return value;
  const keys = Object.keys(value);
  if (keys.length === 1) {
    const key = keys[0] as string;
    const done = intrinsic(key, value[key], ctx, path);
    if (done) return done.value;
  }
  const out: Obj = {};
  for (const [k, v] of Object.entries(value)) {
    const resolved = resolveInner(v, ctx, path ? `${path}.${k}` : k);
    if (resolved !== NO_VALUE) out[k] = resolved;
  }
  return out;
}

/**
 * Resolves every intrinsic in `value` (deeply). `Ref: AWS::NoValue` drops the enclosing key or
 * array element (and makes a top-level value `undefined`). `path` prefixes error locations.
 * @throws UnresolvableError naming the intrinsic and its path.
 */
export function resolve(value: unknown, ctx: ResolveContext, path = ''): unknown {
  const out = resolveInner(value, ctx, path);
  return out === NO_VALUE ? undefined : out;
}

/**
 * Values of all the template's `Conditions`. Conditions may refer to each other (`{ Condition: X }`)
 * and to parameters (through `ctx.ref`).
 */
export function evaluateConditions(
  template: Pick<CfnTemplate, 'Conditions'>,
  ctx: ResolveContext,
): Record<string, boolean> {
  const defs = template.Conditions ?? {};
  const values = new Map<string, boolean>();
  const evaluating = new Set<string>();
  const inner: ResolveContext = {
    ...contextFields(ctx),
    condition(name) {
      const known = values.get(name);
      if (known !== undefined) return known;
      const path = `Conditions.${name}`;
      if (!Object.hasOwn(defs, name)) throw new UnresolvableError(path, `condition ${name} is not defined`);
      if (evaluating.has(name)) throw new UnresolvableError(path, `condition ${name} refers to itself`);
      evaluating.add(name);
      const v = truthy(resolve(defs[name], inner, path), `condition ${name}`, path);
      evaluating.delete(name);
      values.set(name, v);
      return v;
    },
  };
  const out: Record<string, boolean> = {};
  for (const name of Object.keys(defs)) out[name] = inner.condition?.(name) ?? false;
  return out;
}

/** The fields of a context, with methods bound (contexts may be class instances). */
function contextFields(ctx: ResolveContext): ResolveContext {
  return {
    stackName: ctx.stackName,
    region: ctx.region,
    accountId: ctx.accountId,
    ...(ctx.partition !== undefined ? { partition: ctx.partition } : {}),
    ref: (id) => ctx.ref(id),
    getAtt: (id, attr) => ctx.getAtt(id, attr),
    importValue: (name) => ctx.importValue(name),
    stackOutput: (stack, output) => ctx.stackOutput?.(stack, output),
    ...(ctx.condition ? { condition: (name: string) => ctx.condition?.(name) ?? false } : {}),
    ...(ctx.mappings !== undefined ? { mappings: ctx.mappings } : {}),
  };
}

/**
 * `ctx` completed with the template's `Mappings` and `Conditions` (evaluated once, now), unless
 * `ctx` brings its own.
 */
export function withTemplate(template: CfnTemplate, ctx: ResolveContext): ResolveContext {
  const conditions = ctx.condition ? undefined : evaluateConditions(template, ctx);
  return {
    ...contextFields(ctx),
    ...(conditions
      ? {
          condition: (name: string) => {
            const v = conditions[name];
            if (v === undefined)
              throw new UnresolvableError(`Conditions.${name}`, `condition ${name} is not defined`);
            return v;
          },
        }
      : {}),
    ...(ctx.mappings === undefined && template.Mappings ? { mappings: template.Mappings } : {}),
  };
}

/**
 * The stack's exports (`Outputs` with `Export.Name`): export name → value. Outputs whose
 * `Condition` is false are left out (conditions need `ctx.condition`). Lists are joined with commas.
 * @throws UnresolvableError unless `skipUnresolvable`, which leaves such outputs out.
 */
export function stackExports(
  stack: Pick<StackArtifact, 'template'>,
  ctx: ResolveContext,
  options: { readonly skipUnresolvable?: boolean } = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [outputId, output] of Object.entries(stack.template.Outputs ?? {})) {
    if (!output.Export) continue;
    const path = `Outputs.${outputId}`;
    try {
      if (output.Condition !== undefined && !condition(output.Condition, ctx, 'Condition', path)) continue;
      const name = scalar(resolve(output.Export.Name, ctx, `${path}.Export.Name`), 'Export.Name', path);
      const value = resolve(output.Value, ctx, `${path}.Value`);
      out[name] = Array.isArray(value)
        ? value.map((v) => scalar(v, 'Value element', path)).join(',')
        : scalar(value, 'Value', path);
    } catch (e) {
      if (options.skipUnresolvable && e instanceof UnresolvableError) continue;
      throw e;
    }
  }
  return out;
}

export interface Dependencies {
  /** Logical ids (resources or parameters) referenced by `Ref` or an `Fn::Sub` `${Name}`. */
  readonly refs: string[];
  /** `[logicalId, attribute]` pairs referenced by `Fn::GetAtt` or an `Fn::Sub` `${Name.Attr}`. */
  readonly getAtts: [logicalId: string, attribute: string][];
}

/**
 * The logical ids a (template) value references, each once, in order of first occurrence; pseudo
 * parameters are left out. Both branches of an `Fn::If` count.
 */
export function dependenciesOf(value: unknown): Dependencies {
  const refs = new Set<string>();
  const getAtts = new Map<string, [string, string]>();
  const addAtt = (id: string, attr: string) => {
    if (!getAtts.has(`${id}.${attr}`)) getAtts.set(`${id}.${attr}`, [id, attr]);
  };
  const addRef = (name: string) => {
    if (!name.startsWith(PSEUDO_PREFIX)) refs.add(name);
  };
  const subVars = (template: string, own: Obj) => {
    for (const m of template.matchAll(SUB_VAR)) {
      const name = m[1] ?? '';
      if (name === '' || name.startsWith('!') || Object.hasOwn(own, name) || name.startsWith(PSEUDO_PREFIX))
        continue;
      const dot = name.indexOf('.');
      if (dot > 0) addAtt(name.slice(0, dot), name.slice(dot + 1));
      else addRef(name);
    }
  };
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const item of v) walk(item);
      return;
    }
    if (!isObject(v)) return;
    const keys = Object.keys(v);
    const key = keys.length === 1 ? (keys[0] as string) : undefined;
    const arg = key === undefined ? undefined : v[key];
    if (key === 'Ref' && typeof arg === 'string') {
      addRef(arg);
      return;
    }
    if (key === 'Fn::GetAtt') {
      if (typeof arg === 'string' && arg.indexOf('.') > 0) {
        addAtt(arg.slice(0, arg.indexOf('.')), arg.slice(arg.indexOf('.') + 1));
        return;
      }
      if (Array.isArray(arg) && typeof arg[0] === 'string') {
        if (typeof arg[1] === 'string') addAtt(arg[0], arg[1]);
        else walk(arg[1]);
        return;
      }
    }
    if (key === 'Fn::Sub') {
      if (typeof arg === 'string') {
        subVars(arg, {});
        return;
      }
      if (Array.isArray(arg) && typeof arg[0] === 'string') {
        const own = isObject(arg[1]) ? arg[1] : {};
        subVars(arg[0], own);
        walk(own);
        return;
      }
    }
    for (const item of Object.values(v)) walk(item);
  };
  walk(value);
  return { refs: [...refs], getAtts: [...getAtts.values()] };
}

/**
 * CloudFormation intrinsic functions, resolved to concrete values against what the local cloud
 * provisioned. An intrinsic that cannot be resolved is an error naming where it sits.
 */
export interface ResolveContext {
  readonly stackName: string;
  readonly region: string;
  readonly accountId: string;
  readonly partition?: string;
  ref(logicalId: string): string | undefined;
  getAtt(logicalId: string, attribute: string): unknown;
  importValue(exportName: string): string | undefined;
  condition?(name: string): boolean;
  readonly mappings?: Record<string, unknown>;
}

export class UnresolvableError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

/** Marks a value removed by `Ref: AWS::NoValue`. */
const NO_VALUE = Symbol('AWS::NoValue');

function pseudo(name: string, ctx: ResolveContext): string | typeof NO_VALUE | undefined {
  switch (name) {
    case 'AWS::Region':
      return ctx.region;
    case 'AWS::AccountId':
      return ctx.accountId;
    case 'AWS::Partition':
      return ctx.partition ?? 'aws';
    case 'AWS::StackName':
      return ctx.stackName;
    case 'AWS::StackId':
      return `arn:aws:cloudformation:${ctx.region}:${ctx.accountId}:stack/${ctx.stackName}/local`;
    case 'AWS::URLSuffix':
      return 'amazonaws.com';
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

function sub(template: string, vars: Record<string, unknown>, ctx: ResolveContext, path: string): string {
  return template.replace(/\$\{([^}]+)\}/g, (whole, name: string) => {
    if (name.startsWith('!')) return `\${${name.slice(1)}}`;
    if (name in vars) return String(vars[name]);
    const p = pseudo(name, ctx);
    if (typeof p === 'string') return p;
    const dot = name.indexOf('.');
    if (dot > 0) return String(getAtt(name.slice(0, dot), name.slice(dot + 1), ctx, path));
    const ref = ctx.ref(name);
    if (ref === undefined) throw new UnresolvableError(path, `Fn::Sub ${whole}: ${name} is not known`);
    return ref;
  });
}

function resolveInner(value: unknown, ctx: ResolveContext, path: string): unknown {
  if (Array.isArray(value)) {
    return value.map((v, i) => resolveInner(v, ctx, `${path}[${i}]`)).filter((v) => v !== NO_VALUE);
  }
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1) {
    const key = keys[0] as string;
    const arg = obj[key];
    const r = (v: unknown, suffix = '') => resolveInner(v, ctx, `${path}${suffix}`);
    switch (key) {
      case 'Ref': {
        const name = String(arg);
        const p = pseudo(name, ctx);
        if (p !== undefined) return p;
        const ref = ctx.ref(name);
        if (ref === undefined) throw new UnresolvableError(path, `Ref ${name} is not known`);
        return ref;
      }
      case 'Fn::GetAtt': {
        const [id, ...attr] = Array.isArray(arg) ? arg.map(String) : String(arg).split('.');
        return getAtt(id ?? '', attr.join('.'), ctx, path);
      }
      case 'Fn::Join': {
        const [sep, parts] = arg as [string, unknown];
        return (r(parts) as unknown[]).map(String).join(sep);
      }
      case 'Fn::Sub': {
        if (typeof arg === 'string') return sub(arg, {}, ctx, path);
        const [template, vars] = arg as [string, Record<string, unknown>];
        return sub(template, r(vars ?? {}) as Record<string, unknown>, ctx, path);
      }
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        const items = r(list) as unknown[];
        const i = Number(r(index));
        if (!Array.isArray(items) || i < 0 || i >= items.length) {
          throw new UnresolvableError(path, `Fn::Select index ${i} out of range`);
        }
        return items[i];
      }
      case 'Fn::Split': {
        const [sep, source] = arg as [string, unknown];
        return String(r(source)).split(sep);
      }
      case 'Fn::ImportValue': {
        const name = String(r(arg));
        const v = ctx.importValue(name);
        if (v === undefined)
          throw new UnresolvableError(path, `Fn::ImportValue ${name} is not exported by any stack`);
        return v;
      }
      case 'Fn::Base64':
        return Buffer.from(String(r(arg))).toString('base64');
      case 'Fn::GetAZs':
        return ['a', 'b', 'c'].map((l) => `${ctx.region}${l}`);
      case 'Fn::Equals': {
        const [a, b] = r(arg) as [unknown, unknown];
        return JSON.stringify(a) === JSON.stringify(b);
      }
      case 'Fn::Not':
        return !(r(arg) as unknown[])[0];
      case 'Fn::And':
        return (r(arg) as unknown[]).every(Boolean);
      case 'Fn::Or':
        return (r(arg) as unknown[]).some(Boolean);
      case 'Condition': {
        if (!ctx.condition) throw new UnresolvableError(path, `Condition ${String(arg)} cannot be evaluated`);
        return ctx.condition(String(arg));
      }
      case 'Fn::If': {
        const [cond, yes, no] = arg as [string, unknown, unknown];
        if (!ctx.condition) throw new UnresolvableError(path, `Fn::If ${cond} cannot be evaluated`);
        return ctx.condition(cond) ? r(yes) : r(no);
      }
      case 'Fn::FindInMap': {
        const [map, top, second] = (r(arg) as unknown[]).map(String) as [string, string, string];
        const v = (ctx.mappings?.[map] as Record<string, Record<string, unknown>> | undefined)?.[top]?.[
          second
        ];
        if (v === undefined)
          throw new UnresolvableError(path, `Fn::FindInMap ${map}.${top}.${second} is not known`);
        return v;
      }
      default:
        if (key.startsWith('Fn::')) throw new UnresolvableError(path, `${key} is not supported`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const resolved = resolveInner(v, ctx, path ? `${path}.${k}` : k);
    if (resolved !== NO_VALUE) out[k] = resolved;
  }
  return out;
}

export function resolve(value: unknown, ctx: ResolveContext, path = ''): unknown {
  const out = resolveInner(value, ctx, path);
  return out === NO_VALUE ? undefined : out;
}

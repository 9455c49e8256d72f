/**
 * RabbitMQ broker definitions (one vhost: exchanges, queues, bindings) as the platform declares
 * them, what RabbitMQ would refuse in them, and what applying them to a broker that holds an
 * earlier version does. Pure: nothing from AWS, HTTP or AMQP.
 *
 * Choices:
 * - Queues are **quorum** queues unless they say `type: 'classic'`: replicated on a cluster
 *   (Amazon MQ's Multi-AZ deployment), durable, with a delivery limit that stops a poison message
 *   from cycling forever. A transient queue must say `type: 'classic', durable: false`; a
 *   non-durable quorum queue is refused, never silently turned into a classic one.
 * - Exchanges and queues are immutable in RabbitMQ: redeclaring one with another type, durability
 *   or argument is refused with 406 PRECONDITION_FAILED. Such a change is refused by the plan
 *   unless `allowRecreate` is given; then the item is deleted and declared again (a queue's
 *   messages are lost, and the plan says so in `warnings`).
 * - Declarations are idempotent (an identical PUT is a no-op), so a plan declares every item of
 *   the new definitions, which also restores one deleted by hand; deletions are the items gone.
 */
import * as z from 'zod';

export const EXCHANGE_TYPES = ['direct', 'topic', 'fanout', 'headers'] as const;
export type ExchangeType = (typeof EXCHANGE_TYPES)[number];
export const QUEUE_TYPES = ['quorum', 'classic'] as const;
export type QueueType = (typeof QUEUE_TYPES)[number];
/** Replicated and durable: the right default for work queues on a cluster. */
export const DEFAULT_QUEUE_TYPE: QueueType = 'quorum';

/** RabbitMQ's limit for exchange, queue and vhost names and routing keys (AMQP short strings). */
export const MAX_NAME_BYTES = 255;
export const RESERVED_PREFIX = 'amq.';

/**
 * Exchanges every vhost has: `''` is the default exchange (every queue is bound to it by its
 * name), the `amq.*` ones are pre-declared. They may be referenced without being defined.
 */
export const BUILT_IN_EXCHANGES: ReadonlyMap<string, ExchangeType> = new Map<string, ExchangeType>([
  ['', 'direct'],
  ['amq.direct', 'direct'],
  ['amq.fanout', 'fanout'],
  ['amq.topic', 'topic'],
  ['amq.headers', 'headers'],
  ['amq.match', 'headers'],
  ['amq.rabbitmq.trace', 'topic'],
]);

export type ArgumentValue = string | number | boolean;
export type Arguments = Readonly<Record<string, ArgumentValue>>;

export interface ExchangeDefinition {
  readonly name: string;
  readonly type: ExchangeType;
  /** @default true */
  readonly durable?: boolean;
  /** @default false */
  readonly autoDelete?: boolean;
  /** An internal exchange takes no publishes, only exchange-to-exchange bindings. @default false */
  readonly internal?: boolean;
  /** Other `x-`/plain arguments, e.g. `alternate-exchange`. */
  readonly arguments?: Arguments;
}

export interface QueueDefinition {
  readonly name: string;
  /** @default 'quorum' */
  readonly type?: QueueType;
  /** Quorum queues are always durable. @default true */
  readonly durable?: boolean;
  /** Not for quorum queues. @default false */
  readonly autoDelete?: boolean;
  /**
   * Exclusive queues belong to one connection and die with it: they cannot be provisioned by
   * definitions, and `true` is refused. Present so that the refusal is explicit.
   */
  readonly exclusive?: boolean;
  /** Where rejected (nack without requeue), expired, overflowing or over-delivered messages go. */
  readonly deadLetterExchange?: string;
  /** @default - the message's own routing key */
  readonly deadLetterRoutingKey?: string;
  readonly messageTtlMs?: number;
  readonly maxLength?: number;
  /** Quorum queues only: deliveries (requeues included) before a message is dead-lettered. */
  readonly deliveryLimit?: number;
  /** Other queue arguments (not those the fields above set). */
  readonly arguments?: Arguments;
}

export interface BindingDefinition {
  /** The source exchange (defined here, or built in like `amq.topic`). */
  readonly source: string;
  readonly destination: string;
  /** @default 'queue' */
  readonly destinationType?: 'queue' | 'exchange';
  /** A pattern of dot-separated words on a topic exchange (`*` one word, `#` zero or more). @default '' */
  readonly routingKey?: string;
  /** Header matching on a headers exchange (`x-match`: all, any, all-with-x, any-with-x). */
  readonly arguments?: Arguments;
}

export interface BrokerDefinitions {
  readonly vhost: string;
  readonly exchanges: readonly ExchangeDefinition[];
  readonly queues: readonly QueueDefinition[];
  readonly bindings: readonly BindingDefinition[];
}

const argumentsSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

export const exchangeSchema = z.strictObject({
  name: z.string(),
  type: z.enum(EXCHANGE_TYPES),
  durable: z.boolean().default(true),
  autoDelete: z.boolean().default(false),
  internal: z.boolean().default(false),
  arguments: argumentsSchema.default({}),
});

export const queueSchema = z.strictObject({
  name: z.string(),
  type: z.enum(QUEUE_TYPES).default(DEFAULT_QUEUE_TYPE),
  durable: z.boolean().default(true),
  autoDelete: z.boolean().default(false),
  exclusive: z.boolean().default(false),
  deadLetterExchange: z.string().optional(),
  deadLetterRoutingKey: z.string().optional(),
  messageTtlMs: z.number().int().nonnegative().optional(),
  maxLength: z.number().int().nonnegative().optional(),
  deliveryLimit: z.number().int().positive().optional(),
  arguments: argumentsSchema.default({}),
});

export const bindingSchema = z.strictObject({
  source: z.string(),
  destination: z.string(),
  destinationType: z.enum(['queue', 'exchange']).default('queue'),
  routingKey: z.string().default(''),
  arguments: argumentsSchema.default({}),
});

/** Parses {@link BrokerDefinitions} and fills in the defaults; the semantic checks are separate. */
export const brokerDefinitionsSchema = z.strictObject({
  vhost: z.string(),
  exchanges: z.array(exchangeSchema).default([]),
  queues: z.array(queueSchema).default([]),
  bindings: z.array(bindingSchema).default([]),
});

export type ResolvedExchange = z.output<typeof exchangeSchema>;
export type ResolvedQueue = z.output<typeof queueSchema>;
export type ResolvedBinding = z.output<typeof bindingSchema>;
/** Definitions with every default filled in. */
export type ResolvedDefinitions = z.output<typeof brokerDefinitionsSchema>;

/** Definitions RabbitMQ would refuse (or the platform does); `problems` name each item. */
export class DefinitionsError extends Error {
  constructor(
    readonly problems: readonly string[],
    heading = 'Invalid RabbitMQ definitions',
  ) {
    super(`${heading}:\n- ${problems.join('\n- ')}`);
    this.name = 'DefinitionsError';
  }
}

// --- Queue arguments -------------------------------------------------------------------------------

/** Arguments the typed fields set: giving them in `arguments` as well would be ambiguous. */
const TYPED_QUEUE_ARGUMENTS: Readonly<Record<string, string>> = {
  'x-queue-type': 'type',
  'x-dead-letter-exchange': 'deadLetterExchange',
  'x-dead-letter-routing-key': 'deadLetterRoutingKey',
  'x-message-ttl': 'messageTtlMs',
  'x-max-length': 'maxLength',
  'x-delivery-limit': 'deliveryLimit',
};

/** Classic-queue arguments a quorum queue refuses ("invalid arg ... of type rabbit_quorum_queue"). */
const CLASSIC_ONLY_ARGUMENTS = [
  'x-max-priority',
  'x-queue-mode',
  'x-queue-master-locator',
  'x-queue-version',
];
/** Stream-only arguments, refused by both queue types here. */
const STREAM_ONLY_ARGUMENTS = ['x-max-age', 'x-stream-max-segment-size-bytes'];

/** Arguments RabbitMQ takes as integers or booleans only: a string (e.g. from CloudFormation) is refused. */
const INTEGER_ARGUMENTS = new Set([
  'x-message-ttl',
  'x-expires',
  'x-max-length',
  'x-max-length-bytes',
  'x-max-priority',
  'x-delivery-limit',
  'x-quorum-initial-group-size',
  'x-queue-version',
  'x-max-in-memory-length',
  'x-max-in-memory-bytes',
  'x-stream-max-segment-size-bytes',
]);
const BOOLEAN_ARGUMENTS = new Set(['x-single-active-consumer']);

/** The queue's `x-...` arguments as RabbitMQ receives them (`x-queue-type` always set). */
export function toQueueArguments(queue: QueueDefinition): Record<string, ArgumentValue> {
  const args: Record<string, ArgumentValue> = { ...(queue.arguments ?? {}) };
  args['x-queue-type'] = queue.type ?? DEFAULT_QUEUE_TYPE;
  if (queue.deadLetterExchange !== undefined) args['x-dead-letter-exchange'] = queue.deadLetterExchange;
  if (queue.deadLetterRoutingKey !== undefined)
    args['x-dead-letter-routing-key'] = queue.deadLetterRoutingKey;
  if (queue.messageTtlMs !== undefined) args['x-message-ttl'] = queue.messageTtlMs;
  if (queue.maxLength !== undefined) args['x-max-length'] = queue.maxLength;
  if (queue.deliveryLimit !== undefined) args['x-delivery-limit'] = queue.deliveryLimit;
  return args;
}

/** A stable text of an arguments table (keys sorted), to compare two of them. */
export function argumentsKey(args: Readonly<Record<string, unknown>> | undefined): string {
  const entries = Object.entries(args ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(entries);
}

// --- Validation ------------------------------------------------------------------------------------

const utf8 = new TextEncoder();
const bytes = (s: string): number => utf8.encode(s).length;

const bindingLabel = (b: ResolvedBinding): string =>
  `binding "${b.source}" -> ${b.destinationType} "${b.destination}" (routing key "${b.routingKey}")`;

/** Why a topic binding pattern is malformed, or undefined: dot-separated words, `*`/`#` whole words. */
export function topicPatternProblem(pattern: string): string | undefined {
  if (pattern === '') return undefined;
  for (const word of pattern.split('.')) {
    if (word === '') return 'has an empty word (a dot at either end or two dots in a row)';
    if ((word.includes('*') || word.includes('#')) && word !== '*' && word !== '#') {
      return `word "${word}" mixes a wildcard with text: * and # must be whole words`;
    }
  }
  return undefined;
}

function nameProblems(kind: 'exchange' | 'queue', name: string): string[] {
  if (name === '') {
    return [
      kind === 'exchange'
        ? 'an exchange has an empty name: "" is the default exchange, which every vhost already has'
        : 'a queue has an empty name: server-named queues cannot be provisioned by definitions',
    ];
  }
  const problems: string[] = [];
  if (bytes(name) > MAX_NAME_BYTES)
    problems.push(`${kind} "${name}": name is longer than ${MAX_NAME_BYTES} bytes`);
  if (name.startsWith(RESERVED_PREFIX)) {
    problems.push(
      `${kind} "${name}": the "${RESERVED_PREFIX}" prefix is reserved to RabbitMQ (403 ACCESS_REFUSED)`,
    );
  }
  return problems;
}

function argumentTypeProblems(label: string, args: Arguments): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(args)) {
    if (INTEGER_ARGUMENTS.has(key) && !(typeof value === 'number' && Number.isInteger(value) && value >= 0)) {
      problems.push(`${label}: argument ${key} must be a non-negative integer, not ${JSON.stringify(value)}`);
    }
    if (BOOLEAN_ARGUMENTS.has(key) && typeof value !== 'boolean') {
      problems.push(`${label}: argument ${key} must be a boolean, not ${JSON.stringify(value)}`);
    }
  }
  return problems;
}

function duplicates<T>(items: readonly T[], key: (item: T) => string): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const item of items) {
    const k = key(item);
    if (seen.has(k)) twice.add(k);
    seen.add(k);
  }
  return [...twice];
}

/** The semantic checks, on definitions the schema has parsed. */
function semanticProblems(d: ResolvedDefinitions): string[] {
  const problems: string[] = [];
  if (d.vhost === '') problems.push('vhost must not be empty (the default vhost is "/")');
  if (bytes(d.vhost) > MAX_NAME_BYTES)
    problems.push(`vhost "${d.vhost}": longer than ${MAX_NAME_BYTES} bytes`);

  const exchangeTypes = new Map<string, ExchangeType>(BUILT_IN_EXCHANGES);
  for (const e of d.exchanges) exchangeTypes.set(e.name, e.type);
  const queueNames = new Set(d.queues.map((q) => q.name));
  const exchangeExists = (name: string) => exchangeTypes.has(name);

  for (const name of duplicates(d.exchanges, (e) => e.name))
    problems.push(`exchange "${name}" is defined twice`);
  for (const name of duplicates(d.queues, (q) => q.name)) problems.push(`queue "${name}" is defined twice`);

  for (const e of d.exchanges) {
    problems.push(...nameProblems('exchange', e.name));
    const label = `exchange "${e.name}"`;
    problems.push(...argumentTypeProblems(label, e.arguments));
    const alternate = e.arguments['alternate-exchange'];
    if (alternate !== undefined && (typeof alternate !== 'string' || !exchangeExists(alternate))) {
      problems.push(`${label}: alternate-exchange "${String(alternate)}" is not defined`);
    }
  }

  for (const q of d.queues) {
    problems.push(...nameProblems('queue', q.name));
    const label = `queue "${q.name}"`;
    if (q.exclusive) {
      problems.push(
        `${label}: exclusive queues belong to one connection and cannot be provisioned by definitions`,
      );
    }
    for (const key of Object.keys(q.arguments)) {
      const field = TYPED_QUEUE_ARGUMENTS[key];
      if (field) problems.push(`${label}: set ${field} instead of arguments["${key}"]`);
      if (STREAM_ONLY_ARGUMENTS.includes(key))
        problems.push(`${label}: argument ${key} is for stream queues only`);
    }
    problems.push(...argumentTypeProblems(label, q.arguments));
    if (q.type === 'quorum') {
      if (!q.durable)
        problems.push(`${label}: quorum queues are always durable; use type "classic" for a transient queue`);
      if (q.autoDelete) problems.push(`${label}: quorum queues cannot be auto-delete`);
      for (const key of Object.keys(q.arguments)) {
        if (CLASSIC_ONLY_ARGUMENTS.includes(key)) {
          problems.push(`${label}: argument ${key} is not supported by quorum queues (classic only)`);
        }
      }
    } else if (q.deliveryLimit !== undefined) {
      problems.push(`${label}: deliveryLimit applies to quorum queues only (this queue is classic)`);
    }
    if (q.deadLetterExchange !== undefined && !exchangeExists(q.deadLetterExchange)) {
      problems.push(`${label}: dead-letter exchange "${q.deadLetterExchange}" is not defined`);
    }
    if (q.deadLetterRoutingKey !== undefined) {
      if (q.deadLetterExchange === undefined) {
        problems.push(`${label}: deadLetterRoutingKey has no effect without a deadLetterExchange`);
      }
      if (bytes(q.deadLetterRoutingKey) > MAX_NAME_BYTES) {
        problems.push(`${label}: deadLetterRoutingKey is longer than ${MAX_NAME_BYTES} bytes`);
      }
    }
  }

  for (const key of duplicates(d.bindings, bindingKey)) {
    const b = d.bindings.find((x) => bindingKey(x) === key) as ResolvedBinding;
    problems.push(`${bindingLabel(b)} is defined twice`);
  }
  for (const b of d.bindings) {
    const label = bindingLabel(b);
    const sourceType = exchangeTypes.get(b.source);
    if (b.source === '') {
      problems.push(
        `${label}: the default exchange cannot be bound (every queue is bound to it by its name)`,
      );
    } else if (!sourceType) {
      problems.push(`${label}: source exchange "${b.source}" is not defined`);
    }
    if (b.destinationType === 'queue' && !queueNames.has(b.destination)) {
      problems.push(`${label}: destination queue "${b.destination}" is not defined`);
    }
    if (b.destinationType === 'exchange') {
      if (b.destination === '')
        problems.push(`${label}: the default exchange cannot be a binding's destination`);
      else if (!exchangeExists(b.destination)) {
        problems.push(`${label}: destination exchange "${b.destination}" is not defined`);
      }
    }
    if (bytes(b.routingKey) > MAX_NAME_BYTES)
      problems.push(`${label}: routing key is longer than ${MAX_NAME_BYTES} bytes`);
    if (sourceType === 'topic') {
      const why = topicPatternProblem(b.routingKey);
      if (why) problems.push(`${label}: invalid topic pattern, ${why}`);
    }
    const match = b.arguments['x-match'];
    if (match !== undefined && !['all', 'any', 'all-with-x', 'any-with-x'].includes(String(match))) {
      problems.push(`${label}: x-match must be all, any, all-with-x or any-with-x, not "${String(match)}"`);
    }
  }
  return problems;
}

/** `queues[1] "payments".durable`: the path of a schema issue, naming the item where it can. */
function issuePath(input: unknown, path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(definitions)';
  const [list, index, ...rest] = path;
  if (typeof list === 'string' && typeof index === 'number') {
    const item = (input as Record<string, unknown> | undefined)?.[list];
    const entry = Array.isArray(item) ? (item[index] as Record<string, unknown> | undefined) : undefined;
    const name = typeof entry?.name === 'string' ? ` "${entry.name}"` : '';
    return [`${list}[${index}]${name}`, ...rest.map(String)].join('.');
  }
  return path.map(String).join('.');
}

/** Parses and checks definitions: the resolved definitions, or every problem found. */
export function parseDefinitions(
  input: unknown,
): { ok: true; definitions: ResolvedDefinitions } | { ok: false; problems: string[] } {
  const parsed = brokerDefinitionsSchema.safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) => `${issuePath(input, issue.path)}: ${issue.message}`),
    };
  }
  const problems = semanticProblems(parsed.data);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, definitions: parsed.data };
}

/**
 * Everything RabbitMQ would refuse in these definitions, one message per problem naming the item
 * (empty when they are valid). Called at synth, so a bad definition fails `cdk synth`.
 */
export function validateDefinitions(definitions: BrokerDefinitions | unknown): string[] {
  const result = parseDefinitions(definitions);
  return result.ok ? [] : result.problems;
}

/** The definitions with their defaults, or a {@link DefinitionsError} listing every problem. */
export function resolveDefinitions(definitions: BrokerDefinitions | unknown): ResolvedDefinitions {
  const result = parseDefinitions(definitions);
  if (!result.ok) throw new DefinitionsError(result.problems);
  return result.definitions;
}

// --- CloudFormation --------------------------------------------------------------------------------

const toBoolean = (v: unknown): unknown => (v === 'true' ? true : v === 'false' ? false : v);
const toNumber = (v: unknown): unknown =>
  typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v;

/** Known typed arguments get their type back; other argument values stay as CloudFormation gave them. */
function coerceArguments(args: unknown): unknown {
  if (args === null || typeof args !== 'object' || Array.isArray(args)) return args;
  return Object.fromEntries(
    Object.entries(args).map(([key, value]) => [
      key,
      INTEGER_ARGUMENTS.has(key) ? toNumber(value) : BOOLEAN_ARGUMENTS.has(key) ? toBoolean(value) : value,
    ]),
  );
}

function coerceItems(list: unknown, booleans: string[], numbers: string[]): unknown {
  if (!Array.isArray(list)) return list;
  return list.map((item: unknown) => {
    if (item === null || typeof item !== 'object') return item;
    const out: Record<string, unknown> = { ...(item as Record<string, unknown>) };
    for (const key of booleans) if (key in out) out[key] = toBoolean(out[key]);
    for (const key of numbers) if (key in out) out[key] = toNumber(out[key]);
    if ('arguments' in out) out.arguments = coerceArguments(out.arguments);
    return out;
  });
}

/**
 * The definitions from a custom resource's `Definitions` property. CloudFormation hands every
 * scalar over as a string (`"true"`, `"3"`), at any depth: the typed fields get their types back,
 * and so do the known integer/boolean arguments (`x-max-priority`, `x-expires`, ...). Other
 * argument values stay strings; a JSON string of the whole definitions is also accepted (and
 * keeps every type). `validate: false` only parses (for the previous definitions of an update,
 * which were valid when deployed).
 */
export function fromCloudFormation(
  value: unknown,
  options: { readonly validate?: boolean } = {},
): ResolvedDefinitions {
  let raw = value;
  if (typeof raw === 'string') {
    try {
      raw = JSON.parse(raw);
    } catch {
      throw new DefinitionsError(['Definitions is a string but not JSON']);
    }
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new DefinitionsError(['Definitions must be an object {vhost, exchanges, queues, bindings}']);
  }
  const r = raw as Record<string, unknown>;
  const coerced = {
    ...r,
    exchanges: coerceItems(r.exchanges, ['durable', 'autoDelete', 'internal'], []),
    queues: coerceItems(
      r.queues,
      ['durable', 'autoDelete', 'exclusive'],
      ['messageTtlMs', 'maxLength', 'deliveryLimit'],
    ),
    bindings: coerceItems(r.bindings, [], []),
  };
  if (options.validate === false) {
    const parsed = brokerDefinitionsSchema.safeParse(coerced);
    if (!parsed.success) {
      throw new DefinitionsError(
        parsed.error.issues.map((i) => `${issuePath(coerced, i.path)}: ${i.message}`),
      );
    }
    return parsed.data;
  }
  return resolveDefinitions(coerced);
}

// --- Planning --------------------------------------------------------------------------------------

/** Identity of a binding: RabbitMQ keeps one binding per source, destination, key and arguments. */
export function bindingKey(b: ResolvedBinding): string {
  return JSON.stringify([
    b.source,
    b.destinationType,
    b.destination,
    b.routingKey,
    argumentsKey(b.arguments),
  ]);
}

export interface RecreatedItem {
  readonly kind: 'exchange' | 'queue';
  readonly name: string;
  /** e.g. `x-delivery-limit: 3 -> 5`. */
  readonly changes: readonly string[];
}

export interface DefinitionsPlan {
  /** The vhost the declarations go to. */
  readonly vhost: string;
  /** The vhost the deletions apply to: the previous definitions' (the same unless the vhost changed). */
  readonly deleteFrom: string;
  /** In the order to apply them: bindings, queues, exchanges (removed or recreated). */
  readonly deleteBindings: readonly ResolvedBinding[];
  readonly deleteQueues: readonly ResolvedQueue[];
  readonly deleteExchanges: readonly ResolvedExchange[];
  /** Then exchanges, queues, bindings: every item of the new definitions (idempotent). */
  readonly declareExchanges: readonly ResolvedExchange[];
  readonly declareQueues: readonly ResolvedQueue[];
  readonly createBindings: readonly ResolvedBinding[];
  /** Items deleted and declared again because an immutable property changed (`allowRecreate`). */
  readonly recreated: readonly RecreatedItem[];
  /** What the plan loses: the messages of every queue it deletes. */
  readonly warnings: readonly string[];
}

export interface PlanOptions {
  /**
   * Delete and redeclare an exchange or queue whose immutable properties changed, instead of
   * refusing the change. A recreated queue loses its messages. @default false
   */
  readonly allowRecreate?: boolean;
}

const exchangeShape = (e: ResolvedExchange) => ({
  type: e.type,
  durable: e.durable,
  autoDelete: e.autoDelete,
  internal: e.internal,
  arguments: e.arguments,
});

const queueShape = (q: ResolvedQueue) => ({
  durable: q.durable,
  autoDelete: q.autoDelete,
  arguments: toQueueArguments(q),
});

/** `durable: true -> false`, `x-message-ttl: 60000 -> (none)`: what differs between two shapes. */
function differences(
  before: { arguments: Record<string, ArgumentValue> } & Record<string, unknown>,
  after: { arguments: Record<string, ArgumentValue> } & Record<string, unknown>,
): string[] {
  const show = (v: unknown) => (v === undefined ? '(none)' : JSON.stringify(v));
  const changes: string[] = [];
  for (const key of Object.keys(after)) {
    if (key !== 'arguments' && before[key] !== after[key])
      changes.push(`${key}: ${show(before[key])} -> ${show(after[key])}`);
  }
  const keys = [...new Set([...Object.keys(before.arguments), ...Object.keys(after.arguments)])].sort();
  for (const key of keys) {
    if (before.arguments[key] !== after.arguments[key]) {
      changes.push(`${key}: ${show(before.arguments[key])} -> ${show(after.arguments[key])}`);
    }
  }
  return changes;
}

/**
 * What applying `next` to a broker holding `previous` (undefined: nothing yet) does. Items gone
 * from `next` are deleted; an exchange or queue whose immutable properties changed is refused
 * with a {@link DefinitionsError} unless `allowRecreate` (then deleted and declared again). A
 * vhost change declares everything in the new vhost and deletes the old vhost's items.
 */
export function planDefinitions(
  previous: ResolvedDefinitions | undefined,
  next: ResolvedDefinitions,
  options: PlanOptions = {},
): DefinitionsPlan {
  const sameVhost = previous !== undefined && previous.vhost === next.vhost;
  const before: ResolvedDefinitions = previous ?? {
    vhost: next.vhost,
    exchanges: [],
    queues: [],
    bindings: [],
  };
  const nextExchanges = new Map(next.exchanges.map((e) => [e.name, e]));
  const nextQueues = new Map(next.queues.map((q) => [q.name, q]));
  const nextBindings = new Set(next.bindings.map(bindingKey));

  const recreated: RecreatedItem[] = [];
  const deleteExchanges: ResolvedExchange[] = [];
  const deleteQueues: ResolvedQueue[] = [];
  for (const e of before.exchanges) {
    const wanted = sameVhost ? nextExchanges.get(e.name) : undefined;
    if (!wanted) deleteExchanges.push(e);
    else {
      const changes = differences(exchangeShape(e), exchangeShape(wanted));
      if (changes.length > 0) {
        recreated.push({ kind: 'exchange', name: e.name, changes });
        deleteExchanges.push(e);
      }
    }
  }
  for (const q of before.queues) {
    const wanted = sameVhost ? nextQueues.get(q.name) : undefined;
    if (!wanted) deleteQueues.push(q);
    else {
      const changes = differences(queueShape(q), queueShape(wanted));
      if (changes.length > 0) {
        recreated.push({ kind: 'queue', name: q.name, changes });
        deleteQueues.push(q);
      }
    }
  }
  if (recreated.length > 0 && !options.allowRecreate) {
    throw new DefinitionsError(
      recreated.map(
        (r) =>
          `${r.kind} "${r.name}" cannot change in place (${r.changes.join(', ')}): RabbitMQ refuses to ` +
          `redeclare it with other properties (406 PRECONDITION_FAILED). Give it a new name, or allow ` +
          `recreating it (deleted and declared again${r.kind === 'queue' ? ': its messages are lost' : ''})`,
      ),
      'Immutable RabbitMQ definitions changed',
    );
  }
  // Deleting an exchange or queue drops its bindings too; those still wanted are created again
  // below like every binding of `next`. Listing them here as well is harmless (unbind tolerates
  // a binding already gone) and keeps built-in-to-built-in bindings covered.
  const deleteBindings = before.bindings.filter((b) => !sameVhost || !nextBindings.has(bindingKey(b)));

  const warnings = deleteQueues.map(
    (q) =>
      `queue "${q.name}" in vhost "${before.vhost}" is deleted${
        recreated.some((r) => r.kind === 'queue' && r.name === q.name) ? ' and declared again' : ''
      }: the messages it holds are lost`,
  );
  return {
    vhost: next.vhost,
    deleteFrom: before.vhost,
    deleteBindings,
    deleteQueues,
    deleteExchanges,
    declareExchanges: next.exchanges,
    declareQueues: next.queues,
    createBindings: next.bindings,
    recreated,
    warnings,
  };
}

/** Definitions with nothing in them: planning toward these removes every item of a vhost. */
export const emptyDefinitions = (vhost: string): ResolvedDefinitions => ({
  vhost,
  exchanges: [],
  queues: [],
  bindings: [],
});

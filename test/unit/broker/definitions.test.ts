import { describe, expect, it } from 'vitest';
import {
  type BrokerDefinitions,
  DefinitionsError,
  emptyDefinitions,
  fromCloudFormation,
  planDefinitions,
  type ResolvedDefinitions,
  resolveDefinitions,
  topicPatternProblem,
  toQueueArguments,
  validateDefinitions,
} from '../../../lambdas/broker/domain/definitions.js';

/** The seed's order routing, with a dead-letter exchange and queue. */
const orders: BrokerDefinitions = {
  vhost: 'orders',
  exchanges: [
    { name: 'order_events', type: 'topic' },
    { name: 'order_events.dlx', type: 'fanout' },
  ],
  queues: [
    { name: 'payment_queue', deadLetterExchange: 'order_events.dlx', deliveryLimit: 5 },
    { name: 'shipping_queue', deadLetterExchange: 'order_events.dlx', messageTtlMs: 86_400_000 },
    { name: 'order_events.dead', maxLength: 100_000 },
  ],
  bindings: [
    { source: 'order_events', destination: 'payment_queue', routingKey: 'order.payment.*' },
    { source: 'order_events', destination: 'shipping_queue', routingKey: 'order.shipping.*' },
    { source: 'order_events.dlx', destination: 'order_events.dead' },
  ],
};

const resolved = (d: BrokerDefinitions): ResolvedDefinitions => resolveDefinitions(d);
const withChanges = (changes: Partial<BrokerDefinitions>): BrokerDefinitions => ({ ...orders, ...changes });

describe('validateDefinitions', () => {
  it('accepts the order routing and fills in the defaults', () => {
    expect(validateDefinitions(orders)).toEqual([]);
    const d = resolved(orders);
    expect(d.exchanges[0]).toEqual({
      name: 'order_events',
      type: 'topic',
      durable: true,
      autoDelete: false,
      internal: false,
      arguments: {},
    });
    // Quorum is the default queue type; bindings go to queues with '' as the default key.
    expect(d.queues[0]).toMatchObject({ type: 'quorum', durable: true, autoDelete: false, exclusive: false });
    expect(d.bindings[2]).toEqual({
      source: 'order_events.dlx',
      destination: 'order_events.dead',
      destinationType: 'queue',
      routingKey: '',
      arguments: {},
    });
  });

  it('lets bindings and dead-lettering use the built-in exchanges without defining them', () => {
    const problems = validateDefinitions({
      vhost: '/',
      exchanges: [],
      queues: [{ name: 'audit', deadLetterExchange: '' }, { name: 'all' }],
      bindings: [
        { source: 'amq.topic', destination: 'audit', routingKey: 'order.#' },
        { source: 'amq.fanout', destination: 'all' },
      ],
    });
    expect(problems).toEqual([]);
  });

  it.each<[string, Partial<BrokerDefinitions>, string]>([
    [
      'a binding from an undefined exchange',
      { bindings: [{ source: 'orders', destination: 'payment_queue', routingKey: 'order.#' }] },
      'binding "orders" -> queue "payment_queue" (routing key "order.#"): source exchange "orders" is not defined',
    ],
    [
      'a binding to an undefined queue',
      { bindings: [{ source: 'order_events', destination: 'payments', routingKey: 'order.#' }] },
      'binding "order_events" -> queue "payments" (routing key "order.#"): destination queue "payments" is not defined',
    ],
    [
      'a binding to an undefined exchange',
      { bindings: [{ source: 'order_events', destination: 'audit', destinationType: 'exchange' }] },
      'binding "order_events" -> exchange "audit" (routing key ""): destination exchange "audit" is not defined',
    ],
    [
      'a binding from the default exchange',
      { bindings: [{ source: '', destination: 'payment_queue', routingKey: 'payment_queue' }] },
      'the default exchange cannot be bound',
    ],
    [
      'a dead-letter exchange that is not defined',
      { queues: [{ name: 'payment_queue', deadLetterExchange: 'dlx' }], bindings: [] },
      'queue "payment_queue": dead-letter exchange "dlx" is not defined',
    ],
    [
      'a dead-letter routing key without a dead-letter exchange',
      { queues: [{ name: 'payment_queue', deadLetterRoutingKey: 'dead' }], bindings: [] },
      'queue "payment_queue": deadLetterRoutingKey has no effect without a deadLetterExchange',
    ],
    [
      'an exchange defined twice',
      { exchanges: [...orders.exchanges, { name: 'order_events', type: 'direct' }] },
      'exchange "order_events" is defined twice',
    ],
    [
      'a queue defined twice',
      { queues: [...orders.queues, { name: 'shipping_queue' }] },
      'queue "shipping_queue" is defined twice',
    ],
    [
      'a binding defined twice',
      { bindings: [...orders.bindings, { source: 'order_events.dlx', destination: 'order_events.dead' }] },
      'binding "order_events.dlx" -> queue "order_events.dead" (routing key "") is defined twice',
    ],
    [
      'an exchange name with the reserved prefix',
      { exchanges: [...orders.exchanges, { name: 'amq.orders', type: 'topic' }] },
      'exchange "amq.orders": the "amq." prefix is reserved to RabbitMQ',
    ],
    [
      'a queue name with the reserved prefix',
      { queues: [...orders.queues, { name: 'amq.work' }] },
      'queue "amq.work": the "amq." prefix is reserved to RabbitMQ',
    ],
    [
      'a name longer than 255 bytes',
      // 128 two-byte characters: 128 characters, 256 bytes.
      { queues: [...orders.queues, { name: 'é'.repeat(128) }] },
      `queue "${'é'.repeat(128)}": name is longer than 255 bytes`,
    ],
    [
      'an exchange with an empty name',
      { exchanges: [...orders.exchanges, { name: '', type: 'direct' }] },
      'an exchange has an empty name: "" is the default exchange',
    ],
    [
      'a queue with an empty name',
      { queues: [...orders.queues, { name: '' }] },
      'a queue has an empty name: server-named queues cannot be provisioned',
    ],
    [
      'a non-durable quorum queue',
      { queues: [...orders.queues, { name: 'scratch', durable: false }] },
      'queue "scratch": quorum queues are always durable; use type "classic" for a transient queue',
    ],
    [
      'an auto-delete quorum queue',
      { queues: [...orders.queues, { name: 'scratch', autoDelete: true }] },
      'queue "scratch": quorum queues cannot be auto-delete',
    ],
    [
      'an exclusive queue',
      { queues: [...orders.queues, { name: 'scratch', type: 'classic', exclusive: true }] },
      'queue "scratch": exclusive queues belong to one connection',
    ],
    [
      'a delivery limit on a classic queue',
      { queues: [...orders.queues, { name: 'legacy', type: 'classic', deliveryLimit: 3 }] },
      'queue "legacy": deliveryLimit applies to quorum queues only (this queue is classic)',
    ],
    [
      'a classic-only argument on a quorum queue',
      { queues: [...orders.queues, { name: 'urgent', arguments: { 'x-max-priority': 10 } }] },
      'queue "urgent": argument x-max-priority is not supported by quorum queues (classic only)',
    ],
    [
      'a typed field given as an argument',
      { queues: [...orders.queues, { name: 'ttl', arguments: { 'x-message-ttl': 1000 } }] },
      'queue "ttl": set messageTtlMs instead of arguments["x-message-ttl"]',
    ],
    [
      'an integer argument given as a string',
      { queues: [...orders.queues, { name: 'expiring', arguments: { 'x-expires': '60000' } }] },
      'queue "expiring": argument x-expires must be a non-negative integer, not "60000"',
    ],
    [
      'an alternate exchange that is not defined',
      {
        exchanges: [
          ...orders.exchanges,
          { name: 'commands', type: 'direct', arguments: { 'alternate-exchange': 'unrouted' } },
        ],
      },
      'exchange "commands": alternate-exchange "unrouted" is not defined',
    ],
    [
      'a topic pattern with a wildcard inside a word',
      { bindings: [{ source: 'order_events', destination: 'payment_queue', routingKey: 'order.pay*' }] },
      'invalid topic pattern, word "pay*" mixes a wildcard with text: * and # must be whole words',
    ],
    [
      'a topic pattern with an empty word',
      { bindings: [{ source: 'order_events', destination: 'payment_queue', routingKey: 'order..paid' }] },
      'invalid topic pattern, has an empty word',
    ],
    [
      'an unknown x-match on a headers binding',
      {
        exchanges: [{ name: 'by_header', type: 'headers' }],
        bindings: [{ source: 'by_header', destination: 'payment_queue', arguments: { 'x-match': 'some' } }],
        queues: [{ name: 'payment_queue' }],
      },
      'x-match must be all, any, all-with-x or any-with-x, not "some"',
    ],
    ['an empty vhost', { vhost: '' }, 'vhost must not be empty (the default vhost is "/")'],
  ])('refuses %s, naming the item', (_case, changes, message) => {
    const problems = validateDefinitions(withChanges(changes));
    expect(
      problems.some((p) => p.includes(message)),
      problems.join('\n'),
    ).toBe(true);
  });

  it('reports schema problems with the path and the item name', () => {
    const problems = validateDefinitions({
      vhost: 'orders',
      exchanges: [{ name: 'order_events', type: 'x-delayed-message' }],
      queues: [{ name: 'payment_queue', durabel: true }],
      bindings: [],
    });
    expect(problems).toEqual([
      expect.stringMatching(/^exchanges\[0\] "order_events"\.type: /),
      expect.stringMatching(/^queues\[0\] "payment_queue": .*durabel/),
    ]);
  });

  it('reports every problem at once', () => {
    const problems = validateDefinitions(
      withChanges({
        queues: [{ name: 'payment_queue', type: 'classic', deliveryLimit: 3, deadLetterExchange: 'nope' }],
        bindings: [{ source: 'nowhere', destination: 'payment_queue' }],
      }),
    );
    expect(problems).toHaveLength(3);
    expect(() => resolveDefinitions({ vhost: '' })).toThrow(DefinitionsError);
  });

  it('accepts a routing key on a fanout exchange (RabbitMQ ignores it)', () => {
    expect(
      validateDefinitions(
        withChanges({
          bindings: [
            { source: 'order_events.dlx', destination: 'order_events.dead', routingKey: 'anything' },
          ],
        }),
      ),
    ).toEqual([]);
  });
});

describe('topicPatternProblem', () => {
  it.each(['', '#', '*', 'order.*', 'order.#', 'order.*.created', '*.*.#', 'order-events.payment_v2'])(
    'accepts "%s"',
    (pattern) => expect(topicPatternProblem(pattern)).toBeUndefined(),
  );
  it.each(['order.', '.order', 'order..x', 'order.pay*', 'order.#x', 'a*b'])('refuses "%s"', (pattern) =>
    expect(topicPatternProblem(pattern)).toBeDefined(),
  );
});

describe('toQueueArguments', () => {
  it('maps every typed field to its x- argument, keeping the other arguments', () => {
    expect(
      toQueueArguments({
        name: 'payment_queue',
        deadLetterExchange: 'order_events.dlx',
        deadLetterRoutingKey: 'payment.dead',
        messageTtlMs: 60_000,
        maxLength: 10_000,
        deliveryLimit: 5,
        arguments: { 'x-single-active-consumer': true },
      }),
    ).toEqual({
      'x-single-active-consumer': true,
      'x-queue-type': 'quorum',
      'x-dead-letter-exchange': 'order_events.dlx',
      'x-dead-letter-routing-key': 'payment.dead',
      'x-message-ttl': 60_000,
      'x-max-length': 10_000,
      'x-delivery-limit': 5,
    });
  });

  it('sets only the queue type when nothing else is given', () => {
    expect(toQueueArguments({ name: 'q' })).toEqual({ 'x-queue-type': 'quorum' });
    expect(toQueueArguments({ name: 'q', type: 'classic' })).toEqual({ 'x-queue-type': 'classic' });
  });
});

describe('planDefinitions', () => {
  it('declares everything, exchanges first, when nothing was deployed', () => {
    const next = resolved(orders);
    const plan = planDefinitions(undefined, next);
    expect(plan).toEqual({
      vhost: 'orders',
      deleteFrom: 'orders',
      deleteBindings: [],
      deleteQueues: [],
      deleteExchanges: [],
      declareExchanges: next.exchanges,
      declareQueues: next.queues,
      createBindings: next.bindings,
      recreated: [],
      warnings: [],
    });
  });

  it('deletes nothing when the definitions did not change', () => {
    const plan = planDefinitions(resolved(orders), resolved(orders));
    expect(plan.deleteBindings).toEqual([]);
    expect(plan.deleteQueues).toEqual([]);
    expect(plan.deleteExchanges).toEqual([]);
    expect(plan.recreated).toEqual([]);
  });

  it('deletes a binding gone from the definitions, and only it', () => {
    const next = withChanges({ bindings: orders.bindings.filter((b) => b.destination !== 'shipping_queue') });
    const plan = planDefinitions(resolved(orders), resolved(next));
    expect(plan.deleteBindings).toEqual([
      {
        source: 'order_events',
        destination: 'shipping_queue',
        destinationType: 'queue',
        routingKey: 'order.shipping.*',
        arguments: {},
      },
    ]);
    expect(plan.deleteQueues).toEqual([]);
    expect(plan.createBindings).toHaveLength(2);
  });

  it('treats a changed routing key as one binding deleted and another created', () => {
    const next = withChanges({
      bindings: orders.bindings.map((b) =>
        b.destination === 'payment_queue' ? { ...b, routingKey: 'order.payment.#' } : b,
      ),
    });
    const plan = planDefinitions(resolved(orders), resolved(next));
    expect(plan.deleteBindings.map((b) => b.routingKey)).toEqual(['order.payment.*']);
    expect(plan.createBindings.map((b) => b.routingKey)).toContain('order.payment.#');
  });

  it('deletes a removed queue with its binding, warning that its messages are lost', () => {
    const next = withChanges({
      queues: orders.queues.filter((q) => q.name !== 'shipping_queue'),
      bindings: orders.bindings.filter((b) => b.destination !== 'shipping_queue'),
    });
    const plan = planDefinitions(resolved(orders), resolved(next));
    expect(plan.deleteQueues.map((q) => q.name)).toEqual(['shipping_queue']);
    expect(plan.deleteBindings.map((b) => b.destination)).toEqual(['shipping_queue']);
    expect(plan.declareQueues.map((q) => q.name)).not.toContain('shipping_queue');
    expect(plan.warnings).toEqual([
      'queue "shipping_queue" in vhost "orders" is deleted: the messages it holds are lost',
    ]);
  });

  it('deletes a removed exchange after the bindings from it', () => {
    const previous = withChanges({
      exchanges: [...orders.exchanges, { name: 'audit', type: 'fanout' }],
      bindings: [...orders.bindings, { source: 'audit', destination: 'order_events.dead' }],
    });
    const plan = planDefinitions(resolved(previous), resolved(orders));
    expect(plan.deleteExchanges.map((e) => e.name)).toEqual(['audit']);
    expect(plan.deleteBindings.map((b) => b.source)).toEqual(['audit']);
    expect(plan.deleteQueues).toEqual([]);
  });

  it('refuses to change an immutable property in place, naming each change', () => {
    const next = withChanges({
      exchanges: [{ name: 'order_events', type: 'direct' }, orders.exchanges[1] as never],
      queues: orders.queues.map((q) => (q.name === 'payment_queue' ? { ...q, deliveryLimit: 10 } : q)),
      bindings: [{ source: 'order_events.dlx', destination: 'order_events.dead' }],
    });
    let error: unknown;
    try {
      planDefinitions(resolved(orders), resolved(next));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DefinitionsError);
    const problems = (error as DefinitionsError).problems;
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(
      /^exchange "order_events" cannot change in place \(type: "topic" -> "direct"\)/,
    );
    expect(problems[1]).toMatch(
      /^queue "payment_queue" cannot change in place \(x-delivery-limit: 5 -> 10\)/,
    );
    expect(problems[1]).toContain('406 PRECONDITION_FAILED');
    expect(problems[1]).toContain('its messages are lost');
  });

  it('refuses a changed queue type and durability the same way', () => {
    const previous = withChanges({
      queues: [...orders.queues, { name: 'scratch', type: 'classic', durable: false }],
    });
    const next = withChanges({ queues: [...orders.queues, { name: 'scratch', type: 'quorum' }] });
    expect(() => planDefinitions(resolved(previous), resolved(next))).toThrow(
      /queue "scratch" cannot change in place \(durable: false -> true, x-queue-type: "classic" -> "quorum"\)/,
    );
  });

  it('deletes and declares again a changed queue when recreating is allowed, saying messages are lost', () => {
    const next = withChanges({
      queues: orders.queues.map((q) => (q.name === 'payment_queue' ? { ...q, messageTtlMs: 60_000 } : q)),
    });
    const plan = planDefinitions(resolved(orders), resolved(next), { allowRecreate: true });
    expect(plan.recreated).toEqual([
      { kind: 'queue', name: 'payment_queue', changes: ['x-message-ttl: (none) -> 60000'] },
    ]);
    expect(plan.deleteQueues.map((q) => q.name)).toEqual(['payment_queue']);
    expect(plan.declareQueues.find((q) => q.name === 'payment_queue')?.messageTtlMs).toBe(60_000);
    // Deleting the queue drops its bindings: they are all created again.
    expect(plan.createBindings.map((b) => b.destination)).toContain('payment_queue');
    expect(plan.warnings).toEqual([
      'queue "payment_queue" in vhost "orders" is deleted and declared again: the messages it holds are lost',
    ]);
  });

  it('moves everything to a new vhost and deletes the old vhost’s items', () => {
    const previous = resolved(orders);
    const next = resolved({ ...orders, vhost: 'orders-v2' });
    const plan = planDefinitions(previous, next);
    expect(plan.vhost).toBe('orders-v2');
    expect(plan.deleteFrom).toBe('orders');
    expect(plan.deleteBindings).toEqual(previous.bindings);
    expect(plan.deleteQueues).toEqual(previous.queues);
    expect(plan.deleteExchanges).toEqual(previous.exchanges);
    expect(plan.declareExchanges).toEqual(next.exchanges);
    expect(plan.declareQueues).toEqual(next.queues);
    expect(plan.createBindings).toEqual(next.bindings);
    // A move is not a change in place: nothing is refused.
    expect(plan.recreated).toEqual([]);
  });

  it('removes everything when planned toward empty definitions', () => {
    const previous = resolved(orders);
    const plan = planDefinitions(previous, emptyDefinitions('orders'));
    expect(plan.deleteBindings).toHaveLength(3);
    expect(plan.deleteQueues).toHaveLength(3);
    expect(plan.deleteExchanges).toHaveLength(2);
    expect(plan.declareExchanges).toEqual([]);
  });
});

describe('fromCloudFormation', () => {
  it('gives booleans and numbers their types back, at any depth', () => {
    // GIVEN the definitions as CloudFormation hands them to the function: every scalar a string
    const props = {
      vhost: 'orders',
      exchanges: [
        { name: 'order_events', type: 'topic', durable: 'true', autoDelete: 'false', internal: 'false' },
        { name: 'commands', type: 'direct', arguments: { 'alternate-exchange': 'order_events' } },
      ],
      queues: [
        {
          name: 'payment_queue',
          type: 'quorum',
          deliveryLimit: '5',
          messageTtlMs: '60000',
          maxLength: '1000',
          arguments: { 'x-single-active-consumer': 'true', 'x-expires': '3600000' },
        },
        { name: 'scratch', type: 'classic', durable: 'false', autoDelete: 'true' },
      ],
      bindings: [
        { source: 'order_events', destination: 'payment_queue', routingKey: 'order.payment.*' },
        { source: 'commands', destination: 'order_events', destinationType: 'exchange', routingKey: '' },
      ],
    };
    // WHEN they are parsed
    const d = fromCloudFormation(props);
    // THEN the typed fields and the known typed arguments are typed again
    expect(d.exchanges[0]).toMatchObject({ durable: true, autoDelete: false, internal: false });
    expect(d.exchanges[1]?.arguments).toEqual({ 'alternate-exchange': 'order_events' });
    expect(d.queues[0]).toMatchObject({
      deliveryLimit: 5,
      messageTtlMs: 60_000,
      maxLength: 1000,
      arguments: { 'x-single-active-consumer': true, 'x-expires': 3_600_000 },
    });
    expect(d.queues[1]).toMatchObject({ type: 'classic', durable: false, autoDelete: true });
    expect(d.bindings[1]).toMatchObject({ destinationType: 'exchange', routingKey: '' });
  });

  it('equals the definitions it came from', () => {
    const stringify = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(stringify)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, stringify(x)]))
          : typeof v === 'number' || typeof v === 'boolean'
            ? String(v)
            : v;
    expect(fromCloudFormation(stringify(orders))).toEqual(resolved(orders));
    expect(fromCloudFormation(JSON.stringify(orders))).toEqual(resolved(orders));
  });

  it('keeps other arguments as strings (binding header values are strings)', () => {
    const d = fromCloudFormation({
      vhost: '/',
      exchanges: [{ name: 'by_header', type: 'headers' }],
      queues: [{ name: 'eu' }],
      bindings: [{ source: 'by_header', destination: 'eu', arguments: { 'x-match': 'all', region: '1' } }],
    });
    expect(d.bindings[0]?.arguments).toEqual({ 'x-match': 'all', region: '1' });
  });

  it('refuses what is not a boolean or a number, and invalid definitions', () => {
    expect(() =>
      fromCloudFormation({
        vhost: 'v',
        exchanges: [],
        queues: [{ name: 'q', durable: 'yes' }],
        bindings: [],
      }),
    ).toThrow(/queues\[0\] "q"\.durable: /);
    expect(() =>
      fromCloudFormation({ vhost: 'v', queues: [{ name: 'q', deliveryLimit: 'five' }], bindings: [] }),
    ).toThrow(/queues\[0\] "q"\.deliveryLimit: /);
    expect(() =>
      fromCloudFormation({ vhost: 'v', queues: [{ name: 'q', type: 'classic', deliveryLimit: '3' }] }),
    ).toThrow(/deliveryLimit applies to quorum queues only/);
    expect(() => fromCloudFormation('not json')).toThrow(/not JSON/);
  });

  it('only parses, without the checks, when asked not to validate (previous definitions)', () => {
    const d = fromCloudFormation(
      { vhost: 'v', queues: [{ name: 'q', type: 'classic', deliveryLimit: '3' }] },
      { validate: false },
    );
    expect(d.queues[0]?.deliveryLimit).toBe(3);
  });
});

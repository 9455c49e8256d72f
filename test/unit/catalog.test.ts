/**
 * The event schema catalog: a schema for every event type, schemas that accept what the domain
 * really produces and refuse what it never would, and checked-in files that match the code (so CI
 * fails when an event schema changes without `npm run catalog`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { customerDecider } from '../../lambdas/customers/domain/customer.js';
import { customerEventDataSchemas } from '../../lambdas/customers/domain/customer-schemas.js';
import { orderDecider } from '../../lambdas/orders/domain/order.js';
import { orderEventDataSchemas } from '../../lambdas/orders/domain/order-schemas.js';
import {
  buildCatalog,
  CATALOG_DIR,
  ENVELOPE_PATH,
  eventSchemaPath,
  INDEX_PATH,
  REPO_ROOT,
} from '../../scripts/lib/catalog.js';

const catalog = buildCatalog();
const schemaOf = (path: string): Record<string, unknown> => {
  const content = catalog.get(path);
  if (content === undefined) throw new Error(`${path} is not in the catalog`);
  return JSON.parse(content) as Record<string, unknown>;
};
const orderPath = (eventType: string) => eventSchemaPath({ aggregate: 'order', eventType, schemaVersion: 1 });

/** A strict draft 2020-12 validator that knows the catalog's annotations. */
function validator() {
  const ajv = new Ajv2020({
    strict: true,
    allErrors: true,
    // No ajv-formats here: the schemas carry a pattern next to each format, which does the checking.
    formats: { email: true, 'date-time': true },
  });
  ajv.addVocabulary(['x-event-type', 'x-schema-version', 'x-aggregate-type']);
  return ajv;
}

const events = [
  ...Object.keys(orderEventDataSchemas).map((eventType) => ({ aggregate: 'order', eventType })),
  ...Object.keys(customerEventDataSchemas).map((eventType) => ({ aggregate: 'customer', eventType })),
];

describe('buildCatalog', () => {
  it('has a v1 schema for every event type of both aggregates, the envelope and the index', () => {
    expect(events).toHaveLength(12);
    for (const { aggregate, eventType } of events) {
      const path = eventSchemaPath({ aggregate, eventType, schemaVersion: 1 });
      expect(catalog.has(path), path).toBe(true);
      const schema = schemaOf(path);
      expect(schema).toMatchObject({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        $id: expect.stringMatching(new RegExp(`:${aggregate}:${eventType}:v1$`)),
        title: `${eventType} v1`,
        'x-event-type': eventType,
        'x-schema-version': 1,
        type: 'object',
        additionalProperties: false,
      });
      expect(catalog.get(INDEX_PATH)).toContain(`| \`${eventType}\` | 1 | ${aggregate} |`);
    }
    expect(catalog.has(ENVELOPE_PATH)).toBe(true);
    expect(catalog.size).toBe(events.length + 2);
    const ids = [...catalog.keys()].filter((p) => p.endsWith('.json')).map((p) => schemaOf(p).$id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('produces the same bytes every time, each file ending in a newline', () => {
    expect([...buildCatalog()]).toEqual([...catalog]);
    for (const [path, content] of catalog) expect(content.endsWith('\n'), path).toBe(true);
  });

  it('compiles every schema under a strict draft 2020-12 validator', () => {
    const ajv = validator();
    for (const [path, content] of catalog) {
      if (path.endsWith('.json')) expect(() => ajv.compile(JSON.parse(content)), path).not.toThrow();
    }
  });
});

describe('the OrderPlaced schema', () => {
  const [placed] = orderDecider.decide(orderDecider.initialState, {
    type: 'PlaceOrder',
    data: {
      orderId: 'ord-catalog-1',
      customerId: 'c-1',
      currency: 'EUR',
      items: [
        { sku: 'BOOK-1', quantity: 2, unitPrice: 1250 },
        { sku: 'PEN-7', quantity: 1, unitPrice: 199 },
      ],
      paymentToken: 'tok_visa',
    },
  });
  if (placed?.type !== 'OrderPlaced') throw new Error('PlaceOrder did not produce OrderPlaced');
  const data = placed.data;
  const validate = validator().compile(schemaOf(orderPath('OrderPlaced')));

  it('accepts the data the decider really produces', () => {
    expect(data.total).toBe(2 * 1250 + 199);
    expect(validate(data), JSON.stringify(validate.errors)).toBe(true);
  });

  it('refuses a negative quantity, a missing field and an unknown one', () => {
    const negative = { ...data, items: [{ ...data.items[0], quantity: -1 }] };
    expect(validate(negative)).toBe(false);
    expect(validate.errors?.[0]).toMatchObject({ instancePath: '/items/0/quantity', keyword: 'minimum' });
    const { currency: _, ...noCurrency } = data;
    expect(validate(noCurrency)).toBe(false);
    expect(validate({ ...data, discount: 5 })).toBe(false);
  });
});

describe('the other schemas', () => {
  it('accept what the customer decider produces', () => {
    const [registered] = customerDecider.decide(customerDecider.initialState, {
      type: 'RegisterCustomer',
      data: { customerId: 'c-1', email: ' Ada@Example.COM ', name: 'Ada' },
    });
    if (registered?.type !== 'CustomerRegistered') throw new Error('no CustomerRegistered');
    const validate = validator().compile(
      schemaOf(eventSchemaPath({ aggregate: 'customer', eventType: 'CustomerRegistered', schemaVersion: 1 })),
    );
    expect(registered.data.email).toBe('ada@example.com');
    expect(validate(registered.data), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...registered.data, email: 'not an email' })).toBe(false);
  });

  it('the envelope accepts a stored item (extra attributes included) and refuses one without data', () => {
    const validate = validator().compile(schemaOf(ENVELOPE_PATH));
    const envelope = {
      eventId: 'e-1',
      type: 'OrderPlaced',
      schemaVersion: 1,
      aggregateType: 'Order',
      aggregateId: 'ord-1',
      version: 1,
      occurredAt: '2026-01-02T03:04:05.678Z',
      correlationId: 'corr-1',
      causationId: 'cmd-1',
      data: {},
      recordType: 'event',
    };
    expect(validate(envelope), JSON.stringify(validate.errors)).toBe(true);
    const { data: _, ...noData } = envelope;
    expect(validate(noData)).toBe(false);
    expect(validate({ ...envelope, occurredAt: 'yesterday' })).toBe(false);
  });
});

describe(`the checked-in ${CATALOG_DIR}`, () => {
  function onDisk(dir = join(REPO_ROOT, CATALOG_DIR)): string[] {
    if (!existsSync(dir)) return [];
    return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory()
        ? onDisk(join(dir, entry.name))
        : [relative(REPO_ROOT, join(dir, entry.name)).split(sep).join('/')],
    );
  }

  it('is what the code generates (run `npm run catalog` after changing an event schema)', () => {
    expect(onDisk().sort()).toEqual([...catalog.keys()].sort());
    for (const [path, content] of catalog) {
      expect(readFileSync(join(REPO_ROOT, path), 'utf8'), `${path} is stale: run \`npm run catalog\``).toBe(
        content,
      );
    }
  });
});

/**
 * The event schema catalog: one JSON Schema (draft 2020-12) per event type and schema version,
 * generated from the zod schemas the code itself validates with, plus the envelope every event
 * travels in and an index. `npm run catalog` writes it to `docs/events/`; `npm run catalog --
 * --check` (and test/unit/catalog.test.ts) fail when the files there are not what the code says.
 *
 * Event data schemas describe the data as it is stored and published: zod's *output* (strings
 * trimmed, emails lower-cased and checked as emails). The envelope schema is zod's *input*: the
 * envelope reader accepts, and the outbox publishes, the stored item with its extra attributes
 * (`recordType`), so it must not forbid additional properties.
 *
 * Output is deterministic: the catalog's own keys first in a fixed order, then zod's, whose order
 * follows the schema declarations; two-space JSON and a trailing newline.
 */
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { storedEnvelopeSchema } from '../../lambdas/commons/event-store/stored-record.js';
import { customerEventDataSchemas } from '../../lambdas/customers/domain/customer-schemas.js';
import { orderEventDataSchemas } from '../../lambdas/orders/domain/order-schemas.js';

/** The repository root (this file is scripts/lib/catalog.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Where the catalog lives, relative to the repository root; every file in it is generated. */
export const CATALOG_DIR = 'docs/events';
/** Prefix of every schema's `$id`: stable names, independent of where the files are served. */
export const SCHEMA_ID_PREFIX = 'urn:serverless-messaging-platform:events';

/** One event type at one schema version. */
export interface CatalogEvent {
  readonly aggregate: string;
  readonly aggregateType: string;
  readonly eventType: string;
  readonly schemaVersion: number;
  readonly description: string;
  readonly schema: z.ZodType;
}

/**
 * One line per event type for the index (and the schema's `description`). A schema's own zod
 * description (`.describe()`/`.meta()`), when it has one, takes precedence.
 */
export const EVENT_DESCRIPTIONS: Readonly<Record<string, string>> = {
  OrderPlaced: 'A customer placed an order: its items, total (minor units), currency and payment token.',
  InventoryReserved: 'Stock was reserved for every item of the order.',
  InventoryRejected: 'Stock could not be reserved; the order is rejected.',
  PaymentCompleted: 'The order total was charged.',
  PaymentFailed: 'The charge failed; the order can still be cancelled.',
  OrderShipped: 'The order was handed to a carrier.',
  ShipmentConfirmed:
    "The warehouse confirmed the shipment (over RabbitMQ), with the carrier's tracking number.",
  OrderCancelled: 'The order was cancelled; names the reservation to release, if any.',
  CustomerRegistered: 'A customer registered with an email address and a name.',
  CustomerEmailChanged: 'A customer changed their email address (previous and new, lower-cased).',
  CustomerDeactivated: 'A customer was deactivated, with an optional reason.',
  CustomerReactivated: 'A deactivated customer was reactivated.',
};

const AGGREGATES = [
  { aggregate: 'order', aggregateType: 'Order', schemas: orderEventDataSchemas },
  { aggregate: 'customer', aggregateType: 'Customer', schemas: customerEventDataSchemas },
] as const;

/**
 * The schema version new events of a type are written with: 1 for every type today (no upcasters
 * are registered). When a type moves to v2, its v1 file must stay in the catalog for the events
 * already stored: that needs the v1 zod schema kept next to the v2 one, and listed here.
 */
const CURRENT_SCHEMA_VERSION = 1;

/** Every event type of every aggregate, in the order of the schema maps. */
export function catalogEvents(): CatalogEvent[] {
  return AGGREGATES.flatMap(({ aggregate, aggregateType, schemas }) =>
    Object.entries(schemas).map(([eventType, schema]): CatalogEvent => {
      const description = schema.description ?? EVENT_DESCRIPTIONS[eventType];
      if (!description) {
        throw new Error(
          `${eventType} has no description: add one to EVENT_DESCRIPTIONS in scripts/lib/catalog.ts`,
        );
      }
      return {
        aggregate,
        aggregateType,
        eventType,
        schemaVersion: CURRENT_SCHEMA_VERSION,
        description,
        schema,
      };
    }),
  );
}

/** Where an event's schema lives, relative to the repository root. */
export const eventSchemaPath = (e: Pick<CatalogEvent, 'aggregate' | 'eventType' | 'schemaVersion'>): string =>
  `${CATALOG_DIR}/${e.aggregate}/${e.eventType}.v${e.schemaVersion}.json`;
export const ENVELOPE_PATH = `${CATALOG_DIR}/envelope.json`;
export const INDEX_PATH = `${CATALOG_DIR}/README.md`;

const toJson = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** zod's JSON Schema under the catalog's header keys (zod's `$schema` moves to the front). */
function withHeader(
  header: Record<string, unknown>,
  generated: Record<string, unknown>,
): Record<string, unknown> {
  const { $schema, ...rest } = generated;
  return { $schema, ...header, ...rest };
}

export function eventJsonSchema(e: CatalogEvent): Record<string, unknown> {
  const generated = z.toJSONSchema(e.schema, { target: 'draft-2020-12', io: 'output' }) as Record<
    string,
    unknown
  >;
  delete generated.description;
  return withHeader(
    {
      $id: `${SCHEMA_ID_PREFIX}:${e.aggregate}:${e.eventType}:v${e.schemaVersion}`,
      title: `${e.eventType} v${e.schemaVersion}`,
      description: `${e.description} The envelope's \`data\` when \`type\` is ${e.eventType} and \`schemaVersion\` is ${e.schemaVersion}.`,
      'x-event-type': e.eventType,
      'x-schema-version': e.schemaVersion,
      'x-aggregate-type': e.aggregateType,
    },
    generated,
  );
}

export function envelopeJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(storedEnvelopeSchema, { target: 'draft-2020-12', io: 'input' }) as Record<
    string,
    unknown
  >;
  return withHeader(
    {
      $id: `${SCHEMA_ID_PREFIX}:envelope`,
      title: 'Event envelope',
      description:
        'What the event store stores and the order-events topic publishes: a domain event (`type`, `data`) ' +
        'with its identity, position in its aggregate’s stream and tracing ids. `data` follows the schema ' +
        'of its `type` at its `schemaVersion`. Other properties (such as `recordType`) may be present.',
    },
    generated,
  );
}

const markdownCell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function indexMarkdown(events: readonly CatalogEvent[]): string {
  const relative = (path: string) => path.slice(CATALOG_DIR.length + 1);
  const rows = events.map(
    (e) =>
      `| \`${e.eventType}\` | ${e.schemaVersion} | ${e.aggregate} | [${relative(eventSchemaPath(e))}](${relative(eventSchemaPath(e))}) | ${markdownCell(e.description)} |`,
  );
  return [
    '# Event schema catalog',
    '',
    '<!-- Generated by `npm run catalog` from the zod schemas in lambdas/*/domain; do not edit. -->',
    '',
    'One JSON Schema (draft 2020-12) per event type and schema version, for the `data` of the event;',
    `every event travels in the [envelope](${relative(ENVELOPE_PATH)}), which names its \`type\` and`,
    '`schemaVersion`. Each schema carries `x-event-type`, `x-schema-version` and `x-aggregate-type`.',
    '',
    '| Event type | Version | Aggregate | Schema | Description |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    'Rules the zod schemas enforce that JSON Schema cannot express: strings are stored trimmed, email',
    'addresses lower-cased, and an order lists each SKU at most once.',
    '',
    'Regenerate with `npm run catalog` after changing an event schema; `npm run catalog -- --check`',
    'and the unit tests fail while these files are stale.',
    '',
  ].join('\n');
}

/** Every file of the catalog: path relative to the repository root → content. */
export function buildCatalog(): Map<string, string> {
  const events = catalogEvents();
  const files = new Map<string, string>();
  files.set(ENVELOPE_PATH, toJson(envelopeJsonSchema()));
  for (const e of events) files.set(eventSchemaPath(e), toJson(eventJsonSchema(e)));
  files.set(INDEX_PATH, indexMarkdown(events));
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

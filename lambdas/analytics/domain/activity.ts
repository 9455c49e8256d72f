/**
 * User activity events: the versioned schema clients send to POST /events, the validation of a
 * batch (each event on its own: the valid ones go on, the invalid ones are reported by index), and
 * the enrichment and business rules the windowing applies before aggregating. Pure: no AWS, no
 * Kafka.
 */
import * as z from 'zod';
import type { ActivityFact } from './windowing.js';

/** Kafka topics of the analytics flow. */
export const ANALYTICS_TOPICS = {
  /** Raw activity, keyed by userId (so one user's events stay in order on one partition). */
  userActivity: 'user_activity',
  /** One message per closed window and user, keyed by `<userId>|<window>|<start>`. */
  userMetrics: 'user_metrics',
  /** Records the windowing could not decode, with the reason in a header. */
  deadLetter: 'user_activity_dlt',
  /** Events that arrived after their windows closed (past the grace period). */
  lateEvents: 'user_activity_late',
} as const;

export const ACTIVITY_SCHEMA_VERSION = 1;
export const MAX_EVENTS_PER_REQUEST = 500;

const userId = z
  .string()
  .min(1, 'userId must not be empty')
  .max(128, 'userId must be at most 128 characters');
/** Event time, as an ISO-8601 instant with an offset (`Z` or `+02:00`). */
const occurredAt = z.iso.datetime({ offset: true, error: 'occurredAt must be an ISO-8601 date-time' });
const common = {
  schemaVersion: z.literal(ACTIVITY_SCHEMA_VERSION, {
    error: `schemaVersion must be ${ACTIVITY_SCHEMA_VERSION}`,
  }),
  eventId: z.string().min(1).max(128).optional(),
  userId,
  occurredAt,
  sessionId: z.string().max(128).optional(),
  userAgent: z.string().max(512).optional(),
  /** Set by the platform at ingest (a client's value is replaced). */
  receivedAt: z.iso.datetime({ offset: true }).optional(),
};
const page = z.string().min(1, 'page must not be empty').max(2048);
const sku = z.string().min(1).max(64);
const amount = z.number().int('amount must be an integer in minor units').nonnegative().max(100_000_000);

export const activityEventSchema = z.discriminatedUnion(
  'type',
  [
    z.object({ ...common, type: z.literal('page_view'), page }).strict(),
    z
      .object({
        ...common,
        type: z.literal('add_to_cart'),
        sku,
        quantity: z.number().int().positive().max(1000),
      })
      .strict(),
    z.object({ ...common, type: z.literal('remove_from_cart'), sku }).strict(),
    z.object({ ...common, type: z.literal('search'), query: z.string().max(512) }).strict(),
    z
      .object({
        ...common,
        type: z.literal('purchase'),
        orderId: z.string().min(1).max(128).optional(),
        amount,
        currency: z.string().regex(/^[A-Z]{3}$/, 'currency must be an ISO 4217 code'),
      })
      .strict(),
  ],
  { error: 'type must be one of page_view, add_to_cart, remove_from_cart, search, purchase' },
);
export type ActivityEvent = z.infer<typeof activityEventSchema>;

export const ingestBodySchema = z
  .object({
    events: z
      .array(z.unknown())
      .min(1, 'events must not be empty')
      .max(MAX_EVENTS_PER_REQUEST, `at most ${MAX_EVENTS_PER_REQUEST} events per request`),
  })
  .strict();

export interface FieldError {
  readonly path: string;
  readonly message: string;
}

export interface BatchValidation {
  readonly accepted: { readonly index: number; readonly event: ActivityEvent }[];
  readonly rejected: { readonly index: number; readonly errors: FieldError[] }[];
}

/** Validates each event of a batch on its own. */
export function validateEvents(events: readonly unknown[]): BatchValidation {
  const accepted: BatchValidation['accepted'] = [];
  const rejected: BatchValidation['rejected'] = [];
  events.forEach((raw, index) => {
    const parsed = activityEventSchema.safeParse(raw);
    if (parsed.success) accepted.push({ index, event: parsed.data });
    else
      rejected.push({
        index,
        errors: parsed.error.issues.map((i) => ({
          path: [...i.path].map(String).join('.') || '(event)',
          message: i.code === 'unrecognized_keys' ? `unknown field(s): ${i.keys.join(', ')}` : i.message,
        })),
      });
  });
  return { accepted, rejected };
}

/** Traffic the business rules keep out of the metrics (counted, not aggregated). */
const BOT_USER_AGENT = /bot|crawler|spider|headless|curl\//i;

export type Enriched =
  | { readonly kind: 'fact'; readonly fact: ActivityFact }
  | { readonly kind: 'excluded'; readonly reason: 'bot' };

/** A page as the metrics count it: path only, no query or fragment, lower case, no trailing slash. */
export function normalisePage(raw: string): string {
  const path = raw.split(/[?#]/, 1)[0] ?? '';
  const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path;
  return trimmed.toLowerCase() || '/';
}

/**
 * Enrichment and business rules: bot traffic is excluded; pages are normalised, so
 * `/Shoes/?ref=ad` and `/shoes` are one unique page; the event time becomes epoch milliseconds.
 */
export function enrich(event: ActivityEvent): Enriched {
  if (event.userAgent && BOT_USER_AGENT.test(event.userAgent)) return { kind: 'excluded', reason: 'bot' };
  const eventTime = Date.parse(event.occurredAt);
  switch (event.type) {
    case 'page_view':
      return {
        kind: 'fact',
        fact: { key: event.userId, eventTime, type: 'page_view', page: normalisePage(event.page) },
      };
    case 'purchase':
      return { kind: 'fact', fact: { key: event.userId, eventTime, type: 'purchase', amount: event.amount } };
    default:
      return { kind: 'fact', fact: { key: event.userId, eventTime, type: event.type } };
  }
}

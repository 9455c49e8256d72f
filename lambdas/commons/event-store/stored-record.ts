/**
 * Reads an event store item as a stream consumer sees it (the unmarshalled NewImage of a stream
 * record): an event envelope, or a snapshot that consumers skip. Pure: no AWS types.
 */
import * as z from 'zod';
import { formatIssues } from '../domain/validation-issues.js';
import { isWellFormed } from '../messaging/well-formed.js';
import type { EventEnvelope } from './envelope.js';

const positiveInt = z.int().min(1);

/** Ids are bounded (they become keys, attributes and headers downstream). */
export const MAX_ENVELOPE_ID_LENGTH = 256;

/**
 * A non-empty, bounded id of well-formed text: a lone UTF-16 surrogate (valid JSON, `"\ud800"`)
 * has no UTF-8 form, so no key, attribute or header could carry it faithfully.
 */
const id = z
  .string()
  .min(1)
  .max(MAX_ENVELOPE_ID_LENGTH)
  .refine(isWellFormed, { message: 'must be well-formed Unicode (it holds a lone UTF-16 surrogate)' });

export const storedEnvelopeSchema = z.object({
  eventId: id,
  type: id,
  schemaVersion: positiveInt,
  aggregateType: id,
  aggregateId: id,
  version: positiveInt,
  occurredAt: z.iso.datetime({ offset: true }),
  correlationId: id,
  causationId: id,
  data: z.unknown(),
});

export type StoredRecord =
  | { readonly kind: 'event'; readonly envelope: EventEnvelope }
  | { readonly kind: 'snapshot' }
  | { readonly kind: 'invalid'; readonly reason: string };

/** Classifies an item of the event store table; never throws. */
export function readStoredRecord(item: unknown): StoredRecord {
  if (
    item !== null &&
    typeof item === 'object' &&
    (item as { recordType?: unknown }).recordType === 'snapshot'
  ) {
    return { kind: 'snapshot' };
  }
  const parsed = storedEnvelopeSchema.safeParse(item);
  if (!parsed.success)
    return { kind: 'invalid', reason: `not an event envelope: ${formatIssues(parsed.error)}` };
  return { kind: 'event', envelope: parsed.data as EventEnvelope };
}

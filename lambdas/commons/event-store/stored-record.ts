/**
 * Reads an event store item as a stream consumer sees it (the unmarshalled NewImage of a stream
 * record): an event envelope, or a snapshot that consumers skip. Pure: no AWS types.
 */
import * as z from 'zod';
import { formatIssues } from '../domain/validation-issues.js';
import type { EventEnvelope } from './envelope.js';

const positiveInt = z.int().min(1);

export const storedEnvelopeSchema = z.object({
  eventId: z.string().min(1),
  type: z.string().min(1),
  schemaVersion: positiveInt,
  aggregateType: z.string().min(1),
  aggregateId: z.string().min(1),
  version: positiveInt,
  occurredAt: z.iso.datetime({ offset: true }),
  correlationId: z.string().min(1),
  causationId: z.string().min(1),
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

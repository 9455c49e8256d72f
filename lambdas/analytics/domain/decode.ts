/**
 * From a Kafka record's value to what the windowing counts: a fact, a record the business rules
 * exclude, or a record that cannot be decoded (with the reason, for the dead-letter topic). Pure.
 */
import { firstMalformedString } from '../../commons/messaging/well-formed.js';
import { activityEventSchema, enrich } from './activity.js';
import type { ActivityFact } from './windowing.js';

export type Decoded =
  | { readonly kind: 'fact'; readonly fact: ActivityFact }
  | { readonly kind: 'excluded'; readonly reason: string }
  | { readonly kind: 'dead'; readonly reason: string };

export function decodeActivity(value: string | null): Decoded {
  if (value === null || value === '') return { kind: 'dead', reason: 'the record has no value' };
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch (error) {
    return { kind: 'dead', reason: `the value is not JSON: ${(error as Error).message}` };
  }
  // `"\ud800"` is valid JSON, but a lone surrogate has no UTF-8 form: the user id it sits in
  // would reach Redis and Kafka as something else (or not at all).
  const malformed = firstMalformedString(json);
  if (malformed !== undefined) {
    return { kind: 'dead', reason: `not well-formed Unicode at ${malformed} (a lone UTF-16 surrogate)` };
  }
  const parsed = activityEventSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (i) => `${i.path.map(String).join('.') || '(event)'}: ${i.message}`,
    );
    return { kind: 'dead', reason: `not an activity event: ${issues.join('; ')}` };
  }
  const enriched = enrich(parsed.data);
  if (enriched.kind === 'excluded') return { kind: 'excluded', reason: enriched.reason };
  if (!(enriched.fact.eventTime >= 0)) return { kind: 'dead', reason: 'occurredAt is before 1970' };
  return { kind: 'fact', fact: enriched.fact };
}

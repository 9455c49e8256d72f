/**
 * Poison or transient: a failure no retry can mend (bad data, a validation error) is dead-lettered
 * at once with its reason; anything else is taken for transient and retried, within the bound of
 * the source (SQS's maxReceiveCount, RabbitMQ's delivery limit). Pure.
 */
import * as z from 'zod';
import { formatIssues } from '../domain/validation-issues.js';

/** A message no retry can mend (bad data): dead-lettered at once with this reason. */
export class PoisonMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PoisonMessageError';
  }
}

/** The reason a failure is poison (deterministic: no retry can mend it), or undefined if transient. */
export function poisonReason(error: unknown): string | undefined {
  if (error instanceof PoisonMessageError) return error.message;
  if (error instanceof z.ZodError) return `invalid: ${formatIssues(error)}`;
  return undefined;
}

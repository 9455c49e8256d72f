/**
 * HTTP errors with the platform's error body: `{message, errors: [{path, message}]}`. Pure: the
 * API adapter turns them into API Gateway responses.
 */
import type * as z from 'zod';
import { DomainError } from '../domain/decider.js';
import { ConcurrencyError } from '../event-store/event-store.js';

export interface FieldError {
  /** Dotted path of the field (`items.0.quantity`), `query.<name>`, `path.<name>`, or '' for the whole body. */
  readonly path: string;
  readonly message: string;
}

export interface ErrorBody {
  readonly message: string;
  readonly errors: readonly FieldError[];
  /** Machine-readable reason, e.g. `INVALID_TRANSITION`. */
  readonly code?: string;
}

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly errors: readonly FieldError[] = [],
    readonly code?: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }

  get body(): ErrorBody {
    return { message: this.message, errors: this.errors, ...(this.code ? { code: this.code } : {}) };
  }
}

/** One field error per zod issue; an unknown key is reported at its own path. */
export function fieldErrors(error: z.ZodError, prefix?: string): FieldError[] {
  const pathOf = (path: readonly PropertyKey[]) =>
    [...(prefix ? [prefix] : []), ...path.map(String)].join('.');
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({
          path: pathOf([...issue.path, key]),
          message: `${key} is not a known field`,
        }))
      : [{ path: pathOf(issue.path), message: issue.message }],
  );
}

/** Status code of each domain refusal; a code not listed is 422 (understood, but not allowed). */
const DOMAIN_STATUS: Readonly<Record<string, number>> = {
  INVALID_COMMAND: 400,
  UNKNOWN_COMMAND: 400,
  ORDER_NOT_FOUND: 404,
  CUSTOMER_NOT_FOUND: 404,
  ORDER_EXISTS: 409,
  CUSTOMER_EXISTS: 409,
  INVALID_TRANSITION: 409,
  CUSTOMER_INACTIVE: 409,
  EMAIL_UNCHANGED: 409,
  PAYMENT_AMOUNT_MISMATCH: 409,
};

/** The HttpError for an error a handler let through, or undefined when it is a server fault. */
export function toHttpError(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) return error;
  if (error instanceof DomainError) {
    const status = Object.hasOwn(DOMAIN_STATUS, error.code) ? DOMAIN_STATUS[error.code] : undefined;
    return new HttpError(status ?? 422, error.message, [], error.code);
  }
  if (error instanceof ConcurrencyError) {
    return new HttpError(
      409,
      'The resource was changed by concurrent requests; retry the request',
      [],
      'CONCURRENT_MODIFICATION',
    );
  }
  return undefined;
}

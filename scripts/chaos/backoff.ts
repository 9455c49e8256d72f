/**
 * The careful client's retry policy: which answers are worth another try with the same
 * Idempotency-Key, and how long to wait before it. Pure.
 */
import type { Random } from './random.js';

export interface BackoffPolicy {
  /** Ceiling of the first wait. */
  readonly baseMs: number;
  /** No wait is longer. */
  readonly capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 250, capMs: 15_000 };

/** The ceiling of the wait after the `attempt`-th failure (1-based): base × 2^(attempt−1), capped. */
export function backoffCeilingMs(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 30));
  return Math.min(policy.capMs, policy.baseMs * 2 ** exponent);
}

/**
 * "Full jitter": a uniform wait in [0, ceiling], so that clients who failed together (the API died
 * under all of them) do not come back together. A `Retry-After` the server sent is a floor.
 */
export function backoffMs(
  attempt: number,
  random: Random,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  retryAfterSeconds?: number,
): number {
  const jittered = Math.floor(random() * backoffCeilingMs(attempt, policy));
  const floor = retryAfterSeconds !== undefined && retryAfterSeconds > 0 ? retryAfterSeconds * 1000 : 0;
  return Math.min(Math.max(jittered, floor), Math.max(policy.capMs, floor));
}

/** What one attempt came back with. */
export type AttemptOutcome =
  | { readonly kind: 'response'; readonly status: number; readonly code?: string }
  | { readonly kind: 'network'; readonly error: string };

export type Verdict = 'done' | 'retry' | 'refused';

/** 409s that mean "not now" rather than "no": the same request may succeed a moment later. */
const RETRYABLE_CONFLICTS = new Set(['IDEMPOTENCY_IN_PROGRESS', 'CONCURRENT_MODIFICATION']);

/**
 * POST /orders with an Idempotency-Key: a 2xx is the answer; no answer (connection refused or reset,
 * timeout), a 5xx, a 429 and a 409 "still in progress" or "concurrent modification" are worth the same request again (the key
 * makes it safe); any other 4xx is final (our request is wrong: retrying would not help).
 */
export function placeVerdict(outcome: AttemptOutcome): Verdict {
  if (outcome.kind === 'network') return 'retry';
  const { status } = outcome;
  if (status >= 200 && status < 300) return 'done';
  if (status >= 500 || status === 429) return 'retry';
  if (status === 409 && RETRYABLE_CONFLICTS.has(outcome.code ?? '')) return 'retry';
  return 'refused';
}

/**
 * POST /orders/{id}/cancel: 202 cancelled, or 409 "no longer cancellable" (the order moved on: also a
 * final answer); the rest as for placing. Cancelling twice is harmless (the second is a 409).
 */
export function cancelVerdict(outcome: AttemptOutcome): Verdict {
  if (outcome.kind === 'response' && outcome.status === 409 && !RETRYABLE_CONFLICTS.has(outcome.code ?? '')) {
    return 'done';
  }
  return placeVerdict(outcome);
}

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"):
 * the delay before attempt n+1 is uniform in [0, min(cap, base * 2^(n-1))).
 */
export interface BackoffOptions {
  /** @default 2 (seconds, for SQS visibility timeouts) */
  readonly base?: number;
  /** @default 300 */
  readonly cap?: number;
  /** Random source in [0, 1). @default Math.random */
  readonly random?: () => number;
}

/** The delay after failed attempt `attempt` (1-based), in the unit of `base` and `cap`, rounded up. */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const base = options.base ?? 2;
  const cap = options.cap ?? 300;
  const ceiling = Math.min(cap, base * 2 ** Math.max(0, attempt - 1));
  return Math.max(1, Math.ceil((options.random ?? Math.random)() * ceiling));
}

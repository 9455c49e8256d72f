/** What an event source needs from a function: the runtime's LocalFunction fits this shape. */
export type InvokeOutcome =
  | { readonly ok: true; readonly result: unknown; readonly requestId: string }
  | {
      readonly ok: false;
      readonly kind: string;
      readonly errorType: string;
      readonly errorMessage: string;
      readonly requestId: string;
    };

export interface Invoker {
  invoke(event: unknown): Promise<InvokeOutcome>;
}

export interface EventSource {
  readonly description: string;
  start(): void;
  stop(): Promise<void>;
}

export type Log = (line: string) => void;

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    // The listener goes when the timer fires, so long-lived signals do not pile them up.
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * Reads the item identifiers of a partial batch response. Lambda treats a malformed response
 * (an identifier that is empty or not in the batch) as a failure of the whole batch.
 */
export function batchItemFailures(result: unknown, ids: readonly string[]): Set<string> | 'all' {
  if (result === null || typeof result !== 'object' || !('batchItemFailures' in result)) return new Set();
  const failures = (result as { batchItemFailures: unknown }).batchItemFailures;
  if (failures === null || failures === undefined) return new Set();
  if (!Array.isArray(failures)) return 'all';
  const known = new Set(ids);
  const out = new Set<string>();
  for (const f of failures) {
    const id = (f as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !known.has(id)) return 'all';
    out.add(id);
  }
  return out;
}

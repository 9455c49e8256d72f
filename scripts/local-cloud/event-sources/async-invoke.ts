import type { InvokeOutcome, Invoker, Log } from './types.js';

export interface AsyncInvokeConfig {
  readonly functionName: string;
  /** Lambda retries a failed asynchronous invocation twice by default. */
  readonly maximumRetryAttempts?: number;
  /** EventInvokeConfig OnFailure destination. */
  readonly onFailure?: (record: unknown) => Promise<void>;
  /** Delay before a retry; Lambda waits about a minute, then two. @default 1000 */
  readonly retryDelayMs?: number;
}

/**
 * Invokes a function the way Lambda's asynchronous invocation does: retries on error, then hands
 * the event with its error to the on-failure destination (or logs the drop when there is none).
 */
export async function invokeAsync(
  fn: Invoker,
  event: unknown,
  config: AsyncInvokeConfig,
  log: Log,
): Promise<InvokeOutcome> {
  const retries = config.maximumRetryAttempts ?? 2;
  let outcome: InvokeOutcome = await fn.invoke(event);
  for (let attempt = 1; !outcome.ok && attempt <= retries; attempt++) {
    await new Promise((r) => setTimeout(r, (config.retryDelayMs ?? 1000) * attempt));
    outcome = await fn.invoke(event);
  }
  if (!outcome.ok) {
    const record = {
      version: '1.0',
      timestamp: new Date().toISOString(),
      requestContext: {
        requestId: outcome.requestId,
        functionArn: config.functionName,
        condition: 'RetriesExhausted',
        approximateInvokeCount: retries + 1,
      },
      requestPayload: event,
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: outcome.errorType, errorMessage: outcome.errorMessage },
    };
    if (config.onFailure) await config.onFailure(record);
    else
      log(
        `${config.functionName}: async event dropped after ${retries + 1} attempts (no on-failure destination)`,
      );
  }
  return outcome;
}

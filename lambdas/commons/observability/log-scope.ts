/**
 * Log keys scoped to an asynchronous call chain: one record's processing. Powertools' own
 * `appendKeys` are global to the container, so records a batch processes concurrently (the
 * Powertools batch processor runs them in parallel) would overwrite and remove each other's
 * correlation id. Keys set with `runWithLogKeys` live in an AsyncLocalStorage instead, and the
 * shared Logger's formatter (`ScopedKeysLogFormatter`) adds them to every line logged inside.
 *
 * The formatter writes Powertools' standard structure (as its default formatter does without
 * `logRecordOrder`), then the appended keys and the log call's own, then the scoped keys.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { LogFormatter, LogItem } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';

type ScopedKeys = Readonly<Record<string, string | number>>;

const scope = new AsyncLocalStorage<ScopedKeys>();

/** The keys of the current scope (empty outside any). */
export const scopedLogKeys = (): ScopedKeys => scope.getStore() ?? {};

/** Runs `work` with `keys` added to the enclosing scope's, for every line it logs. */
export function runWithLogKeys<T>(keys: ScopedKeys, work: () => T): T {
  return scope.run({ ...scope.getStore(), ...keys }, work);
}

export class ScopedKeysLogFormatter extends LogFormatter {
  override formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    const base: LogAttributes = {
      level: attributes.logLevel,
      message: attributes.message,
      timestamp: this.formatTimestamp(attributes.timestamp),
      service: attributes.serviceName,
      cold_start: attributes.lambdaContext?.coldStart,
      function_arn: attributes.lambdaContext?.invokedFunctionArn,
      function_memory_size: attributes.lambdaContext?.memoryLimitInMB,
      function_name: attributes.lambdaContext?.functionName,
      function_request_id: attributes.lambdaContext?.awsRequestId,
      sampling_rate: attributes.sampleRateValue,
      xray_trace_id: attributes.xRayTraceId,
      tenant_id: attributes.lambdaContext?.tenantId,
    };
    return new LogItem({ attributes: base }).addAttributes({ ...additional, ...scope.getStore() });
  }
}

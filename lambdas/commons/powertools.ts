/**
 * Powertools instances shared by every handler of a container: created once, configured from
 * the environment `PlatformFunction` sets (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE,
 * POWERTOOLS_LOG_LEVEL). The Logger's formatter adds the keys of the current record's scope
 * (its correlation id: `observability/correlation.ts`) to every line.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { ScopedKeysLogFormatter } from './observability/log-scope.js';

export const logger = new Logger({ logFormatter: new ScopedKeysLogFormatter() });
export const metrics = new Metrics();
export const tracer = new Tracer();

/**
 * What every handler reports, the same way: the platform's metric names (EMF, through the shared
 * Powertools Metrics, namespace and service from POWERTOOLS_METRICS_NAMESPACE and
 * POWERTOOLS_SERVICE_NAME), and one instrumented invocation: the Lambda context on the logs, the
 * cold start, a `## <handler>` trace subsegment (Lambda's own segment takes no annotations),
 * `BatchSize`, `ProcessingTime`, and the flush of the stored metrics, whatever happens.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { logger, metrics, tracer } from '../powertools.js';

/** The metric names every handler shares (each handler adds its own, domain-specific ones). */
export const PlatformMetric = {
  /** Events or messages this function produced to the next hop (event store, SNS, Kafka, RabbitMQ, SQS). */
  EventsProduced: 'EventsProduced',
  /** Records or messages handled successfully. */
  EventsConsumed: 'EventsConsumed',
  /** Records or messages that failed (retried, or dead-lettered). */
  EventsFailed: 'EventsFailed',
  /** Duration of the invocation (a batch, or a request), in milliseconds. */
  ProcessingTime: 'ProcessingTime',
  /** Records in the invocation's batch. */
  BatchSize: 'BatchSize',
} as const;

export type EventCountMetric = 'EventsProduced' | 'EventsConsumed' | 'EventsFailed';

/** Adds `count` to one of the event counters of this invocation. */
export function countEvents(name: EventCountMetric, count = 1): void {
  metrics.addMetric(name, MetricUnit.Count, count);
}

/**
 * Runs `work` in the handler's trace subsegment (as Powertools' `captureLambdaHandler` does), so
 * that annotations land somewhere; outside Lambda, or with tracing off, it just runs `work`.
 */
export async function inHandlerSegment<T>(work: () => Promise<T>): Promise<T> {
  if (!tracer.isTracingEnabled()) return work();
  const segment = tracer.getSegment();
  if (!segment) return work();
  const subsegment = segment.addNewSubsegment(`## ${process.env._HANDLER ?? 'handler'}`);
  tracer.setSegment(subsegment);
  tracer.annotateColdStart();
  tracer.addServiceNameAnnotation();
  try {
    return await work();
  } catch (error) {
    tracer.addErrorAsMetadata(error as Error);
    throw error;
  } finally {
    try {
      subsegment.close();
    } catch (error) {
      logger.warn('Trace subsegment not closed', { error: error as Error });
    }
    tracer.setSegment(segment);
  }
}

export interface InvocationOptions {
  /** Records in the batch: emitted as `BatchSize` and annotated on the trace. */
  readonly batchSize?: number;
}

/**
 * One instrumented invocation of a handler (see the module's comment). `ProcessingTime` covers
 * `work`, failed or not; the stored metrics are flushed once, at the end.
 */
export async function instrumentedInvocation<T>(
  context: Context | undefined,
  options: InvocationOptions,
  work: () => Promise<T>,
): Promise<T> {
  const started = performance.now();
  if (context) logger.addContext(context);
  metrics.captureColdStartMetric();
  try {
    return await inHandlerSegment(async () => {
      if (options.batchSize !== undefined) {
        metrics.addMetric(PlatformMetric.BatchSize, MetricUnit.Count, options.batchSize);
        tracer.putAnnotation('records', options.batchSize);
      }
      return work();
    });
  } finally {
    metrics.addMetric(PlatformMetric.ProcessingTime, MetricUnit.Milliseconds, performance.now() - started);
    metrics.publishStoredMetrics();
  }
}

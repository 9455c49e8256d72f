/**
 * Scheduled e-mail dispatcher (EventBridge, every minute): sends what the notification consumers
 * left in the e-mail queue (a backlog, tasks put back after a failure, tasks whose dispatcher died
 * and whose lease expired), highest priority first, while the invocation has time.
 */
import type { Context } from 'aws-lambda';
import { logger, metrics } from '../../commons/powertools.js';
import { drainEmails } from '../adapters/email-dispatcher.js';
import type { DrainReport } from '../domain/email-dispatch.js';

const MARGIN_MS = 5_000;

export async function handler(_event: unknown, context: Context): Promise<Omit<DrainReport, 'order'>> {
  logger.addContext(context);
  try {
    const { order: _order, ...report } = await drainEmails({
      consumerId: `${context.logStreamName}/${context.awsRequestId}`,
      shouldContinue: () => context.getRemainingTimeInMillis() > MARGIN_MS,
    });
    return report;
  } finally {
    metrics.publishStoredMetrics();
  }
}

/**
 * Scheduled e-mail dispatcher (EventBridge, every minute): first queues again the e-mails still
 * owed in their durable markers that Redis no longer holds (a restart that lost data) or whose
 * sender died mid-send, then sends what is in the e-mail queue (a backlog, tasks put back after a
 * failure, tasks whose dispatcher died and whose lease expired), highest priority first, while the
 * invocation has time. A failed sweep does not stop the drain.
 */
import type { Context } from 'aws-lambda';
import { logger, metrics } from '../../commons/powertools.js';
import { drainEmails, sweepEmails } from '../adapters/email-dispatcher.js';
import type { DrainReport } from '../domain/email-dispatch.js';

const MARGIN_MS = 5_000;

export async function handler(_event: unknown, context: Context): Promise<Omit<DrainReport, 'order'>> {
  logger.addContext(context);
  try {
    await sweepEmails().catch((error: unknown) =>
      logger.error('Sweep of owed e-mails failed', error as Error),
    );
    const { order: _order, ...report } = await drainEmails({
      consumerId: `${context.logStreamName}/${context.awsRequestId}`,
      shouldContinue: () => context.getRemainingTimeInMillis() > MARGIN_MS,
    });
    return report;
  } finally {
    metrics.publishStoredMetrics();
  }
}

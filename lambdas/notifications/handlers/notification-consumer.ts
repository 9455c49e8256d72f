/**
 * Notification service: one e-mail per notifying event (welcome, order received, payment, shipped,
 * failed, cancelled), exactly one per (subject, event type) under redelivery: none missing, none
 * twice (see `domain/email-outbox.ts` for the design and its one remaining window).
 *
 * Each event is rendered for its recipient (from the read models), recorded as owed in its durable
 * marker (before the event is acknowledged: what Redis loses is not lost), then put on the Redis
 * priority queue, transactional e-mails above bulk ones, with its dedupe key as the task id. An
 * event whose e-mail was sent already is logged as `Event ignored`. After the batch, the
 * invocation sends what is queued, highest priority first, while it has time; the scheduled
 * dispatcher (`email-dispatcher.ts`) sweeps the owed e-mails Redis lost and sends what is left.
 * The send itself (claim, provider, circuit breaker, record) is in `adapters/email-dispatcher.ts`.
 */

import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { documentClient } from '../../commons/clients/dynamodb.js';
import { DomainError } from '../../commons/domain/decider.js';
import { requiredEnv } from '../../commons/env.js';
import type { EventEnvelope } from '../../commons/event-store/envelope.js';
import { RetryLaterError, sqsEventConsumer } from '../../commons/messaging/sqs-event-consumer.js';
import { logger, metrics } from '../../commons/powertools.js';
import { CUSTOMERS_VIEW_KEY } from '../../customers/read-model/table-schema.js';
import { ORDERS_VIEW_KEY } from '../../orders/read-model/table-schema.js';
import { drainEmails, requestEmail } from '../adapters/email-dispatcher.js';
import { emailKey, priorityOf } from '../domain/email-dispatch.js';
import { isNotifying, renderEmail, subjectIdOf } from '../domain/emails.js';
import { decideOrderNotification } from '../domain/notification-guard.js';

const db = documentClient();
const customersTable = requiredEnv('CUSTOMERS_VIEW_TABLE_NAME');
const ordersTable = requiredEnv('ORDERS_VIEW_TABLE_NAME');
/** Time kept back for the end of the invocation when draining after a batch. */
const DRAIN_MARGIN_MS = 5_000;

/**
 * The recipient, from the read models (never from the message: a forged event cannot redirect an
 * e-mail). An order event must be folded into the orders read model already and agree with the
 * order's status (`decideOrderNotification`); the read models lag events a little, so an event
 * they do not show yet is asked again shortly (and dead-lettered with the reason if it never shows).
 */
async function recipientOf(event: EventEnvelope): Promise<string | undefined> {
  let customerId = event.aggregateId;
  if (event.type !== 'CustomerRegistered') {
    const { Item } = await db.send(
      new GetCommand({
        TableName: ordersTable,
        Key: { [ORDERS_VIEW_KEY]: event.aggregateId },
        ConsistentRead: true,
      }),
    );
    const decision = decideOrderNotification(
      Item && {
        customerId: String(Item.customerId),
        status: String(Item.status),
        version: Number(Item.version),
      },
      event,
    );
    if (decision.kind === 'wait') throw new RetryLaterError(2, decision.reason);
    customerId = decision.customerId;
  }
  const { Item } = await db.send(
    new GetCommand({
      TableName: customersTable,
      Key: { [CUSTOMERS_VIEW_KEY]: customerId },
      ConsistentRead: true,
    }),
  );
  if (!Item && event.type === 'CustomerRegistered') {
    throw new RetryLaterError(2, `customer ${customerId} not in the read model yet`);
  }
  return typeof Item?.email === 'string' ? Item.email : undefined;
}

const enqueue = sqsEventConsumer(async (event) => {
  const type = event.type;
  if (!isNotifying(type)) {
    logger.warn('Event not for this service (check the subscription filter)', { type });
    return;
  }
  let to: string | undefined;
  try {
    to = await recipientOf(event);
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    logger.info('Event ignored: no state change', {
      aggregateId: event.aggregateId,
      code: error.code,
      reason: error.message,
    });
    return;
  }
  if (!to) {
    logger.info('No recipient: the customer is not registered', { aggregateId: event.aggregateId });
    return;
  }
  const email = renderEmail(event, to);
  if (!email) return;
  const key = emailKey(subjectIdOf(event), type);
  const outcome = await requestEmail({
    key,
    eventId: event.eventId,
    correlationId: event.correlationId,
    email,
  });
  logger.info('E-mail requested', { key, priority: priorityOf(type), outcome });
});

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const response = await enqueue(event, context);
  try {
    await drainEmails({
      consumerId: `${context.logStreamName}/${context.awsRequestId}`,
      shouldContinue: () => context.getRemainingTimeInMillis() > DRAIN_MARGIN_MS,
    });
  } catch (error) {
    // The e-mails are safe in the queue; the scheduled dispatcher sends them.
    logger.error('Drain after the batch failed', error as Error);
  } finally {
    metrics.publishStoredMetrics();
  }
  return response;
}

/**
 * Notification service: one e-mail per notifying event (welcome, order received, payment, shipped,
 * failed, cancelled), at most once per (subject, event type) even under redelivery: a conditional
 * marker in the operational-state table is written before sending and completed after it. The
 * recipient comes from the read models; the provider (SES, or a recording test provider chosen by
 * configuration) sits behind its own circuit breaker.
 */

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { SESClient } from '@aws-sdk/client-ses';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../commons/clients/dynamodb.js';
import { requiredEnv } from '../../commons/env.js';
import type { EventEnvelope } from '../../commons/event-store/envelope.js';
import { RetryLaterError, sqsEventConsumer } from '../../commons/messaging/sqs-event-consumer.js';
import { logger, tracer } from '../../commons/powertools.js';
import { CircuitBreaker, CircuitOpenError } from '../../commons/resilience/circuit-breaker.js';
import {
  DynamoDbCircuitStateStore,
  OPERATIONAL_STATE_KEY,
} from '../../commons/resilience/dynamodb-circuit-state-store.js';
import { CUSTOMERS_VIEW_KEY } from '../../customers/read-model/table-schema.js';
import { ORDERS_VIEW_KEY } from '../../orders/read-model/table-schema.js';
import { SesEmailProvider } from '../adapters/ses-email-provider.js';
import {
  type EmailProvider,
  isNotifying,
  LoggingEmailProvider,
  renderEmail,
  subjectIdOf,
} from '../domain/emails.js';

const db = documentClient();
const stateTable = requiredEnv('OPERATIONAL_STATE_TABLE_NAME');
const customersTable = requiredEnv('CUSTOMERS_VIEW_TABLE_NAME');
const ordersTable = requiredEnv('ORDERS_VIEW_TABLE_NAME');
const providerName = process.env.EMAIL_PROVIDER ?? 'test';
const provider: EmailProvider =
  providerName === 'ses'
    ? new SesEmailProvider(tracer.captureAWSv3Client(new SESClient({})), {
        from: requiredEnv('EMAIL_FROM'),
        templatePrefix: requiredEnv('EMAIL_TEMPLATE_PREFIX'),
        configurationSet: process.env.EMAIL_CONFIGURATION_SET || undefined,
      })
    : new LoggingEmailProvider();
const breaker = new CircuitBreaker({
  name: 'email-provider',
  store: new DynamoDbCircuitStateStore(db, stateTable),
  failureThreshold: Number(process.env.BREAKER_FAILURE_THRESHOLD ?? 5),
  openMs: Number(process.env.BREAKER_OPEN_SECONDS ?? 30) * 1000,
});

async function recipientOf(event: EventEnvelope): Promise<string | undefined> {
  const data = event.data as Record<string, unknown>;
  if (event.type === 'CustomerRegistered') return String(data.email);
  let customerId = typeof data.customerId === 'string' ? data.customerId : undefined;
  if (!customerId) {
    const { Item } = await db.send(
      new GetCommand({ TableName: ordersTable, Key: { [ORDERS_VIEW_KEY]: event.aggregateId } }),
    );
    // The read model lags the event a little: ask again shortly.
    if (!Item) throw new RetryLaterError(2, `order ${event.aggregateId} not in the read model yet`);
    customerId = String(Item.customerId);
  }
  const { Item } = await db.send(
    new GetCommand({ TableName: customersTable, Key: { [CUSTOMERS_VIEW_KEY]: customerId } }),
  );
  return typeof Item?.email === 'string' ? Item.email : undefined;
}

export const handler = sqsEventConsumer(async (event) => {
  if (!isNotifying(event.type)) {
    logger.warn('Event not for this service (check the subscription filter)', { type: event.type });
    return;
  }
  const to = await recipientOf(event);
  const key = { [OPERATIONAL_STATE_KEY]: `email#${subjectIdOf(event)}#${event.type}` };
  if (!to) {
    logger.info('No recipient: the customer is not registered', { aggregateId: event.aggregateId });
    return;
  }
  const email = renderEmail(event, to);
  if (!email) return;
  try {
    await db.send(
      new PutCommand({
        TableName: stateTable,
        Item: { ...key, status: 'sending', to, subject: email.subject, eventId: event.eventId },
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': OPERATIONAL_STATE_KEY },
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) {
      logger.info('E-mail already sent for this event type', { key: key[OPERATIONAL_STATE_KEY] });
      return;
    }
    throw error;
  }
  try {
    const { messageId } = await breaker.call(() => provider.send(email));
    await db.send(
      new UpdateCommand({
        TableName: stateTable,
        Key: key,
        UpdateExpression: 'SET #status = :sent, messageId = :id, sentAt = :at, provider = :provider',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':sent': 'sent',
          ':id': messageId,
          ':at': new Date().toISOString(),
          ':provider': providerName,
        },
      }),
    );
    logger.info('E-mail sent', { type: event.type, messageId });
  } catch (error) {
    // Not sent: free the marker so that the retry may send it.
    await db.send(new DeleteCommand({ TableName: stateTable, Key: key }));
    if (error instanceof CircuitOpenError) {
      throw new RetryLaterError(Math.ceil(error.retryAfterMs / 1000), error.message, { cause: error });
    }
    throw error;
  }
});

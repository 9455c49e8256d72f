/**
 * Payment service: charges reserved orders through the payment-provider port behind a circuit
 * breaker shared by all instances, and records PaymentCompleted or PaymentFailed on the order.
 * A decline is final; a transient failure comes back after an exponential, jittered visibility
 * timeout; an open circuit puts the message back until the breaker's rest is over.
 * Subscribed to InventoryReserved.
 *
 * Whether to charge is decided on the order as the event store has it now (`decidePayment`): only
 * an order awaiting payment, on an event of its own stream, with one provider idempotency key per
 * order; a duplicate, stale or forged InventoryReserved is logged as `Event ignored` and charges
 * nothing. The circuit breaker sees only real charge attempts.
 */

import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { documentClient } from '../../commons/clients/dynamodb.js';
import { DomainError } from '../../commons/domain/decider.js';
import { requiredEnv } from '../../commons/env.js';
import {
  PoisonMessageError,
  RetryLaterError,
  sqsEventConsumer,
} from '../../commons/messaging/sqs-event-consumer.js';
import { logger, tracer } from '../../commons/powertools.js';
import { backoffDelay } from '../../commons/resilience/backoff.js';
import { CircuitBreaker, CircuitOpenError } from '../../commons/resilience/circuit-breaker.js';
import { DynamoDbCircuitStateStore } from '../../commons/resilience/dynamodb-circuit-state-store.js';
import { orderCommandsFromEnv } from '../../orders/application/order-commands-from-env.js';
import { orderEventDataSchemas } from '../../orders/domain/order-schemas.js';
import { HttpPaymentProvider } from '../adapters/http-payment-provider.js';
import { RecordingPaymentProvider } from '../adapters/recording-payment-provider.js';
import { decidePayment } from '../domain/payment-policy.js';
import {
  PaymentDeclinedError,
  type PaymentProvider,
  TestPaymentProvider,
  TransientPaymentError,
} from '../domain/payment-provider.js';

const orders = orderCommandsFromEnv();

function providerFromEnv(): PaymentProvider {
  if ((process.env.PAYMENT_PROVIDER ?? 'test') === 'test') {
    return new RecordingPaymentProvider(
      new TestPaymentProvider(),
      documentClient(),
      requiredEnv('OPERATIONAL_STATE_TABLE_NAME'),
    );
  }
  const secretId = requiredEnv('PAYMENT_API_KEY_SECRET_ARN');
  let apiKey: Promise<string> | undefined;
  const secrets = tracer.captureAWSv3Client(new SecretsManagerClient({}));
  return new HttpPaymentProvider({
    endpoint: requiredEnv('PAYMENT_PROVIDER_URL'),
    apiKey: () => {
      apiKey ??= secrets
        .send(new GetSecretValueCommand({ SecretId: secretId }))
        .then((s) => s.SecretString ?? '');
      return apiKey;
    },
  });
}

const provider = providerFromEnv();
const breaker = new CircuitBreaker({
  name: 'payment-provider',
  store: new DynamoDbCircuitStateStore(documentClient(), requiredEnv('OPERATIONAL_STATE_TABLE_NAME')),
  failureThreshold: Number(process.env.BREAKER_FAILURE_THRESHOLD ?? 5),
  openMs: Number(process.env.BREAKER_OPEN_SECONDS ?? 30) * 1000,
  isFailure: (error) => !(error instanceof PaymentDeclinedError),
});

export const handler = sqsEventConsumer(async (event, { attempt }) => {
  if (event.type !== 'InventoryReserved') {
    logger.warn('Event not for this service (check the subscription filter)', { type: event.type });
    return;
  }
  const parsed = orderEventDataSchemas.InventoryReserved.safeParse(event.data);
  if (!parsed.success) throw new PoisonMessageError(`InventoryReserved data: ${parsed.error.message}`);
  const { orderId } = parsed.data;
  const meta = { correlationId: event.correlationId, causationId: event.eventId };
  const order = await orders.loadOrder(orderId);
  let decision: ReturnType<typeof decidePayment>;
  try {
    decision = decidePayment(order, {
      eventId: event.eventId,
      type: event.type,
      aggregateId: event.aggregateId,
      version: event.version,
    });
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    logger.info('Event ignored: no state change', { orderId, code: error.code, reason: error.message });
    return;
  }
  if (decision.kind === 'fail') {
    await orders.record(orderId, { type: 'RecordPaymentFailed', data: { reason: decision.reason } }, meta);
    return;
  }
  const { request } = decision;
  try {
    const { paymentId } = await breaker.call(() => provider.charge(request, { attempt }));
    const recorded = await orders.record(
      orderId,
      { type: 'RecordPaymentCompleted', data: { paymentId, amount: request.amount } },
      meta,
    );
    logger.info('Payment completed', { orderId, paymentId, recorded });
  } catch (error) {
    if (error instanceof PaymentDeclinedError) {
      await orders.record(orderId, { type: 'RecordPaymentFailed', data: { reason: error.reason } }, meta);
      logger.info('Payment declined', { orderId, reason: error.reason });
      return;
    }
    if (error instanceof CircuitOpenError) {
      throw new RetryLaterError(Math.ceil(error.retryAfterMs / 1000), error.message, { cause: error });
    }
    if (error instanceof TransientPaymentError) {
      throw new RetryLaterError(backoffDelay(attempt, { base: 1, cap: 60 }), error.message, { cause: error });
    }
    throw error;
  }
});

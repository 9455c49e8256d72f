/**
 * The warehouse's shipment confirmations, from the `shipment_confirmations` queue through the
 * Amazon MQ event source, fed back into the order flow as ConfirmShipment (idempotent: a
 * redelivered confirmation decides nothing).
 *
 * A message that cannot be parsed, or that the order refuses (unknown order, another shipment),
 * is dead-lettered with its reason: published to the queue's dead-letter exchange with an
 * `x-platform-reason` header and counted as done, so it never cycles. Any other failure fails the
 * invocation: Lambda hands the batch back to the broker, whose delivery limit bounds the retries.
 *
 * Correlation: the message's AMQP `correlationId` property, else its `correlationId` header, else
 * `shipment-<shipmentId>`, is on every log line of the message, on the events ConfirmShipment
 * appends, and on a dead letter (property and header). Metrics: BatchSize, EventsConsumed
 * (recorded), EventsFailed (dead-lettered, or failing the invocation), EventsProduced (events
 * appended), ProcessingTime, ShipmentsConfirmed, ConfirmationsDeadLettered.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { DomainError } from '../../commons/domain/decider.js';
import {
  bodyText,
  queueOf,
  type RabbitMqMessage,
  rabbitMqEventSchema,
} from '../../commons/messaging/rabbitmq-event.js';
import {
  correlationIdOf,
  correlationIdOfRabbitMqMessage,
  withCorrelation,
} from '../../commons/observability/correlation.js';
import { countEvents, instrumentedInvocation } from '../../commons/observability/invocation.js';
import { logger, metrics } from '../../commons/powertools.js';
import { publishConfirmed, rabbitMqFromEnv } from '../../commons/rabbitmq/connection.js';
import { orderCommandsFromEnv } from '../../orders/application/order-commands-from-env.js';
import { ORDER_EVENTS_DLX } from '../domain/order-routing.js';
import { type DecodedConfirmation, decodeConfirmation } from '../domain/shipment-confirmation.js';

const orders = orderCommandsFromEnv();

export const handler = async (event: unknown, context: Context): Promise<void> => {
  const parsed = rabbitMqEventSchema.parse(event);
  const batchSize = Object.values(parsed.rmqMessagesByQueue).reduce((n, m) => n + m.length, 0);
  await instrumentedInvocation(context, { batchSize }, async () => {
    for (const [key, messages] of Object.entries(parsed.rmqMessagesByQueue)) {
      const { queue } = queueOf(key);
      for (const message of messages) {
        const body = bodyText(message);
        const decoded = decodeConfirmation(body);
        const correlationId =
          correlationIdOfRabbitMqMessage(message) ??
          (decoded.ok ? correlationIdOf(`shipment-${decoded.confirmation.shipmentId}`) : undefined);
        await withCorrelation(correlationId, () =>
          handleMessage({ queue, message, body, decoded, correlationId }),
        );
      }
    }
  });
};

async function handleMessage({
  queue,
  message,
  body,
  decoded,
  correlationId,
}: {
  queue: string;
  message: RabbitMqMessage;
  body: string;
  decoded: DecodedConfirmation;
  correlationId: string | undefined;
}): Promise<void> {
  const messageId = message.basicProperties.messageId ?? undefined;
  let reason: string | undefined = decoded.ok ? undefined : decoded.reason;
  if (decoded.ok && correlationId !== undefined) {
    const { orderId, ...data } = decoded.confirmation;
    try {
      const outcome = await orders.record(
        orderId,
        { type: 'ConfirmShipment', data },
        { correlationId, causationId: messageId ?? correlationId },
      );
      if (outcome === 'stale') {
        reason = `order ${orderId} cannot take the confirmation: unknown, or not shipped`;
      } else {
        logger.info('Shipment confirmed', { orderId, shipmentId: data.shipmentId });
        metrics.addMetric('ShipmentsConfirmed', MetricUnit.Count, 1);
        countEvents('EventsConsumed');
      }
    } catch (error) {
      if (!(error instanceof DomainError)) {
        countEvents('EventsFailed');
        throw error;
      }
      reason = `${error.code}: ${error.message}`;
    }
  }
  if (reason === undefined) return;
  const { channel } = await rabbitMqFromEnv();
  await publishConfirmed(channel, ORDER_EVENTS_DLX, [
    {
      routingKey: queue,
      body,
      ...(messageId ? { messageId } : {}),
      ...(correlationId ? { correlationId } : {}),
      headers: { 'x-platform-reason': reason.slice(0, 1000), 'x-platform-source-queue': queue },
    },
  ]);
  logger.error('Confirmation dead-lettered', { reason, queue });
  metrics.addMetric('ConfirmationsDeadLettered', MetricUnit.Count, 1);
  countEvents('EventsFailed');
}

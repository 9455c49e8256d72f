/**
 * The warehouse's shipment confirmations, from the `shipment_confirmations` queue through the
 * Amazon MQ event source, fed back into the order flow as ConfirmShipment (idempotent: a
 * redelivered confirmation decides nothing).
 *
 * A message that cannot be parsed, or that the order refuses (unknown order, another shipment),
 * is dead-lettered with its reason: published to the queue's dead-letter exchange with an
 * `x-platform-reason` header and counted as done, so it never cycles. Any other failure fails the
 * invocation: Lambda hands the batch back to the broker, whose delivery limit bounds the retries.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { DomainError } from '../../commons/domain/decider.js';
import { bodyText, queueOf, rabbitMqEventSchema } from '../../commons/messaging/rabbitmq-event.js';
import { logger, metrics } from '../../commons/powertools.js';
import { publishConfirmed, rabbitMqFromEnv } from '../../commons/rabbitmq/connection.js';
import { orderCommandsFromEnv } from '../../orders/application/order-commands-from-env.js';
import { ORDER_EVENTS_DLX } from '../domain/order-routing.js';
import { decodeConfirmation } from '../domain/shipment-confirmation.js';

const orders = orderCommandsFromEnv();

export const handler = async (event: unknown, context: Context): Promise<void> => {
  logger.addContext(context);
  metrics.captureColdStartMetric();
  try {
    const parsed = rabbitMqEventSchema.parse(event);
    for (const [key, messages] of Object.entries(parsed.rmqMessagesByQueue)) {
      const { queue } = queueOf(key);
      for (const message of messages) {
        const body = bodyText(message);
        const decoded = decodeConfirmation(body);
        let reason: string | undefined = decoded.ok ? undefined : decoded.reason;
        if (decoded.ok) {
          const { orderId, ...data } = decoded.confirmation;
          const correlationId = message.basicProperties.correlationId ?? `shipment-${data.shipmentId}`;
          try {
            const outcome = await orders.record(
              orderId,
              { type: 'ConfirmShipment', data },
              { correlationId, causationId: message.basicProperties.messageId ?? correlationId },
            );
            if (outcome === 'stale') {
              reason = `order ${orderId} cannot take the confirmation: unknown, or not shipped`;
            } else {
              logger.info('Shipment confirmed', { orderId, shipmentId: data.shipmentId });
              metrics.addMetric('ShipmentsConfirmed', MetricUnit.Count, 1);
            }
          } catch (error) {
            if (!(error instanceof DomainError)) throw error;
            reason = `${error.code}: ${error.message}`;
          }
        }
        if (reason !== undefined) {
          const { channel } = await rabbitMqFromEnv();
          await publishConfirmed(channel, ORDER_EVENTS_DLX, [
            {
              routingKey: queue,
              body,
              ...(message.basicProperties.messageId ? { messageId: message.basicProperties.messageId } : {}),
              headers: { 'x-platform-reason': reason.slice(0, 1000), 'x-platform-source-queue': queue },
            },
          ]);
          logger.error('Confirmation dead-lettered', { reason, queue });
          metrics.addMetric('ConfirmationsDeadLettered', MetricUnit.Count, 1);
        }
      }
    }
  } finally {
    metrics.publishStoredMetrics();
  }
};

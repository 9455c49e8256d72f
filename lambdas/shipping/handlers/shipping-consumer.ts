/**
 * Shipping service: creates the shipment of a paid order and records OrderShipped. The shipment id
 * is derived from the order, so a redelivery cannot create a second shipment.
 * Subscribed to PaymentCompleted.
 */
import { PoisonMessageError, sqsEventConsumer } from '../../commons/messaging/sqs-event-consumer.js';
import { logger } from '../../commons/powertools.js';
import { orderCommandsFromEnv } from '../../orders/application/order-commands-from-env.js';
import { orderEventDataSchemas } from '../../orders/domain/order-schemas.js';

const orders = orderCommandsFromEnv();
const carrier = process.env.SHIPPING_CARRIER ?? 'DHL';

export const handler = sqsEventConsumer(async (event) => {
  if (event.type !== 'PaymentCompleted') {
    logger.warn('Event not for this service (check the subscription filter)', { type: event.type });
    return;
  }
  const parsed = orderEventDataSchemas.PaymentCompleted.safeParse(event.data);
  if (!parsed.success) throw new PoisonMessageError(`PaymentCompleted data: ${parsed.error.message}`);
  const { orderId } = parsed.data;
  const recorded = await orders.record(
    orderId,
    { type: 'ShipOrder', data: { shipmentId: `shp-${orderId}`, carrier } },
    { correlationId: event.correlationId, causationId: event.eventId },
  );
  logger.info('Shipment', { orderId, recorded });
});

/**
 * Shipping service: creates the shipment of a paid order and records OrderShipped. Subscribed to
 * PaymentCompleted.
 *
 * Whether to ship is decided on the order as the event store has it now (`decideShipment`): only a
 * paid order not yet shipped, on an event of its own stream; a duplicate, stale or forged
 * PaymentCompleted is logged as `Event ignored` and ships nothing. The shipment id is derived from
 * the order, so two racing deliveries cannot create two shipments.
 */
import { DomainError } from '../../commons/domain/decider.js';
import { PoisonMessageError, sqsEventConsumer } from '../../commons/messaging/sqs-event-consumer.js';
import { logger } from '../../commons/powertools.js';
import { orderCommandsFromEnv } from '../../orders/application/order-commands-from-env.js';
import { orderEventDataSchemas } from '../../orders/domain/order-schemas.js';
import { decideShipment } from '../domain/shipping-policy.js';

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
  let shipment: ReturnType<typeof decideShipment>;
  try {
    shipment = decideShipment(
      await orders.loadOrder(orderId),
      { eventId: event.eventId, type: event.type, aggregateId: event.aggregateId, version: event.version },
      carrier,
    );
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    logger.info('Event ignored: no state change', { orderId, code: error.code, reason: error.message });
    return;
  }
  const recorded = await orders.record(
    orderId,
    { type: 'ShipOrder', data: shipment },
    { correlationId: event.correlationId, causationId: event.eventId },
  );
  logger.info('Shipment', { orderId, shipmentId: shipment.shipmentId, recorded });
});

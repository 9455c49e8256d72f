/**
 * Inventory service: reserves stock for placed orders and records the outcome on the order
 * (InventoryReserved or InventoryRejected); releases the reservation when the order is cancelled
 * or its payment fails. Subscribed to OrderPlaced, OrderCancelled and PaymentFailed.
 */
import { documentClient } from '../../commons/clients/dynamodb.js';
import { requiredEnv } from '../../commons/env.js';
import { PoisonMessageError, sqsEventConsumer } from '../../commons/messaging/sqs-event-consumer.js';
import { logger } from '../../commons/powertools.js';
import { orderCommandsFromEnv } from '../../orders/application/order-commands-from-env.js';
import { orderEventDataSchemas } from '../../orders/domain/order-schemas.js';
import { DynamoDbStockStore } from '../adapters/dynamodb-stock-store.js';
import { reservationIdOf } from '../domain/stock.js';

const stock = new DynamoDbStockStore(documentClient(), requiredEnv('INVENTORY_TABLE_NAME'));
const orders = orderCommandsFromEnv();

export const handler = sqsEventConsumer(async (event) => {
  const meta = { correlationId: event.correlationId, causationId: event.eventId };
  switch (event.type) {
    case 'OrderPlaced': {
      const parsed = orderEventDataSchemas.OrderPlaced.safeParse(event.data);
      if (!parsed.success) throw new PoisonMessageError(`OrderPlaced data: ${parsed.error.message}`);
      const { orderId, items } = parsed.data;
      const reservationId = reservationIdOf(orderId);
      const outcome = await stock.reserve(reservationId, items);
      const recorded =
        outcome.kind === 'insufficient'
          ? await orders.record(
              orderId,
              { type: 'RecordInventoryRejected', data: { reason: `insufficient stock for ${outcome.sku}` } },
              meta,
            )
          : await orders.record(orderId, { type: 'RecordInventoryReserved', data: { reservationId } }, meta);
      if (recorded === 'stale' && outcome.kind !== 'insufficient') {
        // The order moved on (cancelled before the reservation was recorded): give the stock back.
        await stock.release(reservationId);
      }
      logger.info('Reservation', { orderId, outcome: outcome.kind, recorded });
      return;
    }
    case 'OrderCancelled':
    case 'PaymentFailed': {
      const orderId = (event.data as { orderId?: unknown }).orderId;
      if (typeof orderId !== 'string') throw new PoisonMessageError(`${event.type} without an orderId`);
      const released = await stock.release(reservationIdOf(orderId));
      logger.info('Release', { orderId, released });
      return;
    }
    default:
      logger.warn('Event not for this service (check the subscription filter)', { type: event.type });
  }
});

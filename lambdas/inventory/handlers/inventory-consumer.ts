/**
 * Inventory service: reserves stock for placed orders and records the outcome on the order
 * (InventoryReserved or InventoryRejected); releases the reservation when the order is cancelled
 * or its payment fails. Subscribed to OrderPlaced, OrderCancelled and PaymentFailed.
 *
 * The message only says which order to look at: what happens is decided by the reservation's
 * state machine (`domain/reservation.ts`) on the order as the event store has it now and on the
 * stored reservation, so a duplicate, stale or forged event (an OrderPlaced redelivered after the
 * idempotency record expired, an OrderCancelled of an order that has shipped, an event of an order
 * that does not exist) changes nothing and is logged as `Event ignored`. The reservation's items
 * come from the order, never from the message. A decision applied while another delivery changed
 * the reservation (`conflict`) is decided again on what is stored then.
 */
import { documentClient } from '../../commons/clients/dynamodb.js';
import { DomainError } from '../../commons/domain/decider.js';
import { requiredEnv } from '../../commons/env.js';
import type { EventEnvelope } from '../../commons/event-store/envelope.js';
import { PoisonMessageError, sqsEventConsumer } from '../../commons/messaging/sqs-event-consumer.js';
import { logger } from '../../commons/powertools.js';
import { orderCommandsFromEnv } from '../../orders/application/order-commands-from-env.js';
import type { ReceivedOrderEvent } from '../../orders/domain/order.js';
import { orderEventDataSchemas } from '../../orders/domain/order-schemas.js';
import { DynamoDbStockStore } from '../adapters/dynamodb-stock-store.js';
import { reservationDecider } from '../domain/reservation.js';
import { reservationIdOf } from '../domain/stock.js';

const stock = new DynamoDbStockStore(documentClient(), requiredEnv('INVENTORY_TABLE_NAME'));
const orders = orderCommandsFromEnv();
/** Decisions re-taken when a concurrent delivery changed the reservation meanwhile. */
const MAX_DECISIONS = 3;

/** A refused decision is the expected answer to a duplicate or stale event: logged, no effect. */
function ignored(error: unknown, context: Record<string, unknown>): boolean {
  if (!(error instanceof DomainError)) return false;
  logger.info('Event ignored: no state change', { ...context, code: error.code, reason: error.message });
  return true;
}

const triggerOf = (event: EventEnvelope): ReceivedOrderEvent => ({
  eventId: event.eventId,
  type: event.type,
  aggregateId: event.aggregateId,
  version: event.version,
});

async function reserve(orderId: string, event: EventEnvelope): Promise<void> {
  const meta = { correlationId: event.correlationId, causationId: event.eventId };
  const reservationId = reservationIdOf(orderId);
  for (let decision = 1; decision <= MAX_DECISIONS; decision++) {
    const order = await orders.loadOrder(orderId);
    const reservation = await stock.reservation(reservationId);
    let decided: ReturnType<typeof reservationDecider.decide>;
    try {
      decided = reservationDecider.decide(reservation, { type: 'Reserve', order, trigger: triggerOf(event) });
    } catch (error) {
      if (ignored(error, { orderId, reservation: reservation.status })) return;
      throw error;
    }
    const [reserved] = decided;
    let insufficientSku: string | undefined;
    if (reserved?.type === 'StockReserved') {
      const outcome = await stock.reserve(reservationId, reserved.data.items);
      if (outcome.kind === 'conflict') continue;
      if (outcome.kind === 'insufficient') insufficientSku = outcome.sku;
    } else {
      logger.info('Stock taken by an earlier delivery: recording the reservation', { orderId });
    }
    const recorded =
      insufficientSku === undefined
        ? await orders.record(orderId, { type: 'RecordInventoryReserved', data: { reservationId } }, meta)
        : await orders.record(
            orderId,
            {
              type: 'RecordInventoryRejected',
              data: { reason: `insufficient stock for ${insufficientSku}` },
            },
            meta,
          );
    logger.info('Reservation', { orderId, outcome: insufficientSku ? 'insufficient' : 'reserved', recorded });
    if (recorded === 'stale' && insufficientSku === undefined) {
      // The order moved on while the stock was taken (cancelled meanwhile): give it back if it ended.
      await release(orderId, undefined);
    }
    return;
  }
  throw new Error(`reservation of order ${orderId} kept changing during ${MAX_DECISIONS} decisions`);
}

async function release(orderId: string, event: EventEnvelope | undefined): Promise<void> {
  const reservationId = reservationIdOf(orderId);
  for (let decision = 1; decision <= MAX_DECISIONS; decision++) {
    const order = await orders.loadOrder(orderId);
    const reservation = await stock.reservation(reservationId);
    let decided: ReturnType<typeof reservationDecider.decide>;
    try {
      decided = reservationDecider.decide(reservation, {
        type: 'Release',
        order,
        ...(event ? { trigger: triggerOf(event) } : {}),
      });
    } catch (error) {
      if (ignored(error, { orderId, reservation: reservation.status })) return;
      throw error;
    }
    if (decided.length === 0) return;
    if ((await stock.release(reservationId, reservation)) === 'conflict') continue;
    logger.info('Release', {
      orderId,
      from: reservation.status,
      items: reservation.items,
      status: order.state.status,
    });
    return;
  }
  throw new Error(`reservation of order ${orderId} kept changing during ${MAX_DECISIONS} decisions`);
}

export const handler = sqsEventConsumer(async (event) => {
  switch (event.type) {
    case 'OrderPlaced': {
      const parsed = orderEventDataSchemas.OrderPlaced.safeParse(event.data);
      if (!parsed.success) throw new PoisonMessageError(`OrderPlaced data: ${parsed.error.message}`);
      return reserve(parsed.data.orderId, event);
    }
    case 'OrderCancelled':
    case 'PaymentFailed': {
      const parsed = orderEventDataSchemas[event.type].safeParse(event.data);
      if (!parsed.success) throw new PoisonMessageError(`${event.type} data: ${parsed.error.message}`);
      return release(parsed.data.orderId, event);
    }
    default:
      logger.warn('Event not for this service (check the subscription filter)', { type: event.type });
  }
});

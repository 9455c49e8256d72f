/**
 * Bridges order events to RabbitMQ: every event from the `order-events` topic (its own SQS queue,
 * partial batch failures, idempotent per event) is published to the `order_events` topic exchange
 * with the routing key `order.<area>.<action>`, persistent, and acknowledged by the broker
 * (publisher confirms) before the record counts as done. The message id is the event id, so a
 * consumer can drop the duplicate a redelivery may cause. The event's correlation id travels as the
 * AMQP `correlationId` property and a `correlationId` header; each message published counts as
 * `EventsProduced` (the consumer adapter counts BatchSize, EventsConsumed, EventsFailed and
 * ProcessingTime).
 *
 * Each event's `data` is parsed with its type's schema (`orderEventDataSchemas`) before it is
 * published: an event whose data is invalid, or of a type with no routing key, is dead-lettered at
 * once with the reason rather than retried or passed on to the warehouse.
 */

import { PoisonMessageError, sqsEventConsumer } from '../../commons/messaging/sqs-event-consumer.js';
import { countEvents } from '../../commons/observability/invocation.js';
import { publishConfirmed, rabbitMqFromEnv } from '../../commons/rabbitmq/connection.js';
import { orderEventDataSchemas } from '../../orders/domain/order-schemas.js';
import { ORDER_EVENTS_EXCHANGE, routingKeyOf } from '../domain/order-routing.js';

export const handler = sqsEventConsumer(
  async (event) => {
    const routingKey = routingKeyOf(event.type);
    if (!routingKey) throw new PoisonMessageError(`no routing key for event type ${event.type}`);
    const { channel } = await rabbitMqFromEnv();
    await publishConfirmed(channel, ORDER_EVENTS_EXCHANGE, [
      {
        routingKey,
        body: JSON.stringify(event),
        messageId: event.eventId,
        correlationId: event.correlationId,
        headers: { eventType: event.type, schemaVersion: String(event.schemaVersion) },
      },
    ]);
    countEvents('EventsProduced');
  },
  { dataSchemas: orderEventDataSchemas },
);

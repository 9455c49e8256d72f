/**
 * The warehouse's shipment confirmations, from the `shipment_confirmations` queue through the
 * Amazon MQ event source, fed back into the order flow as ConfirmShipment (idempotent: a
 * redelivered confirmation decides nothing).
 *
 * The batch fails per message, never as a whole for one bad message. Lambda's Amazon MQ source is
 * all-or-nothing (a failed invocation hands every message of the batch back to the broker), so:
 * - the event's own shape is checked first; each message is then read on its own
 *   (`readRabbitMqMessage`: properties, base64, UTF-8) and decoded as a confirmation;
 * - a message that cannot be read or parsed, or that the order refuses (unknown order, another
 *   shipment, a validation error), is poison: published alone to the queue's dead-letter exchange
 *   with an `x-platform-reason` header (its original bytes as body) and counted as done, so it
 *   never cycles, and the good messages beside it are recorded and acknowledged with the batch;
 * - only a transient failure (the event store, the broker) fails the invocation, after every other
 *   message of the batch was handled; the broker redelivers the batch, which the idempotent
 *   ConfirmShipment absorbs. On the last delivery the queue allows (`x-delivery-count` at the
 *   queue's delivery limit), a message failing that way is dead-lettered with the error as its
 *   reason rather than by the broker without one.
 * A batch redelivered after a transient failure dead-letters its poison messages again: dead
 * letters are at least once.
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
import { formatIssues } from '../../commons/domain/validation-issues.js';
import { poisonReason } from '../../commons/messaging/poison.js';
import {
  headerNumber,
  queueOf,
  type RabbitMqMessage,
  rabbitMqEventEnvelopeSchema,
  readRabbitMqMessage,
} from '../../commons/messaging/rabbitmq-event.js';
import { isWellFormed, truncateUtf8 } from '../../commons/messaging/well-formed.js';
import {
  correlationIdOf,
  correlationIdOfRabbitMqMessage,
  withCorrelation,
} from '../../commons/observability/correlation.js';
import { countEvents, instrumentedInvocation } from '../../commons/observability/invocation.js';
import { logger, metrics } from '../../commons/powertools.js';
import { publishConfirmed, rabbitMqFromEnv } from '../../commons/rabbitmq/connection.js';
import { orderCommandsFromEnv } from '../../orders/application/order-commands-from-env.js';
import { ORDER_EVENTS_DLX, PLATFORM_BROKER_DEFINITIONS } from '../domain/order-routing.js';
import { decodeConfirmation } from '../domain/shipment-confirmation.js';

const orders = orderCommandsFromEnv();

/** The reason header of a dead letter is cut at this many bytes. */
const MAX_REASON_BYTES = 1000;

/** The delivery limit of `queue` (the broker dead-letters past it): `DELIVERY_LIMIT`, else its definition. */
export function deliveryLimitOf(queue: string, env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = Number(env.DELIVERY_LIMIT);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  const defined = PLATFORM_BROKER_DEFINITIONS.queues.find((q) => q.name === queue)?.deliveryLimit;
  return defined ?? Number.POSITIVE_INFINITY;
}

interface DeadLetter {
  readonly queue: string;
  readonly body: Buffer;
  readonly reason: string;
  readonly messageId?: string | undefined;
  readonly correlationId?: string | undefined;
  readonly contentType?: string | null | undefined;
}

export const handler = async (event: unknown, context: Context): Promise<void> => {
  const parsed = rabbitMqEventEnvelopeSchema.safeParse(event);
  // Not a batch of messages at all: nothing to dead-letter one by one.
  if (!parsed.success) throw new Error(`not an Amazon MQ (RabbitMQ) event: ${formatIssues(parsed.error)}`);
  const batch = Object.entries(parsed.data.rmqMessagesByQueue).flatMap(([key, messages]) =>
    messages.map((raw) => ({ queue: queueOf(key).queue, raw })),
  );
  await instrumentedInvocation(context, { batchSize: batch.length }, async () => {
    const failed: string[] = [];
    for (const { queue, raw } of batch) {
      try {
        await handleRaw(queue, raw);
      } catch (error) {
        countEvents('EventsFailed');
        logger.error('Confirmation failed; the batch will be redelivered', error as Error);
        failed.push(`${(error as Error).name}: ${(error as Error).message}`);
      }
    }
    if (failed.length > 0) {
      throw new Error(`${failed.length} of ${batch.length} confirmations failed transiently: ${failed[0]}`);
    }
  });
};

async function handleRaw(queue: string, raw: unknown): Promise<void> {
  const read = readRabbitMqMessage(raw);
  if (!read.ok) {
    return deadLetter({ queue, body: read.body, reason: read.reason, messageId: read.messageId });
  }
  const decoded = decodeConfirmation(read.text);
  const correlationId =
    correlationIdOfRabbitMqMessage(read.message) ??
    (decoded.ok ? correlationIdOf(`shipment-${decoded.confirmation.shipmentId}`) : undefined);
  const base = {
    queue,
    body: read.body,
    messageId: read.messageId,
    correlationId,
    contentType: read.message.basicProperties.contentType,
  };
  await withCorrelation(correlationId, async () => {
    if (!decoded.ok) return deadLetter({ ...base, reason: decoded.reason });
    const reason = await record(
      read.message,
      decoded.confirmation,
      correlationId ?? correlationIdOf(),
      queue,
    );
    if (reason !== undefined) await deadLetter({ ...base, reason });
  });
}

/** Records the confirmation; the reason it is poison, or undefined once recorded. Throws if transient. */
async function record(
  message: RabbitMqMessage,
  confirmation: { orderId: string; shipmentId: string; trackingNumber: string; confirmedAt: string },
  correlationId: string,
  queue: string,
): Promise<string | undefined> {
  const { orderId, ...data } = confirmation;
  const messageId = message.basicProperties.messageId;
  // The message id becomes the events' causationId: only an id the envelope takes.
  const causationId =
    messageId && messageId.length <= 128 && isWellFormed(messageId) ? messageId : correlationId;
  try {
    const outcome = await orders.record(
      orderId,
      { type: 'ConfirmShipment', data },
      { correlationId, causationId },
    );
    if (outcome === 'stale') return `order ${orderId} cannot take the confirmation: unknown, or not shipped`;
    logger.info('Shipment confirmed', { orderId, shipmentId: data.shipmentId });
    metrics.addMetric('ShipmentsConfirmed', MetricUnit.Count, 1);
    countEvents('EventsConsumed');
    return undefined;
  } catch (error) {
    if (error instanceof DomainError) return `${error.code}: ${error.message}`;
    const poison = poisonReason(error);
    if (poison !== undefined) return poison;
    const deliveries = headerNumber(message, 'x-delivery-count') ?? 0;
    if (deliveries >= deliveryLimitOf(queue)) {
      const { name, message: text } = error as Error;
      return `gave up after ${deliveries + 1} deliveries: ${name}: ${text}`;
    }
    throw error;
  }
}

async function deadLetter(letter: DeadLetter): Promise<void> {
  const reason = truncateUtf8(letter.reason, MAX_REASON_BYTES) || '(no reason given)';
  // A routing key is an AMQP short string (255 bytes); the queue name comes from the event.
  const queue = truncateUtf8(letter.queue, 255);
  const { channel } = await rabbitMqFromEnv();
  await publishConfirmed(channel, ORDER_EVENTS_DLX, [
    {
      routingKey: queue,
      body: letter.body,
      contentType: letter.contentType ?? 'application/octet-stream',
      ...(letter.messageId ? { messageId: letter.messageId } : {}),
      ...(letter.correlationId ? { correlationId: letter.correlationId } : {}),
      headers: { 'x-platform-reason': reason, 'x-platform-source-queue': queue },
    },
  ]);
  logger.error('Confirmation dead-lettered', { reason, queue });
  metrics.addMetric('ConfirmationsDeadLettered', MetricUnit.Count, 1);
  countEvents('EventsFailed');
}

/**
 * Stock-check responder (request-reply): answers "what did inventory decide for this order?" on
 * the request's reply queue, with the request's correlation id, as soon as the reservation is
 * recorded on the order (INVENTORY_RESERVED, REJECTED, or a later status), or with PENDING when the
 * request's deadline passes first. A request that cannot be read is dead-lettered with the reason.
 *
 * The request's end-to-end correlation id (`x-correlation-id` attribute, beside request-reply's own
 * `correlationId`) is on every log line of the request and on the reply. Metrics: BatchSize,
 * EventsConsumed (requests handled), EventsFailed (dead-lettered or failed), EventsProduced
 * (replies), ProcessingTime.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { sqsClient } from '../../commons/clients/sqs.js';
import { requiredEnv } from '../../commons/env.js';
import {
  CORRELATION_ATTRIBUTE,
  ORIGIN_CORRELATION_ATTRIBUTE,
  sendReply,
} from '../../commons/messaging/request-reply.js';
import { isCorrelationId, withCorrelation } from '../../commons/observability/correlation.js';
import { countEvents, instrumentedInvocation } from '../../commons/observability/invocation.js';
import { logger } from '../../commons/powertools.js';
import { orderCommandsFromEnv } from '../../orders/application/order-commands-from-env.js';

const orders = orderCommandsFromEnv();
const deadLetterQueueUrl = requiredEnv('DEAD_LETTER_QUEUE_URL');
const processor = new BatchProcessor(EventType.SQS);
const requestSchema = z.strictObject({
  orderId: z.string().min(1),
  /** Epoch ms after which the requester no longer waits. */
  deadline: z.number().int(),
});

export interface StockCheckReply {
  readonly orderId: string;
  readonly status: string;
  readonly reservationId?: string;
  readonly reason?: string;
}

async function handleRequest(
  record: SQSRecord,
  context: Context,
  originCorrelationId: string | undefined,
): Promise<void> {
  const correlationId = record.messageAttributes[CORRELATION_ATTRIBUTE]?.stringValue;
  const replyTo = record.messageAttributes.replyTo?.stringValue;
  let request: z.infer<typeof requestSchema> | undefined;
  try {
    request = requestSchema.parse(JSON.parse(record.body));
  } catch (error) {
    request = undefined;
    logger.warn('Unreadable request', { error: error as Error });
  }
  if (!request || !correlationId || !replyTo) {
    await sqsClient().send(
      new SendMessageCommand({
        QueueUrl: deadLetterQueueUrl,
        MessageBody: record.body,
        MessageAttributes: {
          reason: {
            DataType: 'String',
            StringValue: 'not a stock-check request (orderId, deadline, correlationId, replyTo)',
          },
        },
      }),
    );
    countEvents('EventsFailed');
    return;
  }
  countEvents('EventsConsumed');
  if (Date.now() > request.deadline) return; // nobody waits any more
  const stopAt = Math.min(request.deadline, Date.now() + context.getRemainingTimeInMillis() - 1000);
  let state = await orders.load(request.orderId);
  while (state.status === 'PENDING' && Date.now() < stopAt) {
    await new Promise((r) => setTimeout(r, 100));
    state = await orders.load(request.orderId);
  }
  const reply: StockCheckReply = {
    orderId: request.orderId,
    status: state.status,
    ...(state.reservationId ? { reservationId: state.reservationId } : {}),
    ...(state.status === 'REJECTED' && state.reason ? { reason: state.reason } : {}),
  };
  await sendReply(
    sqsClient(),
    replyTo,
    correlationId,
    reply,
    originCorrelationId ? { originCorrelationId } : {},
  );
  countEvents('EventsProduced');
  logger.debug('Stock check answered', { orderId: request.orderId, status: reply.status });
}

async function recordHandler(record: SQSRecord, context: Context): Promise<void> {
  const origin = record.messageAttributes[ORIGIN_CORRELATION_ATTRIBUTE]?.stringValue;
  const originCorrelationId = isCorrelationId(origin) ? origin : undefined;
  try {
    await withCorrelation(originCorrelationId, () => handleRequest(record, context, originCorrelationId));
  } catch (error) {
    countEvents('EventsFailed');
    throw error;
  }
}

export const handler = (event: SQSEvent, context: Context) =>
  instrumentedInvocation(context, { batchSize: event.Records.length }, () =>
    processPartialResponse(event, (record: SQSRecord) => recordHandler(record, context), processor, {
      context,
    }),
  );

/**
 * Stock-check responder (request-reply): answers "what did inventory decide for this order?" on
 * the request's reply queue, with the request's correlation id, as soon as the reservation is
 * recorded on the order (INVENTORY_RESERVED, REJECTED, or a later status), or with PENDING when the
 * request's deadline passes first. A request that cannot be read is dead-lettered with the reason.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { sqsClient } from '../../commons/clients/sqs.js';
import { requiredEnv } from '../../commons/env.js';
import { CORRELATION_ATTRIBUTE, sendReply } from '../../commons/messaging/request-reply.js';
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

async function recordHandler(record: SQSRecord, context: Context): Promise<void> {
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
    return;
  }
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
  await sendReply(sqsClient(), replyTo, correlationId, reply);
}

export const handler = async (event: SQSEvent, context: Context) => {
  logger.addContext(context);
  return processPartialResponse(event, (record: SQSRecord) => recordHandler(record, context), processor, {
    context,
  });
};

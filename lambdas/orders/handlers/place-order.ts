/**
 * POST /orders → 202 {orderId, status}. With `?wait=inventory` it also asks the inventory service,
 * by request-reply over SQS, for the reservation result and answers 200 {orderId, status,
 * reservationId | reason} when it comes within `timeoutMs` (default 5000), or 202 when it does not. Honours `Idempotency-Key` (Powertools idempotency on
 * DynamoDB, scoped to the caller): the same key and body return the first response; the same key
 * with another body is a 422; a retry while the first is still running is a 409.
 */
import { randomUUID } from 'node:crypto';
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import * as z from 'zod';
import { dynamoDbClient } from '../../commons/clients/dynamodb.js';
import { sqsClient } from '../../commons/clients/sqs.js';
import { requiredEnv } from '../../commons/env.js';
import { repositoryFromEnv } from '../../commons/event-store/repository-from-env.js';
import { type ApiResponse, apiHandler, header } from '../../commons/http/api-handler.js';
import { HttpError } from '../../commons/http/errors.js';
import { parseJsonBody, parseParameters } from '../../commons/http/request.js';
import { awaitReply, sendRequest } from '../../commons/messaging/request-reply.js';
import type { StockCheckReply } from '../../inventory/handlers/stock-check-responder.js';
import { orderDecider } from '../domain/order.js';
import { type PlaceOrderBody, placeOrderBodySchema } from '../domain/order-schemas.js';

const orders = repositoryFromEnv(orderDecider);

const idempotencyConfig = new IdempotencyConfig({
  eventKeyJmesPath: 'key',
  payloadValidationJmesPath: 'body',
  expiresAfterSeconds: Number(process.env.IDEMPOTENCY_TTL_SECONDS ?? 24 * 3600),
});
const persistenceStore = new DynamoDBPersistenceLayer({
  tableName: requiredEnv('IDEMPOTENCY_TABLE_NAME'),
  awsSdkV3Client: dynamoDbClient(),
});

const idempotencyKeySchema = z
  .string()
  .min(1, 'Idempotency-Key must not be empty')
  .max(255, 'Idempotency-Key must be at most 255 characters')
  .regex(/^[\x21-\x7e]+$/, 'Idempotency-Key must be printable ASCII without spaces');

const querySchema = z.object({
  wait: z.enum(['inventory'], { error: 'wait must be inventory' }).optional(),
  timeoutMs: z.coerce
    .number({ error: 'timeoutMs must be a number' })
    .int('timeoutMs must be an integer')
    .min(100, 'timeoutMs must be at least 100')
    .max(8000, 'timeoutMs must be at most 8000')
    .default(5000),
});

interface PlaceOrderRequest {
  /** Caller-scoped idempotency key, or absent. */
  readonly key?: string;
  readonly body: PlaceOrderBody;
  readonly correlationId: string;
  /** Wait this long for the inventory's answer; absent: do not wait. */
  readonly waitMs?: number;
}

async function placeOrder({ body, correlationId, waitMs }: PlaceOrderRequest): Promise<ApiResponse> {
  const orderId = randomUUID();
  await orders.handle(
    orderId,
    { type: 'PlaceOrder', data: { ...body, orderId } },
    { correlationId, causationId: correlationId },
  );
  const accepted = {
    statusCode: 202,
    body: { orderId, status: 'PENDING' },
    headers: { location: `/orders/${orderId}` },
  };
  if (waitMs === undefined) return accepted;
  // Request-reply: ask the inventory service for the reservation result, and wait for its answer.
  const replyQueue = requiredEnv('STOCK_CHECK_REPLY_QUEUE_URL');
  const requestId = randomUUID();
  await sendRequest(
    sqsClient(),
    requiredEnv('STOCK_CHECK_REQUEST_QUEUE_URL'),
    replyQueue,
    requestId,
    { orderId, deadline: Date.now() + waitMs },
    { originCorrelationId: correlationId },
  );
  const reply = await awaitReply<StockCheckReply>(sqsClient(), replyQueue, requestId, waitMs);
  if (!reply || reply.status === 'PENDING') return accepted;
  return { statusCode: 200, body: reply, headers: { location: `/orders/${orderId}` } };
}

const placeOrderOnce = makeIdempotent(placeOrder, { persistenceStore, config: idempotencyConfig });

export const handler = apiHandler(async ({ event, context, correlationId, callerId }) => {
  const body = parseJsonBody(event, placeOrderBodySchema);
  const query = parseParameters('query', event.queryStringParameters, querySchema);
  const waitMs = query.wait === 'inventory' ? query.timeoutMs : undefined;
  const sentKey = header(event, 'idempotency-key');
  if (sentKey === undefined) return placeOrder({ body, correlationId, waitMs });
  const key = idempotencyKeySchema.safeParse(sentKey);
  if (!key.success) {
    throw new HttpError(400, 'Invalid Idempotency-Key header', [
      { path: 'header.Idempotency-Key', message: key.error.issues[0]?.message ?? 'invalid' },
    ]);
  }
  idempotencyConfig.registerLambdaContext(context);
  try {
    return await placeOrderOnce({ key: `${callerId}:${key.data}`, body, correlationId, waitMs });
  } catch (error) {
    if (error instanceof IdempotencyValidationError) {
      throw new HttpError(
        422,
        'Idempotency-Key was already used with a different request body',
        [{ path: 'header.Idempotency-Key', message: 'reused with a different body' }],
        'IDEMPOTENCY_KEY_REUSED',
      );
    }
    if (error instanceof IdempotencyAlreadyInProgressError) {
      throw new HttpError(
        409,
        'A request with this Idempotency-Key is still in progress; retry shortly',
        [],
        'IDEMPOTENCY_IN_PROGRESS',
        { 'retry-after': '1' },
      );
    }
    throw error;
  }
});

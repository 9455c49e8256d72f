/**
 * POST /orders → 202 {orderId, status}. With `?wait=inventory` it also asks the inventory service,
 * by request-reply over SQS, for the reservation result and answers 200 {orderId, status,
 * reservationId | reason} when it comes within `timeoutMs` (default 5000), or 202 when it does not. Honours `Idempotency-Key` (Powertools idempotency on
 * DynamoDB, scoped to the caller): the same key and body return the first response; the same key
 * with another body is a 422; a retry while the first is still running is a 409.
 *
 * One key is one order, ever: the Powertools record alone cannot promise it (an attempt that dies
 * after appending the order leaves its record INPROGRESS until it expires, an attempt that fails
 * after the append deletes it, and records expire after a day; the retry then runs again). So the
 * order id of a keyed request is derived from (caller, key), and the event store's conditional
 * first append makes a rerun find the order its key already placed: the same body answers the
 * same 202 again, another body is the 422 of a reused key.
 */
import { randomUUID } from 'node:crypto';
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyInconsistentStateError,
  IdempotencyItemAlreadyExistsError,
  IdempotencyItemNotFoundError,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import * as z from 'zod';
import { dynamoDbClient } from '../../commons/clients/dynamodb.js';
import { sqsClient } from '../../commons/clients/sqs.js';
import { DomainError } from '../../commons/domain/decider.js';
import { requiredEnv } from '../../commons/env.js';
import { ConcurrencyError } from '../../commons/event-store/event-store.js';
import { repositoryFromEnv } from '../../commons/event-store/repository-from-env.js';
import { type ApiResponse, apiHandler, header } from '../../commons/http/api-handler.js';
import { HttpError } from '../../commons/http/errors.js';
import { idempotencyKeySchema, idForIdempotencyKey } from '../../commons/http/idempotency-key.js';
import { parseHeader, parseJsonBody, parseParameters } from '../../commons/http/request.js';
import { awaitReply, sendRequest } from '../../commons/messaging/request-reply.js';
import { logger } from '../../commons/powertools.js';
import type { StockCheckReply } from '../../inventory/handlers/stock-check-responder.js';
import { orderDecider } from '../domain/order.js';
import { isSamePlacement, type PlaceOrderBody, placeOrderBodySchema } from '../domain/order-schemas.js';

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
  /** The order id derived from the key; absent (no key): a fresh one. */
  readonly orderId?: string;
  readonly body: PlaceOrderBody;
  readonly correlationId: string;
  /** Wait this long for the inventory's answer; absent: do not wait. */
  readonly waitMs?: number;
}

/** Name space of the order ids derived from idempotency keys (a fixed, random UUID). */
const KEYED_ORDER_NAMESPACE = '5b0c9a52-e1f3-4d7e-9a3c-6f1d2e8b4a70';

const keyReused = () =>
  new HttpError(
    422,
    'Idempotency-Key was already used with a different request body',
    [{ path: 'header.Idempotency-Key', message: 'reused with a different body' }],
    'IDEMPOTENCY_KEY_REUSED',
  );

/**
 * Appends the order. For a keyed order that already exists (an earlier attempt with the key placed
 * it), the same body is success and another body a 422; nothing is appended again.
 */
async function appendOrder(
  orderId: string,
  keyed: boolean,
  body: PlaceOrderBody,
  correlationId: string,
): Promise<void> {
  try {
    await orders.handle(
      orderId,
      { type: 'PlaceOrder', data: { ...body, orderId } },
      { correlationId, causationId: correlationId },
    );
  } catch (error) {
    const exists =
      (error instanceof DomainError && error.code === 'ORDER_EXISTS') || error instanceof ConcurrencyError;
    if (!keyed || !exists) throw error;
    const { state } = await orders.load(orderId);
    if (state.status === 'NONE') throw error;
    if (!isSamePlacement(state, body)) throw keyReused();
    logger.info('Idempotency-Key already placed its order; answering it again', { orderId });
  }
}

async function placeOrder({
  orderId: keyedOrderId,
  body,
  correlationId,
  waitMs,
}: PlaceOrderRequest): Promise<ApiResponse> {
  const orderId = keyedOrderId ?? randomUUID();
  await appendOrder(orderId, keyedOrderId !== undefined, body, correlationId);
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
  const key = parseHeader('Idempotency-Key', sentKey, idempotencyKeySchema);
  idempotencyConfig.registerLambdaContext(context);
  try {
    return await placeOrderOnce({
      key: `${callerId}:${key}`,
      orderId: idForIdempotencyKey(KEYED_ORDER_NAMESPACE, callerId, key),
      body,
      correlationId,
      waitMs,
    });
  } catch (error) {
    if (error instanceof IdempotencyValidationError) throw keyReused();
    // A concurrent request with the same key changed its record between our reads (it finished,
    // failed and released it, or expired): as for one still running, the client retries shortly,
    // and the retry finds the key's one order (its id is derived from the key).
    if (
      error instanceof IdempotencyAlreadyInProgressError ||
      error instanceof IdempotencyInconsistentStateError ||
      error instanceof IdempotencyItemNotFoundError ||
      error instanceof IdempotencyItemAlreadyExistsError
    ) {
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

/** POST /orders/{orderId}/cancel → 202 {orderId, status}; 404 unknown order; 409 no longer cancellable. */
import * as z from 'zod';
import { repositoryFromEnv } from '../../commons/event-store/repository-from-env.js';
import { apiHandler } from '../../commons/http/api-handler.js';
import { idParameter, parseJsonBody, parseParameters } from '../../commons/http/request.js';
import { orderDecider } from '../domain/order.js';

const orders = repositoryFromEnv(orderDecider);

const pathSchema = z.object({ orderId: idParameter('orderId') });
const bodySchema = z.strictObject({
  reason: z
    .string({ error: 'reason must be a string' })
    .trim()
    .min(1, 'reason must not be empty')
    .max(500, 'reason must be at most 500 characters')
    .optional(),
});

export const handler = apiHandler(async ({ event, correlationId }) => {
  const { orderId } = parseParameters('path', event.pathParameters, pathSchema);
  const { reason } = parseJsonBody(event, bodySchema, { emptyAs: {} });
  await orders.handle(
    orderId,
    { type: 'CancelOrder', data: { reason: reason ?? 'cancelled by the customer' } },
    { correlationId, causationId: correlationId },
  );
  return { statusCode: 202, body: { orderId, status: 'CANCELLED' } };
});

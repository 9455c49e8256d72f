/** GET /orders/{orderId} → 200 with the read model, or 404. */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { documentClient } from '../../commons/clients/dynamodb.js';
import { requiredEnv } from '../../commons/env.js';
import { apiHandler } from '../../commons/http/api-handler.js';
import { HttpError } from '../../commons/http/errors.js';
import { idParameter, parseParameters } from '../../commons/http/request.js';
import { ORDERS_VIEW_KEY } from '../read-model/table-schema.js';

const tableName = requiredEnv('ORDERS_VIEW_TABLE_NAME');
const pathSchema = z.object({ orderId: idParameter('orderId') });

export const handler = apiHandler(async ({ event }) => {
  const { orderId } = parseParameters('path', event.pathParameters, pathSchema);
  const { Item } = await documentClient().send(
    new GetCommand({ TableName: tableName, Key: { [ORDERS_VIEW_KEY]: orderId } }),
  );
  if (!Item) throw new HttpError(404, `Order ${orderId} not found`, [], 'ORDER_NOT_FOUND');
  return { statusCode: 200, body: Item };
});

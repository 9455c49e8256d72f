/** PUT /inventory/{sku} {available} → 200: sets a SKU's available stock (stock intake, administration). */
import * as z from 'zod';
import { documentClient } from '../../commons/clients/dynamodb.js';
import { requiredEnv } from '../../commons/env.js';
import { apiHandler } from '../../commons/http/api-handler.js';
import { idParameter, parseJsonBody, parseParameters } from '../../commons/http/request.js';
import { DynamoDbStockStore } from '../adapters/dynamodb-stock-store.js';

const stock = new DynamoDbStockStore(documentClient(), requiredEnv('INVENTORY_TABLE_NAME'));
const pathSchema = z.object({
  sku: idParameter('sku').refine((sku) => !sku.includes('#'), 'sku must not contain #'),
});
const bodySchema = z.strictObject({
  available: z
    .int({ error: 'available must be an integer' })
    .min(0, 'available must not be negative')
    .max(1_000_000_000, 'available must be at most 1000000000'),
});

export const handler = apiHandler(async ({ event }) => {
  const { sku } = parseParameters('path', event.pathParameters, pathSchema);
  const { available } = parseJsonBody(event, bodySchema);
  await stock.setAvailable(sku, available);
  return { statusCode: 200, body: { sku, available } };
});

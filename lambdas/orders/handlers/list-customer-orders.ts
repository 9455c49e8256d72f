/** GET /customers/{customerId}/orders?limit=&nextToken= → 200 {items, nextToken?}, newest first. */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { documentClient } from '../../commons/clients/dynamodb.js';
import { requiredEnv } from '../../commons/env.js';
import { apiHandler } from '../../commons/http/api-handler.js';
import {
  idParameter,
  pageOf,
  pageParameters,
  parseParameters,
  startKeyOf,
} from '../../commons/http/request.js';
import {
  ORDERS_BY_CUSTOMER_INDEX,
  ORDERS_BY_CUSTOMER_PARTITION_KEY,
  ORDERS_BY_CUSTOMER_SORT_KEY,
  ORDERS_VIEW_KEY,
} from '../read-model/table-schema.js';

const tableName = requiredEnv('ORDERS_VIEW_TABLE_NAME');
const pathSchema = z.object({ customerId: idParameter('customerId') });
const querySchema = z.object({
  ...pageParameters,
});
const CURSOR_KEYS = [ORDERS_VIEW_KEY, ORDERS_BY_CUSTOMER_PARTITION_KEY, ORDERS_BY_CUSTOMER_SORT_KEY];

export const handler = apiHandler(async ({ event }) => {
  const { customerId } = parseParameters('path', event.pathParameters, pathSchema);
  const { limit, nextToken } = parseParameters('query', event.queryStringParameters, querySchema);
  const startKey = startKeyOf(nextToken, CURSOR_KEYS, {
    name: ORDERS_BY_CUSTOMER_PARTITION_KEY,
    value: customerId,
    of: 'customer',
  });
  const page = await documentClient().send(
    new QueryCommand({
      TableName: tableName,
      IndexName: ORDERS_BY_CUSTOMER_INDEX,
      KeyConditionExpression: '#customer = :customer',
      ExpressionAttributeNames: { '#customer': ORDERS_BY_CUSTOMER_PARTITION_KEY },
      ExpressionAttributeValues: { ':customer': customerId },
      ScanIndexForward: false,
      Limit: limit,
      ExclusiveStartKey: startKey,
    }),
  );
  return { statusCode: 200, body: pageOf(page.Items, page.LastEvaluatedKey) };
});

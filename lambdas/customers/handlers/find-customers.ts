/** GET /customers?emailDomain=&active=&limit=&nextToken= → 200 {items, nextToken?}. */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { documentClient } from '../../commons/clients/dynamodb.js';
import { requiredEnv } from '../../commons/env.js';
import { apiHandler } from '../../commons/http/api-handler.js';
import { HttpError } from '../../commons/http/errors.js';
import { decodeCursor, encodeCursor, parseParameters } from '../../commons/http/request.js';
import {
  CUSTOMERS_BY_EMAIL_DOMAIN_INDEX,
  CUSTOMERS_BY_EMAIL_DOMAIN_PARTITION_KEY,
  CUSTOMERS_VIEW_KEY,
} from '../read-model/table-schema.js';

const tableName = requiredEnv('CUSTOMERS_VIEW_TABLE_NAME');
const querySchema = z.object({
  emailDomain: z
    .string({ error: 'emailDomain is required' })
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'emailDomain must be a domain name, e.g. example.com')
    .max(253, 'emailDomain must be at most 253 characters'),
  active: z.enum(['true', 'false'], { error: 'active must be true or false' }).optional(),
  limit: z.coerce
    .number({ error: 'limit must be a number' })
    .int('limit must be an integer')
    .min(1, 'limit must be at least 1')
    .max(100, 'limit must be at most 100')
    .default(25),
  nextToken: z.string().optional(),
});
const CURSOR_KEYS = [CUSTOMERS_VIEW_KEY, CUSTOMERS_BY_EMAIL_DOMAIN_PARTITION_KEY];

export const handler = apiHandler(async ({ event }) => {
  const { emailDomain, active, limit, nextToken } = parseParameters(
    'query',
    event.queryStringParameters,
    querySchema,
  );
  const startKey = decodeCursor(nextToken, CURSOR_KEYS);
  if (startKey && startKey[CUSTOMERS_BY_EMAIL_DOMAIN_PARTITION_KEY] !== emailDomain) {
    throw new HttpError(400, 'Invalid query parameters', [
      { path: 'query.nextToken', message: 'nextToken belongs to another query' },
    ]);
  }
  const page = await documentClient().send(
    new QueryCommand({
      TableName: tableName,
      IndexName: CUSTOMERS_BY_EMAIL_DOMAIN_INDEX,
      KeyConditionExpression: '#domain = :domain',
      ...(active === undefined ? {} : { FilterExpression: '#active = :active' }),
      ExpressionAttributeNames: {
        '#domain': CUSTOMERS_BY_EMAIL_DOMAIN_PARTITION_KEY,
        ...(active === undefined ? {} : { '#active': 'active' }),
      },
      ExpressionAttributeValues: {
        ':domain': emailDomain,
        ...(active === undefined ? {} : { ':active': active === 'true' }),
      },
      Limit: limit,
      ExclusiveStartKey: startKey,
    }),
  );
  const token = encodeCursor(page.LastEvaluatedKey);
  return { statusCode: 200, body: { items: page.Items ?? [], ...(token ? { nextToken: token } : {}) } };
});

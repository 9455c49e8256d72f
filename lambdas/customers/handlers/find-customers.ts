/** GET /customers?emailDomain=&active=&limit=&nextToken= → 200 {items, nextToken?}. */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { documentClient } from '../../commons/clients/dynamodb.js';
import { requiredEnv } from '../../commons/env.js';
import { apiHandler } from '../../commons/http/api-handler.js';
import { pageOf, pageParameters, parseParameters, startKeyOf } from '../../commons/http/request.js';
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
  ...pageParameters,
});
const CURSOR_KEYS = [CUSTOMERS_VIEW_KEY, CUSTOMERS_BY_EMAIL_DOMAIN_PARTITION_KEY];

export const handler = apiHandler(async ({ event }) => {
  const { emailDomain, active, limit, nextToken } = parseParameters(
    'query',
    event.queryStringParameters,
    querySchema,
  );
  const startKey = startKeyOf(nextToken, CURSOR_KEYS, {
    name: CUSTOMERS_BY_EMAIL_DOMAIN_PARTITION_KEY,
    value: emailDomain,
    of: 'query',
  });
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
  return { statusCode: 200, body: pageOf(page.Items, page.LastEvaluatedKey) };
});

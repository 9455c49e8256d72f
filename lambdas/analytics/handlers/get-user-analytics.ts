/**
 * GET /analytics/users/{userId}[?window=<name>&limit=<n>] → 200 `{userId, windows}`: the user's
 * closed windows, newest first, with their metrics (page views, unique pages, add-to-carts,
 * purchases, total spent, average order value). A user with no closed window yet has none.
 */
import * as z from 'zod';
import { requiredEnv } from '../../commons/env.js';
import { apiHandler } from '../../commons/http/api-handler.js';
import { idParameter, parseParameters } from '../../commons/http/request.js';
import { redisFromEnv } from '../../commons/redis/connection.js';
import { RedisWindowStore } from '../adapters/redis-window-store.js';
import { windowSpecsFromJson } from '../domain/window-config.js';

const specs = windowSpecsFromJson(requiredEnv('WINDOW_SPECS'));
const windowNames = specs.map((s) => s.name) as [string, ...string[]];
const pathSchema = z.object({ userId: idParameter('userId') });
const querySchema = z.object({
  window: z.enum(windowNames, { error: `window must be one of ${windowNames.join(', ')}` }).optional(),
  limit: z.coerce
    .number({ error: 'limit must be a number' })
    .int('limit must be an integer')
    .min(1, 'limit must be at least 1')
    .max(500, 'limit must be at most 500')
    .default(50),
});
let store: RedisWindowStore | undefined;

export const handler = apiHandler(async ({ event }) => {
  const { userId } = parseParameters('path', event.pathParameters, pathSchema);
  const { window, limit } = parseParameters('query', event.queryStringParameters, querySchema);
  store ??= new RedisWindowStore(await redisFromEnv(), specs);
  const windows = await store.resultsOf(userId, { ...(window ? { window } : {}), limit });
  return { statusCode: 200, body: { userId, windows } };
});

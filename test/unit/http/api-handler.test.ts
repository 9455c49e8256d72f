import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.POWERTOOLS_SERVICE_NAME = 'unit-api';
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'UnitNamespace';
});

import { apiHandler } from '../../../lambdas/commons/http/api-handler.js';
import { logger } from '../../../lambdas/commons/powertools.js';
import { type Captured, captureStdout } from '../commons/stdout-capture.js';

const context = { functionName: 'f', awsRequestId: 'aws-1' } as Context;
const event = (headers: Record<string, string>): APIGatewayProxyEvent =>
  ({
    httpMethod: 'POST',
    resource: '/orders',
    headers,
    requestContext: { requestId: 'api-request-1', identity: {} },
  }) as unknown as APIGatewayProxyEvent;

describe('apiHandler', () => {
  let out: Captured;
  beforeEach(() => {
    out = captureStdout();
  });
  afterEach(() => out.restore());

  it('takes the X-Correlation-Id header, hands it to the route, logs it and returns it', async () => {
    const seen: string[] = [];
    const handler = apiHandler(async ({ correlationId }) => {
      seen.push(correlationId);
      logger.info('in route');
      return { statusCode: 202, body: { ok: true } };
    });
    const result = await handler(event({ 'X-Correlation-Id': 'client-corr-1' }), context);
    expect(seen).toEqual(['client-corr-1']);
    expect(result.headers?.['x-correlation-id']).toBe('client-corr-1');
    expect(out.logs().find((l) => l.message === 'in route')?.correlationId).toBe('client-corr-1');
  });

  it('uses the API request id when the header is absent or invalid, and a UUID without either', async () => {
    const handler = apiHandler(async ({ correlationId }) => ({ statusCode: 200, body: { correlationId } }));
    const invalid = await handler(event({ 'x-correlation-id': 'not valid!' }), context);
    expect(invalid.headers?.['x-correlation-id']).toBe('api-request-1');
    const bare = { ...event({}), requestContext: {} } as unknown as APIGatewayProxyEvent;
    const generated = await handler(bare, context);
    expect(generated.headers?.['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('emits the request metrics (outcome, latency, processing time) and flushes them', async () => {
    const handler = apiHandler(async () => {
      throw new Error('fault');
    });
    const result = await handler(event({}), context);
    expect(result.statusCode).toBe(500);
    expect(out.metric('ApiFault')).toEqual([1]);
    expect(out.metric('ApiLatency')).toHaveLength(1);
    expect(out.metric('ProcessingTime')).toHaveLength(1);
    const failed = out.logs().find((l) => l.message === 'Request failed');
    expect(failed?.correlationId).toBe('api-request-1');
  });
});

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

  it('refuses with 401 a verified token whose subject is no identity, and never calls the route', async () => {
    // GIVEN tokens the authorizer let through WHEN their subject is not a usable identity THEN 401
    const calls: string[] = [];
    const handler = apiHandler(async ({ callerId }) => {
      calls.push(callerId);
      return { statusCode: 200 };
    });
    const withClaims = (claims: unknown): APIGatewayProxyEvent =>
      ({
        ...event({}),
        requestContext: { requestId: 'r', identity: {}, authorizer: { claims } },
      }) as unknown as APIGatewayProxyEvent;
    for (const sub of ['c-1\ud800', 5, '', 'a\u0000b', 'x'.repeat(513), null]) {
      const result = await handler(withClaims({ sub }), context);
      expect(result.statusCode, JSON.stringify(sub)).toBe(401);
      expect(JSON.parse(result.body)).toMatchObject({
        code: 'INVALID_CALLER',
        errors: [{ path: 'header.Authorization' }],
      });
    }
    expect((await handler(withClaims({}), context)).statusCode).toBe(401);
    expect((await handler(withClaims({ sub: 'c-1' }), context)).statusCode).toBe(200);
    expect(calls).toEqual(['c-1']);
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

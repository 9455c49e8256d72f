/**
 * The adapter between API Gateway's Lambda proxy integration and a route's logic: correlation id
 * (taken from `X-Correlation-Id`, else the API request id, else a fresh UUID; logged, annotated on
 * the trace, returned, and carried into every event the request causes), caller identity from
 * the authorizer, JSON responses, and the mapping of errors to `{message, errors}` bodies. A
 * client mistake is a 4xx; only a fault of ours is a 500, logged with its stack. Metrics per
 * request: ApiSuccess | ApiClientError | ApiFault, ApiLatency and ProcessingTime (ms), flushed.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { CORRELATION_ID_HEADER, correlationIdOf } from '../observability/correlation.js';
import { inHandlerSegment, PlatformMetric } from '../observability/invocation.js';
import { logger, metrics, tracer } from '../powertools.js';
import { HttpError, toHttpError } from './errors.js';
import { isWellFormed } from './request.js';

export interface ApiRequest {
  readonly event: APIGatewayProxyEvent;
  readonly context: Context;
  /** Carried into every event the request causes. */
  readonly correlationId: string;
  /** Who is calling: the JWT subject, or the IAM caller's ARN. */
  readonly callerId: string;
}

export interface ApiResponse {
  readonly statusCode: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * A header's value, whatever the case the client sent it in. Only own entries are read, so a
 * header named `constructor` or `__proto__` is just a header; a value that is not a string (never
 * from API Gateway, possible in a direct invocation) counts as absent. The value is as sent:
 * check it (`parseHeader`) before use.
 */
export function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  const headers: unknown = event.headers;
  if (headers === null || typeof headers !== 'object') return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted && typeof value === 'string') return value;
  }
  return undefined;
}

/** The longest caller identity we accept (a Cognito `sub` is a 36-character UUID; an IAM ARN fits). */
const MAX_CALLER_ID_LENGTH = 512;

/**
 * Who is calling. A token the authorizer verified can still carry a subject no identity provider
 * issues (a number, a lone surrogate, control characters, megabytes): it keys idempotency records
 * and ownership checks, so it is refused with 401 rather than used, or silently replaced by a
 * shared 'anonymous'.
 */
function callerOf(event: APIGatewayProxyEvent): string {
  const claims = event.requestContext?.authorizer?.claims as Record<string, unknown> | undefined;
  const hasClaims = claims !== null && typeof claims === 'object';
  const candidate: unknown =
    hasClaims && Object.hasOwn(claims, 'sub') ? claims.sub : event.requestContext?.identity?.userArn;
  if (candidate === undefined || candidate === null) {
    if (hasClaims) throw invalidCaller('the token has no subject');
    return 'anonymous';
  }
  if (
    typeof candidate !== 'string' ||
    candidate.length === 0 ||
    candidate.length > MAX_CALLER_ID_LENGTH ||
    !isWellFormed(candidate) ||
    /\p{Cc}/u.test(candidate)
  ) {
    throw invalidCaller('the token subject is not a valid identity');
  }
  return candidate;
}

const invalidCaller = (message: string) =>
  new HttpError(401, 'Unauthorized', [{ path: 'header.Authorization', message }], 'INVALID_CALLER');

function respond(response: ApiResponse, correlationId: string): APIGatewayProxyResult {
  return {
    statusCode: response.statusCode,
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      [CORRELATION_ID_HEADER]: correlationId,
      ...response.headers,
    },
    body: response.body === undefined ? '' : JSON.stringify(response.body),
  };
}

export function apiHandler(
  route: (request: ApiRequest) => Promise<ApiResponse>,
): (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult> {
  return (event, context) => inHandlerSegment(() => handle(event, context));

  async function handle(event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> {
    const started = performance.now();
    const correlationId = correlationIdOf(
      header(event, CORRELATION_ID_HEADER),
      event.requestContext?.requestId,
    );
    logger.addContext(context);
    logger.appendKeys({ correlationId, route: `${event.httpMethod} ${event.resource}` });
    tracer.putAnnotation('correlationId', correlationId);
    metrics.captureColdStartMetric();
    let result: APIGatewayProxyResult;
    try {
      result = respond(
        await route({ event, context, correlationId, callerId: callerOf(event) }),
        correlationId,
      );
    } catch (error) {
      const http = toHttpError(error);
      if (http) {
        logger.info('Request refused', {
          statusCode: http.statusCode,
          reason: http.message,
          code: http.code,
        });
        result = respond(
          { statusCode: http.statusCode, body: http.body, headers: http.headers },
          correlationId,
        );
      } else {
        logger.error('Request failed', error as Error);
        const fault = new HttpError(500, 'Internal server error', [], 'INTERNAL');
        result = respond({ statusCode: 500, body: fault.body }, correlationId);
      }
    } finally {
      logger.resetKeys();
    }
    metrics.addMetric(
      result.statusCode >= 500 ? 'ApiFault' : result.statusCode >= 400 ? 'ApiClientError' : 'ApiSuccess',
      MetricUnit.Count,
      1,
    );
    const elapsed = performance.now() - started;
    metrics.addMetric('ApiLatency', MetricUnit.Milliseconds, elapsed);
    metrics.addMetric(PlatformMetric.ProcessingTime, MetricUnit.Milliseconds, elapsed);
    metrics.publishStoredMetrics();
    return result;
  }
}

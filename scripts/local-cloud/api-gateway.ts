import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ValidateFunction } from 'ajv';
import AjvDraft04 from 'ajv-draft-04';
import type { CfnResource, StackArtifact } from './assembly.js';
import { type JwtIssuer, TokenError } from './auth/jwt-issuer.js';
import { verifySigV4 } from './auth/sigv4.js';
import type { Invoker } from './event-sources/types.js';
import { type ResolveContext, resolve } from './intrinsics.js';
import type { Finding } from './provision.js';

/** API Gateway's own limit on a request payload. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

type Segment =
  | { kind: 'literal'; value: string }
  | { kind: 'param'; name: string }
  | { kind: 'greedy'; name: string };

export interface Route {
  readonly apiId: string;
  readonly apiName: string;
  readonly stageName: string;
  readonly httpMethod: string;
  readonly resourcePath: string;
  readonly segments: Segment[];
  readonly functionArn: string;
  readonly authorizationType: string;
  readonly authorizer?: { type: string; identitySource?: string; functionArn?: string };
  readonly validateBody?: ValidateFunction;
  readonly requiredParameters: { location: 'querystring' | 'header' | 'path'; name: string }[];
  readonly validateParameters: boolean;
  /** The API's `AWS::ApiGateway::GatewayResponse`s by response type. */
  readonly gatewayResponses: GatewayResponses;
}

export interface GatewayResponseSpec {
  readonly statusCode?: number;
  readonly template?: string;
  readonly headers: Record<string, string>;
}
export type GatewayResponses = ReadonlyMap<string, GatewayResponseSpec>;

/** Reads each REST API's gateway responses (type → status, JSON template, static headers). */
function readGatewayResponses(
  resources: Record<string, CfnResource>,
  ctx: ResolveContext,
): Map<string, Map<string, GatewayResponseSpec>> {
  const byApi = new Map<string, Map<string, GatewayResponseSpec>>();
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::ApiGateway::GatewayResponse') continue;
    const p = r.Properties ?? {};
    const apiId = refOf(p.RestApiId) ?? '';
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(
      (p.ResponseParameters as Record<string, unknown> | undefined) ?? {},
    )) {
      const name = /^gatewayresponse\.header\.(.+)$/.exec(k)?.[1];
      const value = String(resolve(v, ctx, `${id}.ResponseParameters`));
      // Only static values ('quoted') are emulated.
      if (name && /^'.*'$/.test(value)) headers[name] = value.slice(1, -1);
    }
    const templates = p.ResponseTemplates as Record<string, unknown> | undefined;
    const spec: GatewayResponseSpec = {
      statusCode: p.StatusCode === undefined ? undefined : Number(resolve(p.StatusCode, ctx, id)),
      template:
        templates?.['application/json'] === undefined ? undefined : String(templates['application/json']),
      headers,
    };
    const map = byApi.get(apiId) ?? new Map<string, GatewayResponseSpec>();
    map.set(String(p.ResponseType), spec);
    byApi.set(apiId, map);
  }
  return byApi;
}

/** What API Gateway answers for its own errors, shaped by the API's gateway responses if any. */
export function renderGatewayResponse(
  responses: GatewayResponses | undefined,
  type: string,
  status: number,
  error: { message: string; validationErrorString?: string; requestId: string },
): { status: number; body: string; headers: Record<string, string> } {
  const spec = responses?.get(type) ?? responses?.get(status >= 500 ? 'DEFAULT_5XX' : 'DEFAULT_4XX');
  const body =
    spec?.template === undefined
      ? JSON.stringify({ message: error.message })
      : spec.template
          .replaceAll('$context.error.messageString', JSON.stringify(error.message))
          .replaceAll('$context.error.validationErrorString', error.validationErrorString ?? '')
          .replaceAll('$context.error.message', error.message)
          .replaceAll('$context.requestId', error.requestId);
  return { status: spec?.statusCode ?? status, body, headers: spec?.headers ?? {} };
}

// CommonJS module: under NodeNext its default import is module.exports, whose `default` is the class.
const ajv = new AjvDraft04.default({ allErrors: true, strict: false });

function refOf(value: unknown): string | undefined {
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (typeof v.Ref === 'string') return v.Ref;
    const getAtt = v['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return String(getAtt[0]);
  }
  return undefined;
}

function parsePath(path: string): Segment[] {
  return path
    .split('/')
    .filter(Boolean)
    .map((part): Segment => {
      const greedy = /^\{(.+)\+\}$/.exec(part);
      if (greedy?.[1]) return { kind: 'greedy', name: greedy[1] };
      const param = /^\{(.+)\}$/.exec(part);
      if (param?.[1]) return { kind: 'param', name: param[1] };
      return { kind: 'literal', value: part };
    });
}

/**
 * Reads the REST APIs of a stack: resources (by parent chain), methods with Lambda proxy
 * integrations, request validators and models, and authorization. Integrations other than
 * AWS_PROXY to Lambda are reported as unsupported.
 */
export function readRestApis(stack: StackArtifact, ctx: ResolveContext, unsupported: Finding[]): Route[] {
  const resources = stack.template.Resources;
  const byType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const routes: Route[] = [];
  const gatewayResponses = readGatewayResponses(resources, ctx);
  const stageOf = new Map<string, string>();
  for (const [, stage] of byType('AWS::ApiGateway::Stage')) {
    const apiId = refOf(stage.Properties?.RestApiId);
    if (apiId) stageOf.set(apiId, String(stage.Properties?.StageName ?? 'prod'));
  }
  const pathOf = (resourceId: string | undefined, apiId: string): string => {
    if (!resourceId || resourceId === apiId) return '/';
    const r = resources[resourceId];
    if (r?.Type !== 'AWS::ApiGateway::Resource') return '/';
    const parent = pathOf(refOf(r.Properties?.ParentId), apiId);
    return `${parent === '/' ? '' : parent}/${String(r.Properties?.PathPart)}`;
  };
  for (const [methodId, method] of byType('AWS::ApiGateway::Method')) {
    const p = method.Properties ?? {};
    const apiId = refOf(p.RestApiId) ?? '';
    const api = resources[apiId];
    const httpMethod = String(p.HttpMethod);
    if (httpMethod === 'OPTIONS' && (p.Integration as { Type?: string } | undefined)?.Type === 'MOCK')
      continue;
    const finding = { stackName: stack.stackName, logicalId: methodId, type: method.Type };
    const integration = p.Integration as { Type?: string; Uri?: unknown } | undefined;
    if (integration?.Type !== 'AWS_PROXY') {
      unsupported.push({
        ...finding,
        message: `integration type ${String(integration?.Type)} is not emulated (only AWS_PROXY to Lambda)`,
      });
      continue;
    }
    const uri = String(resolve(integration.Uri, ctx, `${methodId}.Integration.Uri`));
    const functionArn = /functions\/(.+)\/invocations/.exec(uri)?.[1] ?? '';
    const resourcePath = pathOf(refOf(p.ResourceId), apiId);
    const validator = resources[refOf(p.RequestValidatorId) ?? ''];
    const modelId = refOf((p.RequestModels as Record<string, unknown> | undefined)?.['application/json']);
    const model = modelId ? resources[modelId] : undefined;
    const validateBody =
      validator?.Properties?.ValidateRequestBody === true && model ? compile(model) : undefined;
    const requiredParameters = Object.entries(
      (p.RequestParameters as Record<string, boolean> | undefined) ?? {},
    )
      .filter(([, required]) => required === true)
      .map(([key]) => {
        const [, location, name] = /^method\.request\.(querystring|header|path)\.(.+)$/.exec(key) ?? [];
        return { location: location as 'querystring' | 'header' | 'path', name: name ?? '' };
      });
    const authorizerResource = resources[refOf(p.AuthorizerId) ?? ''];
    const authorizationType = String(p.AuthorizationType ?? 'NONE');
    let authorizer: Route['authorizer'];
    if (authorizerResource) {
      const ap = authorizerResource.Properties ?? {};
      const authUri = ap.AuthorizerUri
        ? String(resolve(ap.AuthorizerUri, ctx, `${methodId}.AuthorizerUri`))
        : '';
      authorizer = {
        type: String(ap.Type),
        identitySource: ap.IdentitySource ? String(ap.IdentitySource) : undefined,
        functionArn: /functions\/(.+)\/invocations/.exec(authUri)?.[1],
      };
    }
    routes.push({
      apiId,
      apiName: String(api?.Properties?.Name ?? apiId),
      stageName: stageOf.get(apiId) ?? 'prod',
      httpMethod,
      resourcePath,
      segments: parsePath(resourcePath),
      functionArn,
      authorizationType,
      authorizer,
      validateBody,
      requiredParameters,
      validateParameters: validator?.Properties?.ValidateRequestParameters === true,
      gatewayResponses: gatewayResponses.get(apiId) ?? new Map(),
    });
  }
  return routes;
}

function compile(model: CfnResource): ValidateFunction | undefined {
  const schema = model.Properties?.Schema;
  if (!schema || typeof schema !== 'object') return undefined;
  const { $schema: _ignored, ...rest } = schema as Record<string, unknown>;
  return ajv.compile(rest);
}

function match(route: Route, parts: string[]): Record<string, string> | undefined {
  // Keys are the template's parameter names; null prototype all the same, as every map built here.
  const params: Record<string, string> = Object.create(null);
  for (let i = 0; i < route.segments.length; i++) {
    const seg = route.segments[i] as Segment;
    if (seg.kind === 'greedy') {
      if (i >= parts.length) return undefined;
      params[seg.name] = parts.slice(i).join('/');
      return params;
    }
    const part = parts[i];
    if (part === undefined) return undefined;
    if (seg.kind === 'literal' && seg.value !== part) return undefined;
    if (seg.kind === 'param') params[seg.name] = part;
  }
  return parts.length === route.segments.length ? params : undefined;
}

/** Literal segments beat parameters, parameters beat greedy ones, as in API Gateway. */
function specificity(route: Route): number[] {
  return route.segments.map((s) => (s.kind === 'literal' ? 3 : s.kind === 'param' ? 2 : 1));
}

/**
 * Strict percent-decoding, as API Gateway does it: a `%` not followed by two hex digits, or escapes
 * that are not well-formed UTF-8 (`%FF`, a truncated sequence, an overlong form such as `%C0%AF`,
 * an encoded surrogate such as `%ED%A0%80`), make the whole request a 400 before any routing.
 * `decodeURIComponent` refuses exactly these; undefined when it does.
 */
export function strictDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** The decoded path segments, or undefined when one is not well-formed percent-encoded UTF-8. */
export function decodePathSegments(pathname: string): string[] | undefined {
  const parts: string[] = [];
  for (const raw of pathname.split('/')) {
    if (raw === '') continue;
    const decoded = strictDecode(raw);
    if (decoded === undefined) return undefined;
    parts.push(decoded);
  }
  return parts;
}

/**
 * The query string's parameters in order (`+` is a space, as in a form), or undefined when a name
 * or value is not well-formed percent-encoded UTF-8.
 */
export function decodeQuery(search: string): [string, string][] | undefined {
  const pairs: [string, string][] = [];
  const query = search.startsWith('?') ? search.slice(1) : search;
  if (query === '') return pairs;
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = strictDecode((eq < 0 ? part : part.slice(0, eq)).replaceAll('+', ' '));
    const value = strictDecode((eq < 0 ? '' : part.slice(eq + 1)).replaceAll('+', ' '));
    if (name === undefined || value === undefined) return undefined;
    pairs.push([name, value]);
  }
  return pairs;
}

/**
 * The Lambda proxy event's single- and multi-value maps of headers or query parameters, built from
 * request data: Maps while collecting (a name such as `constructor` or `__proto__` is just a name,
 * never a lookup on Object.prototype), then objects whose every entry is an own property.
 * `headers` joins repeated values with commas, `query` keeps the last, as API Gateway does.
 */
export function proxyMaps(
  entries: Iterable<readonly [string, string]>,
  single: 'join' | 'last',
): { single: Record<string, string>; multi: Record<string, string[]> } {
  const one = new Map<string, string>();
  const many = new Map<string, string[]>();
  for (const [name, value] of entries) {
    const previous = one.get(name);
    one.set(name, previous === undefined || single === 'last' ? value : `${previous},${value}`);
    const values = many.get(name);
    if (values) values.push(value);
    else many.set(name, [value]);
  }
  // Object.fromEntries defines own data properties: `__proto__` stays an ordinary key.
  return { single: Object.fromEntries(one), multi: Object.fromEntries(many) };
}

/** The raw header pairs of a request, in order. */
function headerPairs(req: IncomingMessage): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    pairs.push([req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string]);
  }
  return pairs;
}

/** The request URL; a request-target that is not one (or `//host`-like) is read as a path. */
function requestUrl(raw: string | undefined): URL | undefined {
  const target = raw ?? '/';
  try {
    return target.startsWith('/') ? new URL(`http://local${target}`) : new URL(target);
  } catch {
    return undefined;
  }
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  431: 'Request Header Fields Too Large',
};

export interface ApiGatewayOptions {
  readonly routes: Route[];
  readonly functionByArn: (arn: string) => Invoker | undefined;
  readonly issuer: JwtIssuer;
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  readonly accountId: string;
  readonly region: string;
  readonly log: (line: string) => void;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

/** Serves the routes of the templates' REST APIs with the Lambda proxy integration's event shape. */
export class LocalApiGateway {
  private server?: Server;
  private readonly routes: Route[];

  constructor(private readonly options: ApiGatewayOptions) {
    this.routes = [...options.routes].sort((a, b) => {
      const sa = specificity(a);
      const sb = specificity(b);
      for (let i = 0; i < Math.max(sa.length, sb.length); i++) {
        const d = (sb[i] ?? 0) - (sa[i] ?? 0);
        if (d !== 0) return d;
      }
      return 0;
    });
  }

  async listen(port: number, host = '127.0.0.1'): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: Error) => {
        this.options.log(`api: ${e.stack ?? e.message}`);
        if (!res.headersSent) send(res, 500, { message: 'Internal server error' });
      });
    });
    // Requests Node refuses before a handler sees them (headers over its 16 KiB limit, a malformed
    // request line): the gateway's 4xx in the API's error shape rather than Node's bare answer.
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
      if (error.code === 'ECONNRESET' || !socket.writable) {
        socket.destroy();
        return;
      }
      const status =
        error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      const message = STATUS_TEXT[status] ?? 'Bad Request';
      const out = renderGatewayResponse(this.defaultResponses(), 'DEFAULT_4XX', status, {
        message,
        requestId: randomUUID(),
      });
      socket.end(
        `HTTP/1.1 ${out.status} ${STATUS_TEXT[out.status] ?? message}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(out.body)}\r\nconnection: close\r\n\r\n${out.body}`,
      );
    });
    await new Promise<void>((ok, fail) => {
      this.server?.once('error', fail);
      this.server?.listen(port, host, () => ok());
    });
    const address = this.server.address() as AddressInfo;
    return `http://${host}:${address.port}`;
  }

  async close(): Promise<void> {
    await new Promise<void>((ok) => {
      this.server?.closeAllConnections();
      this.server ? this.server.close(() => ok()) : ok();
    });
  }

  private async readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_PAYLOAD_BYTES) return 'too-large';
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  private gatewayError(
    res: ServerResponse,
    responses: GatewayResponses | undefined,
    type: string,
    status: number,
    message: string,
    requestId: string,
    validationErrorString?: string,
  ): void {
    const out = renderGatewayResponse(responses, type, status, { message, requestId, validationErrorString });
    send(res, out.status, out.body, {
      'x-amzn-requestid': requestId,
      'x-amzn-errortype': type,
      ...out.headers,
    });
  }

  /** The gateway responses of the only API served, for errors that belong to no route. */
  private defaultResponses(): GatewayResponses | undefined {
    const responses = new Set(this.routes.map((r) => r.gatewayResponses));
    return responses.size === 1 ? [...responses][0] : undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const url = requestUrl(req.url);
    const parts = url && decodePathSegments(url.pathname);
    const queryPairs = url && decodeQuery(url.search);
    if (!url || !parts || !queryPairs) {
      // API Gateway refuses a URL that is not well-formed percent-encoded UTF-8 with a 400 before
      // routing (it never reaches the integration); the API's DEFAULT_4XX shapes the answer.
      this.gatewayError(
        res,
        this.defaultResponses(),
        'BAD_REQUEST_PARAMETERS',
        400,
        'Bad Request: the URL is not well-formed percent-encoded UTF-8',
        requestId,
      );
      return;
    }
    const method = req.method ?? 'GET';
    let params: Record<string, string> | undefined;
    const route = this.routes.find((r) => {
      if (r.httpMethod !== method && r.httpMethod !== 'ANY') return false;
      params = match(r, parts);
      return params !== undefined;
    });
    if (!route || !params) {
      // What API Gateway answers for a path or method it does not know.
      this.gatewayError(
        res,
        this.defaultResponses(),
        'MISSING_AUTHENTICATION_TOKEN',
        403,
        'Missing Authentication Token',
        requestId,
      );
      return;
    }
    const responses = route.gatewayResponses;
    const body = await this.readBody(req);
    if (body === 'too-large') {
      this.gatewayError(res, responses, 'REQUEST_TOO_LARGE', 413, 'Request Too Long', requestId);
      return;
    }
    const { single: headers, multi: multiValueHeaders } = proxyMaps(headerPairs(req), 'join');
    const auth = await this.authorize(route, req, url, body);
    if (!auth.ok) {
      const type =
        auth.status === 401 ? 'UNAUTHORIZED' : auth.status === 403 ? 'ACCESS_DENIED' : 'AUTHORIZER_FAILURE';
      this.gatewayError(res, responses, type, auth.status, auth.message, requestId);
      return;
    }
    if (route.validateParameters) {
      for (const p of route.requiredParameters) {
        const present =
          p.location === 'querystring'
            ? queryPairs.some(([name]) => name === p.name)
            : p.location === 'header'
              ? req.headers[p.name.toLowerCase()] !== undefined
              : params !== undefined && Object.hasOwn(params, p.name);
        if (!present) {
          this.gatewayError(
            res,
            responses,
            'BAD_REQUEST_PARAMETERS',
            400,
            `Missing required request parameters: [${p.name}]`,
            requestId,
          );
          return;
        }
      }
    }
    if (route.validateBody) {
      let parsed: unknown;
      let problem: string | undefined;
      try {
        parsed = JSON.parse(body.toString('utf8') || 'null');
        if (!route.validateBody(parsed)) {
          problem = (route.validateBody.errors ?? [])
            .map((e) => `${e.instancePath || 'instance'} ${e.message ?? 'is invalid'}`)
            .join(', ');
        }
      } catch (e) {
        problem = (e as Error).message;
      }
      if (problem !== undefined) {
        this.gatewayError(
          res,
          responses,
          'BAD_REQUEST_BODY',
          400,
          'Invalid request body',
          requestId,
          `[${problem}]`,
        );
        return;
      }
    }
    const { single: query, multi: multiQuery } = proxyMaps(queryPairs, 'last');
    const isText = /json|text|xml|x-www-form-urlencoded/.test(
      req.headers['content-type'] ?? 'application/json',
    );
    const event = {
      resource: route.resourcePath,
      path: url.pathname,
      httpMethod: method,
      headers,
      multiValueHeaders,
      queryStringParameters: Object.keys(query).length ? query : null,
      multiValueQueryStringParameters: Object.keys(multiQuery).length ? multiQuery : null,
      pathParameters: Object.keys(params).length ? { ...params } : null,
      stageVariables: null,
      requestContext: {
        accountId: this.options.accountId,
        apiId: route.apiId,
        resourceId: route.resourcePath,
        resourcePath: route.resourcePath,
        httpMethod: method,
        path: `/${route.stageName}${url.pathname}`,
        stage: route.stageName,
        requestId,
        extendedRequestId: requestId,
        requestTime: new Date().toUTCString(),
        requestTimeEpoch: Date.now(),
        protocol: `HTTP/${req.httpVersion}`,
        domainName: req.headers.host ?? '127.0.0.1',
        identity: {
          sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
          userAgent: req.headers['user-agent'] ?? null,
          accessKey: auth.accessKeyId ?? null,
          accountId: auth.accessKeyId ? this.options.accountId : null,
          caller: null,
          user: null,
          userArn: auth.accessKeyId ? `arn:aws:iam::${this.options.accountId}:user/local` : null,
          cognitoIdentityId: null,
          cognitoIdentityPoolId: null,
        },
        authorizer: auth.claims ? { claims: auth.claims, ...auth.context } : (auth.context ?? null),
      },
      body: body.length === 0 ? null : isText ? body.toString('utf8') : body.toString('base64'),
      isBase64Encoded: body.length > 0 && !isText,
    };
    const fn = this.options.functionByArn(route.functionArn);
    if (!fn) {
      this.gatewayError(res, responses, 'API_CONFIGURATION_ERROR', 500, 'Internal server error', requestId);
      this.options.log(`api: no local function for ${route.functionArn}`);
      return;
    }
    const outcome = await fn.invoke(event);
    if (!outcome.ok) {
      const [type, status, message] =
        outcome.kind === 'throttled'
          ? ['THROTTLED', 429, 'Too Many Requests']
          : outcome.kind === 'timeout'
            ? ['INTEGRATION_TIMEOUT', 504, 'Endpoint request timed out']
            : ['INTEGRATION_FAILURE', 502, 'Internal server error'];
      this.gatewayError(res, responses, type, status, message, requestId);
      return;
    }
    const result = outcome.result as {
      statusCode?: number;
      headers?: Record<string, string>;
      multiValueHeaders?: Record<string, string[]>;
      body?: string;
      isBase64Encoded?: boolean;
    } | null;
    if (!result || typeof result.statusCode !== 'number') {
      // API Gateway's answer to a proxy integration that returns something else.
      this.options.log(`api: ${method} ${url.pathname}: malformed Lambda proxy response`);
      this.gatewayError(res, responses, 'DEFAULT_5XX', 502, 'Internal server error', requestId);
      return;
    }
    res.statusCode = result.statusCode;
    res.setHeader('x-amzn-requestid', requestId);
    // A header a function returns that HTTP cannot carry (a bad name, a control character in the
    // value) is left out and logged, never a crash of the gateway.
    const setHeader = (name: string, value: string | string[]) => {
      try {
        res.setHeader(name, value);
      } catch (e) {
        this.options.log(
          `api: ${method} ${url.pathname}: response header ${JSON.stringify(name)} left out: ${(e as Error).message}`,
        );
      }
    };
    for (const [k, v] of Object.entries(result.headers ?? {})) setHeader(k, String(v));
    for (const [k, v] of Object.entries(result.multiValueHeaders ?? {}))
      if (Array.isArray(v)) setHeader(k, v.map(String));
    res.end(
      result.body === undefined
        ? ''
        : result.isBase64Encoded
          ? Buffer.from(result.body, 'base64')
          : result.body,
    );
  }

  private async authorize(
    route: Route,
    req: IncomingMessage,
    url: URL,
    body: Buffer,
  ): Promise<
    | { ok: true; claims?: Record<string, unknown>; context?: Record<string, unknown>; accessKeyId?: string }
    | { ok: false; status: number; message: string }
  > {
    switch (route.authorizationType) {
      case 'NONE':
        return { ok: true };
      case 'AWS_IAM': {
        const result = verifySigV4(
          {
            method: req.method ?? 'GET',
            path: url.pathname,
            query: url.searchParams,
            headers: req.headers,
            body,
          },
          this.options.credentials,
        );
        if (!result.ok) {
          return {
            ok: false,
            status: 403,
            message: req.headers.authorization
              ? `Forbidden: ${result.reason}`
              : 'Missing Authentication Token',
          };
        }
        return { ok: true, accessKeyId: result.accessKeyId };
      }
      case 'COGNITO_USER_POOLS': {
        const headerName = (route.authorizer?.identitySource ?? 'method.request.header.Authorization')
          .replace('method.request.header.', '')
          .toLowerCase();
        const raw = req.headers[headerName];
        const token = (Array.isArray(raw) ? raw[0] : raw)?.replace(/^Bearer\s+/i, '').trim();
        if (!token) return { ok: false, status: 401, message: 'Unauthorized' };
        try {
          return { ok: true, claims: { ...this.options.issuer.verify(token) } };
        } catch (e) {
          // Whatever the header holds, a token that does not verify is a 401, as from Cognito.
          if (!(e instanceof TokenError)) this.options.log(`api: token refused: ${(e as Error).message}`);
          return { ok: false, status: 401, message: 'Unauthorized' };
        }
      }
      case 'CUSTOM':
        return this.customAuthorizer(route, req, url);
      default:
        return {
          ok: false,
          status: 500,
          message: `authorization type ${route.authorizationType} is not emulated`,
        };
    }
  }

  private async customAuthorizer(route: Route, req: IncomingMessage, url: URL) {
    const fn = route.authorizer?.functionArn
      ? this.options.functionByArn(route.authorizer.functionArn)
      : undefined;
    if (!fn) return { ok: false as const, status: 500, message: 'authorizer function not found' };
    const methodArn = `arn:aws:execute-api:${this.options.region}:${this.options.accountId}:${route.apiId}/${route.stageName}/${req.method}${url.pathname}`;
    const headerName = (route.authorizer?.identitySource ?? 'method.request.header.Authorization')
      .replace('method.request.header.', '')
      .toLowerCase();
    const token = req.headers[headerName];
    if (route.authorizer?.type === 'TOKEN' && !token)
      return { ok: false as const, status: 401, message: 'Unauthorized' };
    const event =
      route.authorizer?.type === 'TOKEN'
        ? { type: 'TOKEN', authorizationToken: String(token), methodArn }
        : { type: 'REQUEST', methodArn, headers: req.headers, path: url.pathname, httpMethod: req.method };
    const outcome = await fn.invoke(event);
    if (!outcome.ok) {
      return outcome.errorMessage === 'Unauthorized'
        ? { ok: false as const, status: 401, message: 'Unauthorized' }
        : { ok: false as const, status: 500, message: 'AuthorizerConfigurationException' };
    }
    const policy = (outcome.result ?? {}) as {
      policyDocument?: { Statement?: { Effect?: string; Resource?: string | string[] }[] };
      context?: Record<string, unknown>;
      principalId?: string;
    };
    if (!Array.isArray(policy.policyDocument?.Statement ?? [])) {
      return { ok: false as const, status: 500, message: 'AuthorizerConfigurationException' };
    }
    const allowed = (policy.policyDocument?.Statement ?? []).some((s) => {
      const resources = (Array.isArray(s.Resource) ? s.Resource : [s.Resource ?? '']).map(String);
      const matches = resources.some((r) =>
        new RegExp(`^${r.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(methodArn),
      );
      return s.Effect === 'Allow' && matches;
    });
    const denied = (policy.policyDocument?.Statement ?? []).some((s) => s.Effect === 'Deny');
    if (!allowed || denied)
      return { ok: false as const, status: 403, message: 'User is not authorized to access this resource' };
    return { ok: true as const, context: { principalId: policy.principalId, ...policy.context } };
  }
}

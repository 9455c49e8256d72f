/**
 * The local API Gateway against hostile requests, over real sockets (no engines: the function is
 * an in-process stand-in that receives the event as the Lambda runtime does, through JSON). Every
 * refusal is a 4xx in the API's error shape; nothing is a 5xx.
 */
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodePathSegments,
  decodeQuery,
  type GatewayResponses,
  LocalApiGateway,
  proxyMaps,
  type Route,
  strictDecode,
} from '../../../scripts/local-cloud/api-gateway.js';
import { JwtIssuer } from '../../../scripts/local-cloud/auth/jwt-issuer.js';
import type { Invoker } from '../../../scripts/local-cloud/event-sources/types.js';

const SEED = Number(process.env.FC_SEED ?? 1404);
const PROTOTYPE_NAMES = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  '__defineGetter__',
];
/** `String.prototype.toWellFormed` (ES2024; the project's lib is ES2023). */
const wellFormed = (text: string): string => text.replace(/[\uD800-\uDFFF]/gu, '\uFFFD');
const MALFORMED = [
  '%',
  '%Z',
  '%ZZ',
  'a%2',
  '%E0%A4%A',
  '%FF%FE',
  '%C0%AF',
  '%ED%A0%80',
  '%ED%B0%80',
  '%F8%80%80%80%80',
];

// The app's gateway responses: the platform's error shape for every refusal of the gateway.
const template = '{"message":$context.error.messageString,"errors":[]}';
const responses: GatewayResponses = new Map([
  ['DEFAULT_4XX', { template, headers: {} }],
  ['DEFAULT_5XX', { template, headers: {} }],
]);

const route = (httpMethod: string, resourcePath: string, segments: Route['segments']): Route => ({
  apiId: 'Api',
  apiName: 'api',
  stageName: 'dev',
  httpMethod,
  resourcePath,
  segments,
  functionArn: 'echo',
  authorizationType: 'COGNITO_USER_POOLS',
  authorizer: { type: 'COGNITO_USER_POOLS', identitySource: 'method.request.header.Authorization' },
  requiredParameters: [],
  validateParameters: false,
  gatewayResponses: responses,
});

/** Answers 200 with the event it received, after the JSON trip the Lambda runtime makes. */
const echo: Invoker = {
  async invoke(event) {
    const received = JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
    const headers: Record<string, string> = { 'x-echo': 'ok' };
    // A function may return a header HTTP cannot carry; the gateway must survive it.
    if ((received.path as string).endsWith('/bad-header')) headers['x-bad'] = 'line\r\nbreak';
    return { ok: true, requestId: 'r', result: { statusCode: 200, headers, body: JSON.stringify(received) } };
  },
};

interface RawReply {
  status: number;
  headers: string;
  body: string;
}

/** Sends bytes as they are (no client-side URL or header normalisation) and reads the reply. */
function raw(port: number, request: Buffer | string): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      let body = rest.join('\r\n\r\n');
      if (/transfer-encoding: chunked/i.test(head)) {
        // De-chunk (small bodies): size line, data, ..., 0.
        let out = '';
        let restBody = body;
        for (;;) {
          const nl = restBody.indexOf('\r\n');
          const size = Number.parseInt(restBody.slice(0, nl), 16);
          if (!size) break;
          out += restBody.slice(nl + 2, nl + 2 + size);
          restBody = restBody.slice(nl + 2 + size + 2);
        }
        body = out;
      }
      resolve({
        status: Number(head.split(' ')[1]),
        headers: head,
        body: Buffer.from(body, 'latin1').toString('utf8'),
      });
    });
    socket.end(request);
  });
}

describe('the local API Gateway against hostile requests', () => {
  const issuer = new JwtIssuer(join(mkdtempSync(join(tmpdir(), 'issuer-')), 'key.pem'));
  const token = issuer.issue({ sub: 'u1' });
  const gateway = new LocalApiGateway({
    routes: [
      route('GET', '/orders/{orderId}', [
        { kind: 'literal', value: 'orders' },
        { kind: 'param', name: 'orderId' },
      ]),
      route('GET', '/orders', [{ kind: 'literal', value: 'orders' }]),
    ],
    functionByArn: () => echo,
    issuer,
    credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' },
    accountId: '123456789012',
    region: 'us-east-1',
    log: () => undefined,
  });
  let port = 0;

  beforeAll(async () => {
    port = Number(new URL(await gateway.listen(0)).port);
  });
  afterAll(() => gateway.close());

  const get = (target: string, headers: Record<string, string> = {}, encoding: BufferEncoding = 'latin1') =>
    raw(
      port,
      Buffer.from(
        `GET ${target} HTTP/1.1\r\nHost: local\r\nConnection: close\r\n${Object.entries({
          Authorization: `Bearer ${token}`,
          ...headers,
        })
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('')}\r\n`,
        encoding,
      ),
    );
  const platformError = (reply: RawReply) => JSON.parse(reply.body) as { message: string; errors: unknown[] };

  it('serves a well-formed request (the stand-in echoes the event)', async () => {
    const reply = await get('/orders/o%C3%BC-1?limit=5&limit=6');
    expect(reply.status).toBe(200);
    const event = JSON.parse(reply.body);
    expect(event.pathParameters).toEqual({ orderId: 'oü-1' });
    expect(event.queryStringParameters).toEqual({ limit: '6' });
    expect(event.multiValueQueryStringParameters).toEqual({ limit: ['5', '6'] });
  });

  it('passes headers and query parameters named like Object.prototype members as ordinary names', async () => {
    const query = PROTOTYPE_NAMES.map((n, i) => `${n}=v${i}`).join('&');
    const headers = Object.fromEntries(PROTOTYPE_NAMES.map((n, i) => [n, `h${i}`]));
    const reply = await get(`/orders/x?${query}&constructor=again`, headers);
    expect(reply.status).toBe(200);
    const event = JSON.parse(reply.body);
    for (const [i, name] of PROTOTYPE_NAMES.entries()) {
      expect(Object.hasOwn(event.headers, name)).toBe(true);
      expect(event.headers[name]).toBe(`h${i}`);
      expect(event.multiValueHeaders[name]).toEqual([`h${i}`]);
    }
    expect(event.queryStringParameters.constructor).toBe('again');
    expect(event.multiValueQueryStringParameters.constructor).toEqual(['v1', 'again']);
    expect(Object.getOwnPropertyDescriptor(event.queryStringParameters, '__proto__')?.value).toBe('v0');
  });

  it('never answers 5xx for any mix of header and query names and values (property)', async () => {
    const token68 = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/);
    const name = fc.oneof(fc.constantFrom(...PROTOTYPE_NAMES), token68);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(name, fc.stringMatching(/^[ -~]{0,16}$/)), { maxLength: 5 }),
        fc.array(fc.tuple(fc.oneof(name, fc.string({ maxLength: 6 })), fc.string({ maxLength: 8 })), {
          maxLength: 5,
        }),
        async (headers, query) => {
          const qs = query
            .map(([k, v]) => `${encodeURIComponent(wellFormed(k))}=${encodeURIComponent(wellFormed(v))}`)
            .join('&');
          const reply = await get(
            `/orders/x${qs ? `?${qs}` : ''}`,
            Object.fromEntries(
              headers.filter(
                ([k]) =>
                  k.toLowerCase() !== 'authorization' &&
                  k.toLowerCase() !== 'host' &&
                  k.toLowerCase() !== 'connection' &&
                  k.toLowerCase() !== 'content-length' &&
                  k.toLowerCase() !== 'transfer-encoding',
              ),
            ),
          );
          expect(reply.status).toBeLessThan(500);
        },
      ),
      { seed: SEED, numRuns: 60 },
    );
  });

  it.each(MALFORMED)('refuses the malformed path escape %s with 400 in the error shape', async (bad) => {
    for (const target of [`/orders/${bad}`, `/orders/a${bad}-`, `/nowhere/${bad}`]) {
      const reply = await get(target);
      expect(reply.status, target).toBe(400);
      expect(platformError(reply)).toEqual({ message: expect.stringContaining('Bad Request'), errors: [] });
    }
  });

  it.each(MALFORMED)('refuses the malformed query escape %s with 400 in the error shape', async (bad) => {
    for (const target of [`/orders/x?nextToken=${bad}`, `/orders?${bad}=1`]) {
      const reply = await get(target);
      expect(reply.status, target).toBe(400);
      expect(platformError(reply).errors).toEqual([]);
    }
  });

  it.each([
    ['Bearer', 'Bearer'],
    ['Bearer and spaces', 'Bearer    '],
    ['two segments', 'Bearer a.b'],
    ['three non-base64url segments', 'Bearer a*.b!.c~'],
    ['JSON null header', `Bearer ${Buffer.from('null').toString('base64url')}.e30.c2ln`],
    ['JSON array payload', `Bearer eyJhbGciOiJSUzI1NiJ9.${Buffer.from('[]').toString('base64url')}.c2ln`],
    ['JSON string payload', `Bearer eyJhbGciOiJSUzI1NiJ9.${Buffer.from('"x"').toString('base64url')}.c2ln`],
    ['JSON number header', `Bearer ${Buffer.from('42').toString('base64url')}.e30.c2ln`],
    ['not UTF-8', `Bearer ${Buffer.from([0xff, 0xfe]).toString('base64url')}.e30.c2ln`],
    ['a signature of the wrong length', `Bearer ${token.split('.').slice(0, 2).join('.')}.AAAA`],
    ['alg none', `Bearer ${Buffer.from('{"alg":"none"}').toString('base64url')}.${token.split('.')[1]}.`],
    ['non-ASCII bytes', 'Bearer \u00e9\u00ff.\u00e0.\u00fc'],
    ['a huge token', `Bearer ${'A'.repeat(12_000)}.${'B'.repeat(100)}.C`],
    ['a basic credential', 'Basic dXNlcjpwYXNz'],
  ])('answers 401 {message: Unauthorized} to an Authorization of %s', async (_what, authorization) => {
    const reply = await get('/orders/x', { Authorization: authorization });
    expect(reply.status).toBe(401);
    expect(platformError(reply)).toEqual({ message: 'Unauthorized', errors: [] });
  });

  it('answers 401 to any Authorization that is not a token of the issuer (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^[!-~][ -~]{0,200}$/), async (value) => {
        const reply = await get('/orders/x', { Authorization: value });
        expect(reply.status).toBe(401);
      }),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('answers headers over the limit with 431 in the error shape, not a bare socket answer', async () => {
    const reply = await get('/orders/x', { 'X-Big': 'x'.repeat(20_000) });
    expect(reply.status).toBe(431);
    expect(platformError(reply)).toEqual({ message: expect.any(String), errors: [] });
  });

  it('survives a response header the function returns that HTTP cannot carry', async () => {
    const reply = await get('/orders/bad-header');
    expect(reply.status).toBe(200);
    expect(reply.headers).not.toMatch(/x-bad/i);
  });

  it('keeps %00, control characters and // in paths as data for the handler to judge', async () => {
    const nul = await get('/orders/a%00b');
    expect(nul.status).toBe(200);
    expect(JSON.parse(nul.body).pathParameters).toEqual({ orderId: 'a\u0000b' });
    expect((await get('//orders/x')).status).toBeLessThan(500);
  });
});

describe('strict percent-decoding and proxy maps', () => {
  it('decodes well-formed escapes and refuses every malformed one', () => {
    expect(strictDecode('a%20b%C3%BC')).toBe('a bü');
    for (const bad of MALFORMED) expect(strictDecode(bad)).toBeUndefined();
    expect(decodePathSegments('/orders/%ZZ')).toBeUndefined();
    expect(decodePathSegments('/orders/a%2Fb/')).toEqual(['orders', 'a/b']);
    expect(decodeQuery('?a=1&b&a=2&c=x+y')).toEqual([
      ['a', '1'],
      ['b', ''],
      ['a', '2'],
      ['c', 'x y'],
    ]);
    expect(decodeQuery('?a=%E0%A4%A')).toBeUndefined();
  });

  it('round-trips any well-formed text through encodeURIComponent (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const fixed = wellFormed(text);
        expect(strictDecode(encodeURIComponent(fixed))).toBe(fixed);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('builds maps where any name is an own entry and nothing is read from Object.prototype (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.oneof(fc.constantFrom(...PROTOTYPE_NAMES), fc.string({ maxLength: 6 })), fc.string()),
          {
            maxLength: 8,
          },
        ),
        (entries) => {
          const { single, multi } = proxyMaps(entries, 'join');
          const names = [...new Set(entries.map(([k]) => k))];
          expect(Object.keys(single).sort()).toEqual([...names].sort());
          for (const name of names) {
            const values = entries.filter(([k]) => k === name).map(([, v]) => v);
            expect(Object.hasOwn(multi, name)).toBe(true);
            expect(multi[name]).toEqual(values);
            expect(single[name]).toBe(values.join(','));
          }
          const roundTripped = JSON.parse(JSON.stringify(multi));
          expect(Object.keys(roundTripped).sort()).toEqual([...names].sort());
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });
});

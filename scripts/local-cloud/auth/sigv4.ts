import { createHash, createHmac } from 'node:crypto';

/**
 * Verifies an AWS Signature Version 4 `Authorization` header against the local credentials,
 * recomputing the signature as AWS does (canonical request, string to sign, derived key).
 */
export interface SignedRequest {
  readonly method: string;
  /** Path as sent, without the query string. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

export type SigV4Result = { ok: true; accessKeyId: string } | { ok: false; reason: string };

const MAX_SKEW_MS = 5 * 60 * 1000;
const encode = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();

function header(headers: SignedRequest['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

export function verifySigV4(
  request: SignedRequest,
  credentials: { accessKeyId: string; secretAccessKey: string },
  now = Date.now(),
): SigV4Result {
  const authorization = header(request.headers, 'authorization');
  if (!authorization?.startsWith('AWS4-HMAC-SHA256 '))
    return { ok: false, reason: 'missing SigV4 Authorization' };
  // A Map: a field named `constructor` or `__proto__` is just an unknown field.
  const fields = new Map<string, string>();
  for (const kv of authorization.slice('AWS4-HMAC-SHA256 '.length).split(',')) {
    const eq = kv.indexOf('=');
    if (eq > 0) fields.set(kv.slice(0, eq).trim(), kv.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential')?.split('/');
  const signedHeaders = fields.get('SignedHeaders')?.split(';');
  const signature = fields.get('Signature');
  if (credential?.length !== 5 || !signedHeaders || !signature) {
    return { ok: false, reason: 'malformed Authorization header' };
  }
  const [accessKeyId, date, region, service] = credential as [string, string, string, string, string];
  if (accessKeyId !== credentials.accessKeyId) return { ok: false, reason: 'unknown access key' };
  const amzDate = header(request.headers, 'x-amz-date');
  if (!amzDate?.startsWith(date)) return { ok: false, reason: 'missing or mismatched X-Amz-Date' };
  const signedAt = Date.parse(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  if (!Number.isFinite(signedAt) || Math.abs(now - signedAt) > MAX_SKEW_MS) {
    return { ok: false, reason: 'signature expired (clock skew over 5 minutes)' };
  }
  let canonicalPath: string;
  try {
    canonicalPath = request.path
      .split('/')
      .map((seg) => encode(encode(decodeURIComponent(seg))))
      .join('/');
  } catch {
    return { ok: false, reason: 'the path is not well-formed percent-encoded UTF-8' };
  }
  const canonicalQuery = [...request.query.entries()]
    .map(([k, v]) => [encode(k), encode(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalHeaders = signedHeaders
    .map((h) => `${h}:${(header(request.headers, h) ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const payloadHash = header(request.headers, 'x-amz-content-sha256') ?? sha256(request.body);
  const canonicalRequest = [
    request.method,
    canonicalPath,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, date), region), service),
    'aws4_request',
  );
  const expected = createHmac('sha256', key).update(stringToSign).digest('hex');
  return expected === signature
    ? { ok: true, accessKeyId }
    : { ok: false, reason: 'signature does not match' };
}

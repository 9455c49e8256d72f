import { createHash, createHmac } from 'node:crypto';

/** A minimal SigV4 signer for the tests, independent of the verifier it checks. */
export async function signedFetch(
  url: string,
  credentials: { accessKeyId: string; secretAccessKey: string },
  region = 'us-east-1',
): Promise<Response> {
  const u = new URL(url);
  const amzDate = new Date().toISOString().replace(/[:-]|\.\d{3}/g, '');
  const date = amzDate.slice(0, 8);
  const payloadHash = createHash('sha256').update('').digest('hex');
  const host = u.host;
  const canonical = [
    'GET',
    u.pathname,
    '',
    `host:${host}\nx-amz-date:${amzDate}\n`,
    'host;x-amz-date',
    payloadHash,
  ].join('\n');
  const scope = `${date}/${region}/execute-api/aws4_request`;
  const toSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    createHash('sha256').update(canonical).digest('hex'),
  ].join('\n');
  const h = (k: string | Buffer, d: string) => createHmac('sha256', k).update(d).digest();
  const key = h(h(h(h(`AWS4${credentials.secretAccessKey}`, date), region), 'execute-api'), 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  return fetch(url, {
    headers: {
      'x-amz-date': amzDate,
      authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=host;x-amz-date, Signature=${signature}`,
    },
  });
}

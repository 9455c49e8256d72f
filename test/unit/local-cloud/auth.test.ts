import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JwtIssuer, TokenError } from '../../../scripts/local-cloud/auth/jwt-issuer.js';
import { verifySigV4 } from '../../../scripts/local-cloud/auth/sigv4.js';

describe('the local JWT issuer', () => {
  const keyFile = join(mkdtempSync(join(tmpdir(), 'issuer-')), 'key.pem');
  const issuer = new JwtIssuer(keyFile);

  it('verifies its own tokens and returns the claims', () => {
    const claims = issuer.verify(issuer.issue({ sub: 'u1', scope: 'orders/write' }));
    expect(claims).toMatchObject({ sub: 'u1', scope: 'orders/write' });
  });

  it('keeps its key across instances (tokens survive a restart)', () => {
    expect(new JwtIssuer(keyFile).verify(issuer.issue()).sub).toBe('local-user');
  });

  it('rejects tampered, expired, foreign and malformed tokens', () => {
    const [h, , s] = issuer.issue().split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ sub: 'admin', iss: 'x', exp: 9e9 })).toString('base64url')}.${s}`;
    expect(() => issuer.verify(forged)).toThrow(TokenError);
    expect(() => issuer.verify(issuer.issue({}, -10))).toThrow(/expired/);
    const other = new JwtIssuer(join(mkdtempSync(join(tmpdir(), 'issuer-')), 'key.pem'));
    expect(() => issuer.verify(other.issue())).toThrow(/bad signature/);
    expect(() => issuer.verify('abc')).toThrow(/not a JWT/);
  });
});

describe('SigV4 verification', () => {
  // The example request of the AWS Signature Version 4 test suite ("get-vanilla").
  const request = {
    method: 'GET',
    path: '/',
    query: new URLSearchParams(),
    headers: {
      host: 'example.amazonaws.com',
      'x-amz-date': '20150830T123600Z',
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    },
    body: Buffer.alloc(0),
  };
  const credentials = {
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  };
  const at = Date.parse('2015-08-30T12:36:00Z');

  it('accepts the AWS test-suite signature', () => {
    expect(verifySigV4(request, credentials, at)).toEqual({ ok: true, accessKeyId: 'AKIDEXAMPLE' });
  });

  it('rejects a wrong secret, an unknown key, a stale date and a missing header', () => {
    expect(verifySigV4(request, { ...credentials, secretAccessKey: 'x' }, at)).toMatchObject({ ok: false });
    expect(verifySigV4(request, { ...credentials, accessKeyId: 'OTHER' }, at)).toEqual({
      ok: false,
      reason: 'unknown access key',
    });
    expect(verifySigV4(request, credentials, at + 10 * 60_000)).toMatchObject({
      ok: false,
      reason: /expired/,
    });
    expect(verifySigV4({ ...request, headers: {} }, credentials, at)).toMatchObject({ ok: false });
  });
});

/**
 * The Authorization values of the hostile cases: valid tokens of the local issuer, and the
 * malformed, expired, forged and oddly-claimed ones a hostile client sends.
 */
import { createPrivateKey, type KeyObject, sign } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../../scripts/lib/python.js';
import { JwtIssuer, LOCAL_ISSUER } from '../../../scripts/local-cloud/auth/jwt-issuer.js';
import type { AuthKind } from '../generators/routes.js';

const b64url = (data: string) => Buffer.from(data, 'utf8').toString('base64url');

/** A JWT with these exact header and payload texts, signed with `key` (RS256). */
function signed(key: KeyObject, header: string, payload: string): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

export function authorizationValues(
  issuer: JwtIssuer,
  subject: string,
): Record<AuthKind, string | undefined> {
  // The local issuer's key (JwtIssuer keeps it in the checkout): tokens it would verify, with claims it never issues.
  const key = createPrivateKey(readFileSync(join(ROOT, '.local-cloud', 'issuer-key.pem')));
  const header = JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: issuer.keyId });
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: subject, iss: LOCAL_ISSUER, iat: now, exp: now + 3600 };
  const stranger = new JwtIssuer(join(mkdtempSync(join(tmpdir(), 'hostile-issuer-')), 'key.pem'));
  const token = issuer.issue({ sub: subject });
  return {
    valid: `Bearer ${token}`,
    'lower-case scheme': `bearer ${token}`,
    'two spaces after Bearer': `Bearer  ${token}`,
    'subject with a lone surrogate': `Bearer ${issuer.issue({ sub: `${subject}\ud800` })}`,
    'subject __proto__': `Bearer ${issuer.issue({ sub: '__proto__' })}`,
    'numeric subject': `Bearer ${issuer.issue({ sub: 5 })}`,
    missing: undefined,
    'Bearer only': 'Bearer',
    'Bearer and a space': 'Bearer ',
    'Bearer a.b': 'Bearer a.b',
    'Bearer a.b.c': 'Bearer a.b.c',
    'garbage base64': 'Bearer !!!.@@@.###',
    'wrong signature': `Bearer ${stranger.issue({ sub: subject })}`,
    expired: `Bearer ${issuer.issue({ sub: subject }, -3600)}`,
    'alg none': `Bearer ${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}.`,
    'header is null': `Bearer ${signed(key, 'null', JSON.stringify(claims))}`,
    'claims are null': `Bearer ${signed(key, header, 'null')}`,
    'claims are an array': `Bearer ${signed(key, header, '[1,2]')}`,
    'claims are a string': `Bearer ${signed(key, header, '"sub"')}`,
    'wrong issuer': `Bearer ${signed(key, header, JSON.stringify({ ...claims, iss: 'https://issuer.example' }))}`,
    'Basic scheme': 'Basic dXNlcjpwYXNz',
    '7 KB token': `Bearer ${'a'.repeat(7000)}`,
    'token of prototype names': 'Bearer __proto__.constructor.toString',
  };
}

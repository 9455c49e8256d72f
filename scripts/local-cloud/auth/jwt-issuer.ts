import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomUUID,
  sign,
  verify,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The local token issuer that stands in for a Cognito user pool or any OIDC provider: RS256 tokens
 * signed with a key generated once per checkout (kept in `.local-cloud/`, never committed).
 */
export const LOCAL_ISSUER = 'http://127.0.0.1/local-issuer';

export interface Claims {
  readonly sub: string;
  readonly iss: string;
  readonly exp: number;
  readonly iat: number;
  readonly [claim: string]: unknown;
}

export class TokenError extends Error {}

/** A Cognito token is about 1 KiB; a longer one is refused before any decoding. */
export const MAX_TOKEN_LENGTH = 8 * 1024;
const BASE64URL_SEGMENT = /^[A-Za-z0-9_-]+$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A JWT segment as a JSON object, or a TokenError: never any other error, whatever the input. */
function jsonObjectOf(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(Buffer.from(segment, 'base64url')));
  } catch {
    throw new TokenError(`token ${what} is not base64url JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TokenError(`token ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

export class JwtIssuer {
  private readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly keyId: string;

  constructor(keyFile = join(process.cwd(), '.local-cloud', 'issuer-key.pem')) {
    if (!existsSync(keyFile)) {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      mkdirSync(dirname(keyFile), { recursive: true });
      writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    }
    this.privateKey = createPrivateKey(readFileSync(keyFile));
    this.publicKey = createPublicKey(this.privateKey);
    this.keyId = b64url(this.publicKey.export({ type: 'spki', format: 'der' }).subarray(-16));
  }

  issue(claims: Record<string, unknown> = {}, ttlSeconds = 3600): string {
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', kid: this.keyId };
    const payload = {
      sub: 'local-user',
      iss: LOCAL_ISSUER,
      token_use: 'id',
      'cognito:username': 'local-user',
      jti: randomUUID(),
      ...claims,
      iat: now,
      exp: now + ttlSeconds,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    return `${input}.${b64url(sign('sha256', Buffer.from(input), this.privateKey))}`;
  }

  /**
   * Verifies signature, algorithm, issuer and expiry; returns the claims. Any token that is not
   * one of ours (not three base64url segments, not JSON objects, too long, not ASCII) is a
   * TokenError, so that the gateway answers 401 and never 500.
   */
  verify(token: string): Claims {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) {
      throw new TokenError('token is too long');
    }
    const parts = token.split('.');
    if (parts.length !== 3) throw new TokenError('token is not a JWT');
    const [h, p, s] = parts as [string, string, string];
    if (![h, p, s].every((segment) => BASE64URL_SEGMENT.test(segment))) {
      throw new TokenError('token segments are not base64url');
    }
    const header = jsonObjectOf(h, 'header');
    const claims = jsonObjectOf(p, 'payload');
    if (header.alg !== 'RS256') throw new TokenError(`unsupported alg ${String(header.alg)}`);
    let valid: boolean;
    try {
      valid = verify('sha256', Buffer.from(`${h}.${p}`), this.publicKey, Buffer.from(s, 'base64url'));
    } catch {
      valid = false;
    }
    if (!valid) throw new TokenError('bad signature');
    if (claims.iss !== LOCAL_ISSUER) throw new TokenError(`unknown issuer ${String(claims.iss)}`);
    if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp) || claims.exp * 1000 < Date.now())
      throw new TokenError('token expired');
    return claims as Claims;
  }
}

/**
 * The resource id that an `Idempotency-Key` stands for. Pure: nothing from AWS or Lambda.
 *
 * A key must mean one resource ever, whatever happened to the attempts that used it (one that died
 * after writing, one whose idempotency record expired or was deleted after a failure). Deriving
 * the id from (caller, key) makes every attempt write to the same aggregate, so the event store's
 * conditional first append, not a record with a lifetime, decides that it exists once.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { isWellFormed } from './request.js';

/** `Idempotency-Key`: 1..255 printable ASCII characters without spaces (a UUID fits). */
export const idempotencyKeySchema = z
  .string()
  .min(1, 'Idempotency-Key must not be empty')
  .max(255, 'Idempotency-Key must be at most 255 characters')
  .regex(/^[\x21-\x7e]+$/, 'Idempotency-Key must be printable ASCII without spaces');

/**
 * A name-based UUID (RFC 9562 version 5: SHA-1 of `namespace` and the name) for the key of a
 * caller. Version 5 ids never equal the random (version 4) ids of requests without a key, and
 * two callers' equal keys give different ids.
 */
export function idForIdempotencyKey(namespace: string, callerId: string, key: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(namespace)) {
    throw new RangeError(`namespace must be a lower-case UUID, got ${namespace}`);
  }
  if (!isWellFormed(callerId) || !isWellFormed(key)) {
    throw new RangeError('callerId and key must be well-formed Unicode');
  }
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replaceAll('-', ''), 'hex'))
    // The caller id never holds a line feed's worth of ambiguity: the key is printable ASCII.
    .update(`${callerId}\n${key}`, 'utf8')
    .digest()
    .subarray(0, 16);
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50;
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80;
  const hex = hash.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

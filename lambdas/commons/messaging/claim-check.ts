/**
 * Claim check: an event whose message would pass the SNS/SQS size limit (256 KiB with attributes)
 * is stored aside and sent as a small reference; consumers swap the reference back for the event,
 * so handlers never see the difference. Pure of AWS: the store is a port (S3 in the cloud).
 */

/** Messages up to this many bytes travel inline (a margin under 256 KiB for the attributes). */
export const DEFAULT_CLAIM_CHECK_THRESHOLD_BYTES = 200 * 1024;

export interface ClaimCheckStore {
  /** Stores `body` under `key`; returns the location to put in the reference. */
  put(key: string, body: string): Promise<ClaimCheckRef>;
  get(ref: ClaimCheckRef): Promise<string>;
}

export interface ClaimCheckRef {
  readonly bucket: string;
  readonly key: string;
}

export interface ClaimCheckMessage {
  readonly claimCheck: ClaimCheckRef;
  readonly eventId: string;
  readonly type: string;
  readonly bytes: number;
}

/** The message to send for `body`: the body itself, or a reference to where it was stored. */
export async function toTransport(
  body: string,
  event: { eventId: string; type: string },
  store: ClaimCheckStore | undefined,
  thresholdBytes = DEFAULT_CLAIM_CHECK_THRESHOLD_BYTES,
): Promise<{ message: string; claimChecked: boolean }> {
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes <= thresholdBytes) return { message: body, claimChecked: false };
  if (!store)
    throw new Error(`message of ${bytes} bytes exceeds ${thresholdBytes} and no claim-check store is set`);
  const claimCheck = await store.put(`events/${event.eventId}.json`, body);
  const reference: ClaimCheckMessage = { claimCheck, eventId: event.eventId, type: event.type, bytes };
  return { message: JSON.stringify(reference), claimChecked: true };
}

export function isClaimCheck(value: unknown): value is ClaimCheckMessage {
  if (value === null || typeof value !== 'object') return false;
  const ref = (value as { claimCheck?: unknown }).claimCheck;
  return (
    ref !== null &&
    typeof ref === 'object' &&
    typeof (ref as ClaimCheckRef).bucket === 'string' &&
    typeof (ref as ClaimCheckRef).key === 'string'
  );
}

/** The parsed body of a received message, with a claim-check reference swapped for the event. */
export async function fromTransport(parsed: unknown, store: ClaimCheckStore | undefined): Promise<unknown> {
  if (!isClaimCheck(parsed)) return parsed;
  if (!store) throw new Error('a claim-check reference arrived but no claim-check store is set');
  return JSON.parse(await store.get(parsed.claimCheck));
}

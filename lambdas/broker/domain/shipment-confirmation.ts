/** The warehouse's shipment confirmation, as it arrives on `shipment_confirmations`. Pure. */
import * as z from 'zod';
import { isWellFormed } from '../../commons/messaging/well-formed.js';

/** An id of well-formed text: a lone UTF-16 surrogate (valid JSON) would reach the event store. */
const id = z
  .string()
  .min(1)
  .max(128)
  .refine(isWellFormed, 'must be well-formed Unicode (it holds a lone UTF-16 surrogate)');

export const shipmentConfirmationSchema = z.strictObject({
  orderId: id,
  shipmentId: id,
  trackingNumber: id,
  confirmedAt: z.iso.datetime({ offset: true, error: 'confirmedAt must be an ISO-8601 date-time' }),
});
export type ShipmentConfirmation = z.infer<typeof shipmentConfirmationSchema>;

export type DecodedConfirmation =
  | { readonly ok: true; readonly confirmation: ShipmentConfirmation }
  | { readonly ok: false; readonly reason: string };

export function decodeConfirmation(body: string): DecodedConfirmation {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    return { ok: false, reason: `the body is not JSON: ${(error as Error).message}` };
  }
  const parsed = shipmentConfirmationSchema.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      reason: `not a shipment confirmation: ${parsed.error.issues
        .map((i) => `${i.path.map(String).join('.') || '(body)'}: ${i.message}`)
        .join('; ')}`,
    };
  }
  return { ok: true, confirmation: parsed.data };
}

/** The warehouse's shipment confirmation, as it arrives on `shipment_confirmations`. Pure. */
import * as z from 'zod';

export const shipmentConfirmationSchema = z.strictObject({
  orderId: z.string().min(1).max(128),
  shipmentId: z.string().min(1).max(128),
  trackingNumber: z.string().min(1).max(128),
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

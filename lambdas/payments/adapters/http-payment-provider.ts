/**
 * The payment provider over HTTPS: `POST {endpoint}/charges` with the charge as JSON, a bearer API
 * key (from Secrets Manager, read once per container) and the charge's `Idempotency-Key`, so a
 * retried request never charges twice. 2xx → charged; 402 → declined; 408, 429, 5xx, network
 * errors and timeouts → transient; any other status is a fault of ours (a thrown error).
 */
import {
  type ChargeContext,
  type ChargeRequest,
  type ChargeResult,
  PaymentDeclinedError,
  type PaymentProvider,
  TransientPaymentError,
} from '../domain/payment-provider.js';

export interface HttpPaymentProviderOptions {
  readonly endpoint: string;
  readonly apiKey: () => Promise<string>;
  /** @default 5000 */
  readonly timeoutMs?: number;
}

export class HttpPaymentProvider implements PaymentProvider {
  constructor(private readonly options: HttpPaymentProviderOptions) {}

  async charge(request: ChargeRequest, _context: ChargeContext): Promise<ChargeResult> {
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${this.options.endpoint.replace(/\/$/, '')}/charges`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await this.options.apiKey()}`,
          'content-type': 'application/json',
          'idempotency-key': request.idempotencyKey,
        },
        body: JSON.stringify({
          amount: request.amount,
          currency: request.currency,
          source: request.paymentToken,
          reference: request.orderId,
        }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
      });
      // The timeout covers the body too: a stalled body is as transient as no answer.
      text = await response.text();
    } catch (error) {
      throw new TransientPaymentError(`payment provider unreachable: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (response.ok) {
      const id = (safeJson(text) as { id?: unknown } | undefined)?.id;
      // Retrying is safe (same Idempotency-Key): the provider returns the same charge.
      if (typeof id !== 'string')
        throw new TransientPaymentError('payment provider answered without a charge id');
      return { paymentId: id };
    }
    if (response.status === 402) {
      const reason = (safeJson(text) as { message?: unknown } | undefined)?.message;
      throw new PaymentDeclinedError(typeof reason === 'string' ? reason : 'declined by the provider');
    }
    if (response.status === 408 || response.status === 429 || response.status >= 500) {
      throw new TransientPaymentError(`payment provider answered ${response.status}`);
    }
    throw new Error(`payment provider refused the request: ${response.status} ${text.slice(0, 200)}`);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

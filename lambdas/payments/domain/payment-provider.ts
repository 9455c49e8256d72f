/**
 * The payment-provider port and its deterministic test adapter. Pure: no AWS, no Lambda.
 *
 * A provider either charges (a payment id), declines (a business outcome: never retried), or fails
 * transiently (its fault: retried with backoff, and counted by the circuit breaker).
 */

export interface ChargeRequest {
  readonly orderId: string;
  /** Minor units. */
  readonly amount: number;
  readonly currency: string;
  /** The customer's payment method, tokenized by the client. */
  readonly paymentToken: string;
  /** The provider must charge at most once per key. */
  readonly idempotencyKey: string;
}

export interface ChargeContext {
  /** 1 for the first try of this order's charge, 2 for the next, … (the queue's receive count). */
  readonly attempt: number;
}

export interface ChargeResult {
  readonly paymentId: string;
}

export interface PaymentProvider {
  charge(request: ChargeRequest, context: ChargeContext): Promise<ChargeResult>;
}

/** The provider refused the payment (card declined, insufficient funds): final. */
export class PaymentDeclinedError extends Error {
  constructor(readonly reason: string) {
    super(`Payment declined: ${reason}`);
    this.name = 'PaymentDeclinedError';
  }
}

/** The provider could not answer now (5xx, timeout, throttling): retry later. */
export class TransientPaymentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientPaymentError';
  }
}

/** Tokens the test provider understands; any other token is charged. */
export const TEST_TOKENS = {
  /** Always declined. */
  decline: 'tok_decline',
  /** `tok_transient_<n>`: fails transiently on the first n attempts, then charges. */
  transientPrefix: 'tok_transient_',
  /** Always fails transiently (drives the circuit breaker open). */
  unavailable: 'tok_unavailable',
} as const;

/**
 * A deterministic provider chosen by configuration for tests and the local runtime: its outcome
 * depends only on the token and the attempt, so every path can be driven through the real queues.
 */
export class TestPaymentProvider implements PaymentProvider {
  async charge(request: ChargeRequest, context: ChargeContext): Promise<ChargeResult> {
    const { paymentToken: token } = request;
    if (token === TEST_TOKENS.decline) throw new PaymentDeclinedError('card declined (test token)');
    if (token === TEST_TOKENS.unavailable)
      throw new TransientPaymentError('provider unavailable (test token)');
    if (token.startsWith(TEST_TOKENS.transientPrefix)) {
      const failures = Number(token.slice(TEST_TOKENS.transientPrefix.length));
      if (Number.isInteger(failures) && context.attempt <= failures) {
        throw new TransientPaymentError(`transient failure ${context.attempt} of ${failures} (test token)`);
      }
    }
    return { paymentId: `pay_test_${request.idempotencyKey}` };
  }
}

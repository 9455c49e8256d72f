import { describe, expect, it } from 'vitest';
import {
  type ChargeRequest,
  PaymentDeclinedError,
  TEST_TOKENS,
  TestPaymentProvider,
  TransientPaymentError,
} from '../../../lambdas/payments/domain/payment-provider.js';

const request = (overrides: Partial<ChargeRequest> = {}): ChargeRequest => ({
  orderId: 'ord-1',
  amount: 2500,
  currency: 'EUR',
  paymentToken: 'tok_visa',
  idempotencyKey: 'ord-1:payment',
  ...overrides,
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the charge to fail');
    },
    (error: unknown) => error,
  );
}

describe('TestPaymentProvider', () => {
  const provider = new TestPaymentProvider();

  it('names the tokens it understands', () => {
    expect(TEST_TOKENS).toEqual({
      decline: 'tok_decline',
      transientPrefix: 'tok_transient_',
      unavailable: 'tok_unavailable',
    });
  });

  it('declines tok_decline on every attempt, as a final PaymentDeclinedError', async () => {
    for (const attempt of [1, 2, 10]) {
      // WHEN the declining token is charged
      const error = await rejection(provider.charge(request({ paymentToken: 'tok_decline' }), { attempt }));
      // THEN it is a decline (not transient) with a reason
      expect(error).toBeInstanceOf(PaymentDeclinedError);
      expect(error).not.toBeInstanceOf(TransientPaymentError);
      expect((error as PaymentDeclinedError).name).toBe('PaymentDeclinedError');
      expect((error as PaymentDeclinedError).reason).toMatch(/declined/);
      expect((error as PaymentDeclinedError).message).toMatch(/^Payment declined: /);
    }
  });

  it('fails tok_unavailable transiently on every attempt', async () => {
    for (const attempt of [1, 2, 3, 50]) {
      // WHEN the unavailable token is charged
      const error = await rejection(
        provider.charge(request({ paymentToken: 'tok_unavailable' }), { attempt }),
      );
      // THEN it is a transient failure, never a decline
      expect(error).toBeInstanceOf(TransientPaymentError);
      expect(error).not.toBeInstanceOf(PaymentDeclinedError);
      expect((error as Error).name).toBe('TransientPaymentError');
    }
  });

  it('fails tok_transient_2 on attempts 1 and 2, and charges on attempt 3', async () => {
    // GIVEN a token that fails transiently twice
    const charge = request({ paymentToken: 'tok_transient_2' });
    // WHEN it is charged on successive attempts
    // THEN the first two fail transiently and the third charges
    await expect(provider.charge(charge, { attempt: 1 })).rejects.toBeInstanceOf(TransientPaymentError);
    await expect(provider.charge(charge, { attempt: 2 })).rejects.toThrow(/transient failure 2 of 2/);
    await expect(provider.charge(charge, { attempt: 3 })).resolves.toEqual({
      paymentId: 'pay_test_ord-1:payment',
    });
    await expect(provider.charge(charge, { attempt: 4 })).resolves.toEqual({
      paymentId: 'pay_test_ord-1:payment',
    });
  });

  it('charges tok_transient_0 on the first attempt', async () => {
    await expect(
      provider.charge(request({ paymentToken: 'tok_transient_0' }), { attempt: 1 }),
    ).resolves.toHaveProperty('paymentId');
  });

  it('charges a transient prefix without a valid count as an ordinary token', async () => {
    // GIVEN a token whose count is not an integer
    // THEN it charges on the first attempt
    await expect(
      provider.charge(request({ paymentToken: 'tok_transient_x' }), { attempt: 1 }),
    ).resolves.toHaveProperty('paymentId');
  });

  it('charges any other token with a payment id derived from the idempotency key', async () => {
    // WHEN ordinary tokens are charged
    const first = await provider.charge(request({ idempotencyKey: 'key-A' }), { attempt: 1 });
    const other = await provider.charge(
      request({ paymentToken: 'tok_mastercard', idempotencyKey: 'key-B' }),
      {
        attempt: 1,
      },
    );
    // THEN each payment id comes from its idempotency key
    expect(first).toEqual({ paymentId: 'pay_test_key-A' });
    expect(other).toEqual({ paymentId: 'pay_test_key-B' });
  });

  it('returns the same payment id for the same idempotency key, whatever else changes', async () => {
    // GIVEN two charges with the same key (a redelivery)
    const a = await provider.charge(request({ idempotencyKey: 'same' }), { attempt: 1 });
    const b = await provider.charge(request({ idempotencyKey: 'same', paymentToken: 'tok_other' }), {
      attempt: 5,
    });
    // THEN they are the same payment
    expect(a.paymentId).toBe(b.paymentId);
    // AND a different key is a different payment
    const c = await provider.charge(request({ idempotencyKey: 'different' }), { attempt: 1 });
    expect(c.paymentId).not.toBe(a.paymentId);
  });
});

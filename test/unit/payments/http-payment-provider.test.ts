import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HttpPaymentProvider } from '../../../lambdas/payments/adapters/http-payment-provider.js';
import {
  type ChargeRequest,
  PaymentDeclinedError,
  TransientPaymentError,
} from '../../../lambdas/payments/domain/payment-provider.js';

interface Received {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** How the fake provider answers the next request; `undefined` never answers. */
type Responder = ((res: ServerResponse) => void) | undefined;

const API_KEY = 'sk_test_123';
const charge: ChargeRequest = {
  orderId: 'ord-42',
  amount: 2500,
  currency: 'EUR',
  paymentToken: 'tok_visa',
  idempotencyKey: 'ord-42:charge',
};

const json =
  (status: number, body: unknown): Responder =>
  (res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

let server: Server;
let endpoint: string;
let respond: Responder;
const received: Received[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      respond?.(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  received.length = 0;
  respond = undefined;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
});

const provider = (options: { timeoutMs?: number; endpoint?: string } = {}) =>
  new HttpPaymentProvider({
    endpoint: options.endpoint ?? endpoint,
    apiKey: async () => API_KEY,
    timeoutMs: options.timeoutMs ?? 2000,
  });

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

describe('HttpPaymentProvider', () => {
  it('returns the charge id of a 201 answer', async () => {
    // GIVEN a provider that charges
    respond = json(201, { id: 'ch_123', status: 'succeeded' });
    // WHEN a charge is made
    const result = await provider().charge(charge, { attempt: 1 });
    // THEN its id is the payment id
    expect(result).toEqual({ paymentId: 'ch_123' });
  });

  it('POSTs the charge as JSON to /charges with the bearer key and the idempotency key', async () => {
    // GIVEN a provider that charges
    respond = json(201, { id: 'ch_1' });
    // WHEN a charge is made
    await provider().charge(charge, { attempt: 1 });
    // THEN one request carried the charge
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/charges');
    expect(request?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request?.headers['idempotency-key']).toBe('ord-42:charge');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request?.body ?? '')).toEqual({
      amount: 2500,
      currency: 'EUR',
      source: 'tok_visa',
      reference: 'ord-42',
    });
  });

  it('sends the same idempotency key when the charge is retried', async () => {
    // GIVEN a provider that charges
    respond = json(200, { id: 'ch_1' });
    // WHEN the same charge is sent on two attempts
    await provider().charge(charge, { attempt: 1 });
    await provider().charge(charge, { attempt: 2 });
    // THEN both carry the same key
    expect(received.map((r) => r.headers['idempotency-key'])).toEqual(['ord-42:charge', 'ord-42:charge']);
  });

  it('does not double the slash of an endpoint that ends with one', async () => {
    respond = json(201, { id: 'ch_1' });
    await provider({ endpoint: `${endpoint}/` }).charge(charge, { attempt: 1 });
    expect(received[0]?.url).toBe('/charges');
  });

  it('turns a 402 into a PaymentDeclinedError with the provider message', async () => {
    // GIVEN a provider that declines
    respond = json(402, { message: 'insufficient funds' });
    // WHEN a charge is made
    const error = await rejection(provider().charge(charge, { attempt: 1 }));
    // THEN it is a decline with the provider's reason
    expect(error).toBeInstanceOf(PaymentDeclinedError);
    expect(error).not.toBeInstanceOf(TransientPaymentError);
    expect((error as PaymentDeclinedError).reason).toBe('insufficient funds');
  });

  it('declines a 402 without a readable message with a generic reason', async () => {
    respond = (res) => {
      res.writeHead(402, { 'content-type': 'text/plain' });
      res.end('Payment Required');
    };
    const error = await rejection(provider().charge(charge, { attempt: 1 }));
    expect(error).toBeInstanceOf(PaymentDeclinedError);
    expect((error as PaymentDeclinedError).reason).toBe('declined by the provider');
  });

  it.each([503, 500, 502, 429, 408])('turns a %i into a TransientPaymentError', async (status) => {
    // GIVEN a provider that cannot answer now
    respond = json(status, { message: 'try later' });
    // WHEN a charge is made
    const error = await rejection(provider().charge(charge, { attempt: 1 }));
    // THEN it is transient (retried), not a decline
    expect(error).toBeInstanceOf(TransientPaymentError);
    expect(error).not.toBeInstanceOf(PaymentDeclinedError);
    expect(error.message).toContain(String(status));
  });

  it('turns a provider that never answers within timeoutMs into a TransientPaymentError', async () => {
    // GIVEN a provider that accepts the request and never answers
    respond = undefined;
    const started = Date.now();
    // WHEN a charge is made with a 200 ms timeout
    const error = await rejection(provider({ timeoutMs: 200 }).charge(charge, { attempt: 1 }));
    // THEN it fails transiently, soon after the timeout
    expect(error).toBeInstanceOf(TransientPaymentError);
    expect(error.cause).toBeDefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(Date.now() - started).toBeLessThan(1900);
    expect(received).toHaveLength(1);
  });

  it.each([400, 401, 404, 422])(
    'turns a %i into a plain Error (our fault: neither transient nor declined)',
    async (status) => {
      // GIVEN a provider that refuses the request itself
      respond = json(status, { message: 'bad request' });
      // WHEN a charge is made
      const error = await rejection(provider().charge(charge, { attempt: 1 }));
      // THEN the error is neither retried nor a decline, and names the status
      expect(error).not.toBeInstanceOf(TransientPaymentError);
      expect(error).not.toBeInstanceOf(PaymentDeclinedError);
      expect(error.message).toContain(String(status));
    },
  );

  it('retries a 2xx answer without a charge id (safe: the same Idempotency-Key returns the same charge)', async () => {
    respond = json(201, { status: 'succeeded' });
    const error = await rejection(provider().charge(charge, { attempt: 1 }));
    expect(error).toBeInstanceOf(TransientPaymentError);
    expect(error.message).toMatch(/without a charge id/);
  });

  it('treats a body that stalls past the timeout as transient', async () => {
    // GIVEN a provider that sends its headers and part of the body, then nothing
    respond = (res) => {
      res.writeHead(201, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"id":');
    };
    const error = await rejection(provider({ timeoutMs: 200 }).charge(charge, { attempt: 1 }));
    expect(error).toBeInstanceOf(TransientPaymentError);
  });

  it('turns a refused connection into a TransientPaymentError', async () => {
    // GIVEN a port nobody listens on (a server opened and closed again)
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    // WHEN a charge is made against it
    const error = await rejection(
      provider({ endpoint: `http://127.0.0.1:${port}` }).charge(charge, { attempt: 1 }),
    );
    // THEN it fails transiently, saying the provider is unreachable
    expect(error).toBeInstanceOf(TransientPaymentError);
    expect(error.message).toMatch(/unreachable/);
  });

  it('turns a failure to read the API key into a TransientPaymentError', async () => {
    // GIVEN an API key that cannot be read right now (e.g. Secrets Manager throttling)
    const failing = new HttpPaymentProvider({
      endpoint,
      apiKey: async () => {
        throw new Error('throttled');
      },
    });
    // WHEN a charge is made
    const error = await rejection(failing.charge(charge, { attempt: 1 }));
    // THEN it is retried later and nothing was sent
    expect(error).toBeInstanceOf(TransientPaymentError);
    expect(received).toHaveLength(0);
  });
});

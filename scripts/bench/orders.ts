import { ensureEngines } from '../lib/engines.js';
import { JwtIssuer } from '../local-cloud/auth/jwt-issuer.js';
import { LocalCloud } from '../local-cloud/runtime.js';
import { percentile, round } from './stats.js';
import type { BenchSuite } from './types.js';

const THROUGHPUT_ORDERS = 120;
const CONCURRENCY = 4;
const LATENCY_SAMPLES = 40;
const SHIPPED_SAMPLES = 20;

/**
 * `orders.e2e.*` through the app's own HTTP API on the local cloud (the assembly the synth suite
 * built): orders placed per second with 4 clients, and the time from sending POST /orders to the
 * order being readable through GET /orders/{id} (command handler, event store, stream, projector,
 * read model, query handler), as p50/p95 over sequential samples.
 */
export const ordersSuite: BenchSuite = {
  name: 'orders',
  description: 'POST /orders throughput and place-to-readable latency through the local HTTP API',
  async run(ctx) {
    const engines = await ensureEngines(undefined, { log: (l) => ctx.log(`orders: ${l}`) });
    const cloud = await LocalCloud.start({
      assemblyDir: ctx.cdkOut,
      target: { endpoint: engines.awsEndpointUrl, region: 'us-east-1', accountId: '123456789012' },
      engines: {
        kafkaBrokers: engines.kafkaBrokers,
        redisUrl: engines.redisUrl,
        rabbitUrl: engines.rabbitmqUrl,
        rabbitManagementUrl: engines.rabbitmqManagementUrl,
      },
      port: 0,
      log: () => undefined,
      functionLog: (fn, line) => {
        if (/"level":"(ERROR|WARN)"/.test(line)) ctx.log(`orders: ${fn}: ${line}`);
      },
    });
    try {
      const headers = {
        authorization: `Bearer ${new JwtIssuer().issue({ sub: 'bench' })}`,
        'content-type': 'application/json',
      };
      const run = Date.now().toString(36);
      const place = async (i: number): Promise<string> => {
        const response = await fetch(`${cloud.url}/orders`, {
          method: 'POST',
          headers,
          body: JSON.stringify({
            customerId: `bench-${run}-${i % 20}`,
            currency: 'EUR',
            items: [{ sku: `SKU-${i % 7}`, quantity: 1 + (i % 3), unitPrice: 999 }],
          }),
        });
        if (response.status !== 202) throw new Error(`POST /orders answered ${response.status}`);
        return ((await response.json()) as { orderId: string }).orderId;
      };

      ctx.log('orders: warming up the functions');
      for (let i = 0; i < 5; i++) await place(i);

      ctx.log(`orders: ${THROUGHPUT_ORDERS} orders with ${CONCURRENCY} clients`);
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < THROUGHPUT_ORDERS) await place(next++);
        }),
      );
      const ordersPerSec = THROUGHPUT_ORDERS / ((performance.now() - t0) / 1000);

      ctx.log(`orders: ${LATENCY_SAMPLES} place-to-readable samples`);
      const latencies: number[] = [];
      for (let i = 0; i < LATENCY_SAMPLES; i++) {
        const started = performance.now();
        const orderId = await place(i);
        for (;;) {
          const got = await fetch(`${cloud.url}/orders/${orderId}`, { headers });
          if (got.status === 200) break;
          if (performance.now() - started > 10_000) throw new Error(`order ${orderId} not readable in 10 s`);
          await new Promise((r) => setTimeout(r, 5));
        }
        latencies.push(performance.now() - started);
      }
      ctx.log(`orders: ${SHIPPED_SAMPLES} POST-to-SHIPPED samples (outbox, topic, queues, 3 services)`);
      const sku = `BENCH-${run}`;
      const stocked = await fetch(`${cloud.url}/inventory/${sku}`, {
        method: 'PUT',
        headers,
        body: JSON.stringify({ available: 1_000_000 }),
      });
      if (stocked.status !== 200) throw new Error(`PUT /inventory answered ${stocked.status}`);
      const toShipped: number[] = [];
      for (let i = 0; i < SHIPPED_SAMPLES; i++) {
        const started = performance.now();
        const response = await fetch(`${cloud.url}/orders`, {
          method: 'POST',
          headers,
          body: JSON.stringify({
            customerId: `bench-${run}`,
            currency: 'EUR',
            paymentToken: 'tok_visa',
            items: [{ sku, quantity: 1, unitPrice: 999 }],
          }),
        });
        const { orderId } = (await response.json()) as { orderId: string };
        for (;;) {
          const got = await fetch(`${cloud.url}/orders/${orderId}`, { headers });
          if (got.status === 200 && ((await got.json()) as { status: string }).status === 'SHIPPED') break;
          if (performance.now() - started > 120_000) throw new Error(`order ${orderId} not SHIPPED in 120 s`);
          await new Promise((r) => setTimeout(r, 20));
        }
        toShipped.push(performance.now() - started);
      }
      return {
        'e2e.toShippedP50Ms': { value: round(percentile(toShipped, 50), 1), unit: 'ms' },
        'e2e.toShippedP95Ms': { value: round(percentile(toShipped, 95), 1), unit: 'ms' },
        'e2e.ordersPerSec': { value: round(ordersPerSec, 1), unit: 'orders/s' },
        'e2e.p50Ms': { value: round(percentile(latencies, 50), 1), unit: 'ms' },
        'e2e.p95Ms': { value: round(percentile(latencies, 95), 1), unit: 'ms' },
      };
    } finally {
      await cloud.stop();
    }
  },
};

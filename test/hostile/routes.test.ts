/**
 * Hostile requests against every route of the real app on the local cloud (one app for the file):
 * at least 1,000 generated cases per route (`HOSTILE_CASES`), from the route's schemas
 * (`generators/routes.ts`), sent as raw HTTP/1.1 with a small concurrency.
 *
 * Every answer must come within 15 s (the functions' 10 s timeout plus a cold start), be below
 * 500 (GET /health's documented 503 excepted), carry a JSON body when it has one, and, when it is
 * a refusal, be in the platform's error shape `{message, errors: [{path, message}], code?}` (the
 * gateway's own refusals have the same shape, with `errors: []`). A request that is invalid by the
 * handler's own schema, or that holds ill-formed Unicode, a malformed percent-encoding or a bad
 * token, must be refused (4xx); a lone surrogate put in one body field must be refused naming it;
 * an invalid event of a batch must be listed as rejected.
 *
 * Failures are grouped by class with the smallest counterexample (see `support/report.ts`); the
 * seed is printed (`FC_SEED`, `support/seed.ts`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { casesFor, type HttpCase, labelClass, ROUTES } from './generators/routes.js';
import { type HostileApp, startHostileApp } from './support/app.js';
import { judge } from './support/oracle.js';
import { mapPool } from './support/pool.js';
import { type RawOutcome, sendRaw } from './support/raw-http.js';
import { FailureLog, printable } from './support/report.js';
import { casesPerTarget, resolveSeed, seedFor, selected } from './support/seed.js';
import { authorizationValues } from './support/tokens.js';

const CONCURRENCY = 6;
const ANSWER_WITHIN_MS = 15_000;
const { seed, replay } = resolveSeed();
const CASES = casesPerTarget();

describe('hostile requests on every route', () => {
  let app: HostileApp;
  let authorization: ReturnType<typeof authorizationValues>;
  const fixtures: Record<string, string> = {};
  const run = Date.now().toString(36);

  beforeAll(async () => {
    console.log(`[hostile] routes: seed ${seed} (${replay}), ${CASES} cases per route`);
    app = await startHostileApp(`hostile-${run}`);
    authorization = authorizationValues(app.issuer, `hostile-${run}`);
    const customer = await app.call('POST', '/customers', {
      email: `hostile-${run}@shop.example`,
      name: 'Hostile',
    });
    expect(customer.status).toBe(201);
    fixtures.customer = String(customer.body.customerId);
    fixtures.sku = `HOSTILE-${run}`;
    expect((await app.call('PUT', `/inventory/${fixtures.sku}`, { available: 1000 })).status).toBe(200);
    const order = await app.call('POST', '/orders', {
      customerId: fixtures.customer,
      currency: 'EUR',
      items: [{ sku: fixtures.sku, quantity: 1, unitPrice: 100 }],
    });
    expect(order.status).toBe(202);
    fixtures.order = String(order.body.orderId);
    fixtures.user = `hostile-user-${run}`;
  }, 300_000);

  afterAll(async () => {
    await app?.stop();
  });

  const resolve = (text: string) =>
    text.replace(/\{\{(\w+)\}\}/g, (_, name: string) => encodeURIComponent(fixtures[name] ?? name));

  const bodyOf = (c: HttpCase): Buffer | undefined => {
    if (c.body === undefined || Buffer.isBuffer(c.body)) return c.body;
    const n = c.body.oversizeBytes;
    return Buffer.from(`{"pad":"${'x'.repeat(Math.max(0, n - 10))}"}`);
  };

  const send = (c: HttpCase): Promise<RawOutcome> => {
    const body = bodyOf(c);
    const auth = authorization[c.auth];
    const headers: [string, string][] = [
      ['Host', `${app.url.hostname}:${app.url.port}`],
      ...(auth === undefined ? [] : [['Authorization', auth] as [string, string]]),
      ...(c.contentType ? [['Content-Type', c.contentType] as [string, string]] : []),
      ...c.headers.map(([k, v]) => [k, v] as [string, string]),
      ...(body ? [['Content-Length', String(body.length)] as [string, string]] : []),
      ['Connection', 'close'],
    ];
    return sendRaw(
      app.url.hostname,
      Number(app.url.port),
      { method: c.method, target: resolve(c.target), headers, ...(body ? { body } : {}) },
      ANSWER_WITHIN_MS,
    );
  };

  const repro = (c: HttpCase): string => {
    const body = bodyOf(c);
    const extra = c.headers.map(([k, v]) => ` -H '${printable(k)}: ${printable(v)}'`).join('');
    const shownBody =
      body === undefined
        ? ''
        : body.length > 400
          ? ` --data '<${body.length} bytes: ${printable(body.subarray(0, 120).toString('latin1'))}…>'`
          : ` --data-binary '${printable(body.toString('latin1'))}'`;
    return `curl -X ${c.method} '${printable(resolve(c.target))}' [auth: ${c.auth}]${extra}${shownBody}  (${c.label})`;
  };

  // Filtering (HOSTILE_ONLY) leaves routes out rather than skipping them.
  for (const route of ROUTES.filter((r) => selected(r.name))) {
    it(`${route.name}: ${CASES} generated hostile requests`, async () => {
      const cases = casesFor(route, seedFor(seed, route.name), CASES);
      const log = new FailureLog();
      const statuses = new Map<string, number>();
      const started = performance.now();
      await mapPool(cases, CONCURRENCY, async (c, index) => {
        const outcome = await send(c);
        const key = outcome.kind === 'response' ? String(outcome.status) : outcome.kind;
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        for (const { problem, observed } of judge(route, c, outcome, ANSWER_WITHIN_MS)) {
          log.add({
            klass: `${route.name}: ${problem} [${labelClass(c.label)}]`,
            repro: repro(c),
            observed,
            caseIndex: index,
          });
        }
      });
      const seconds = (performance.now() - started) / 1000;
      const histogram = [...statuses.entries()]
        .sort()
        .map(([s, n]) => `${s}:${n}`)
        .join(' ');
      console.log(`[hostile] ${route.name}: ${cases.length} cases in ${seconds.toFixed(1)} s (${histogram})`);
      expect(log.total, log.summary(route.name, `${replay} HOSTILE_ONLY='${route.name}'`)).toBe(0);
    });
  }
});

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
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseOf, type HttpCase, labelClass, ROUTES, type RouteSpec } from './generators/routes.js';
import { type HostileApp, startHostileApp } from './support/app.js';
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

  /** What is wrong with the answer to `c`; empty when nothing is. */
  const judge = (
    route: RouteSpec,
    c: HttpCase,
    outcome: RawOutcome,
  ): { problem: string; observed: string }[] => {
    if (outcome.kind === 'timeout')
      return [{ problem: `no answer within ${ANSWER_WITHIN_MS} ms`, observed: 'timeout' }];
    if (outcome.kind === 'error') return [{ problem: 'connection failed', observed: outcome.message }];
    const { status } = outcome;
    const text = outcome.body.toString('utf8');
    const observed = `${status} ${printable(text.slice(0, 240))}`;
    let json: unknown;
    if (text.trim() !== '') {
      try {
        json = JSON.parse(text);
      } catch {
        return [{ problem: `${status} with a body that is not JSON`, observed }];
      }
    }
    const problems: { problem: string; observed: string }[] = [];
    const body = (json ?? {}) as Record<string, unknown>;
    if (status >= 500 && !(route.documented503 && status === 503 && body.status === 'unhealthy')) {
      problems.push({
        problem: `${status}${typeof body.code === 'string' ? ` ${body.code}` : ''}`,
        observed,
      });
    }
    if (status >= 400) {
      const errors = body.errors;
      const shaped =
        typeof body.message === 'string' &&
        Array.isArray(errors) &&
        errors.every(
          (e) =>
            e !== null &&
            typeof e === 'object' &&
            typeof (e as { path?: unknown }).path === 'string' &&
            typeof (e as { message?: unknown }).message === 'string',
        ) &&
        (body.code === undefined || typeof body.code === 'string');
      const healthReport = route.documented503 && status === 503 && body.status === 'unhealthy';
      if (!shaped && !healthReport)
        problems.push({ problem: `${status} refusal not in the error shape`, observed });
      if (c.expect.fieldPath && shaped && status < 500) {
        const paths = (errors as { path: string }[]).map((e) => e.path);
        if (!paths.includes(c.expect.fieldPath)) {
          problems.push({ problem: 'refusal does not name the field holding a lone surrogate', observed });
        }
      }
    } else if (c.expect.refuse) {
      problems.push({ problem: `accepted (${status}) although ${c.expect.refuse}`, observed });
    }
    if (c.expect.invalidEvents && status < 300) {
      const rejected = new Set(((body.rejected ?? []) as { index?: number }[]).map((r) => r.index));
      const missed = c.expect.invalidEvents.filter((i) => !rejected.has(i));
      if (status === 202 || missed.length > 0) {
        problems.push({ problem: `invalid event(s) accepted (${status})`, observed });
      }
    }
    return problems;
  };

  // Filtering (HOSTILE_ONLY) leaves routes out rather than skipping them.
  for (const route of ROUTES.filter((r) => selected(r.name))) {
    it(`${route.name}: ${CASES} generated hostile requests`, async () => {
      const cases = fc.sample(caseOf(route), { seed: seedFor(seed, route.name), numRuns: CASES });
      const log = new FailureLog();
      const statuses = new Map<string, number>();
      const started = performance.now();
      await mapPool(cases, CONCURRENCY, async (c, index) => {
        const outcome = await send(c);
        const key = outcome.kind === 'response' ? String(outcome.status) : outcome.kind;
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        for (const { problem, observed } of judge(route, c, outcome)) {
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

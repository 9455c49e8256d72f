/**
 * The harness's own test: the cases CI runs (same seeds, same counts) reach every class of hostile
 * input issue 14 names, on every route and queue, and the oracle fails the answers it must fail.
 * Without it, a generator change could quietly stop sending lone surrogates, and the route tests
 * would pass for the wrong reason.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SUBSCRIPTIONS } from '../../lib/stacks/fulfilment-stack.js';
import {
  activityCase,
  activityProblem,
  confirmationCase,
  confirmationProblem,
  envelopeCase,
  envelopeProblem,
  stockCheckCase,
  stockCheckProblem,
} from './generators/messages.js';
import { AUTH_KINDS, casesFor, type HttpCase, ROUTES } from './generators/routes.js';
import { judge } from './support/oracle.js';
import type { RawOutcome } from './support/raw-http.js';
import { COMMITTED_SEED, casesPerTarget, seedFor } from './support/seed.js';

// The committed seed, whatever FC_SEED says: these are the cases CI sends, and a random seed
// could miss a rare class by chance.
const seed = COMMITTED_SEED;
const CASES = casesPerTarget();

const answer = (status: number, body: unknown): RawOutcome => ({
  kind: 'response',
  status,
  headers: {},
  body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  ms: 1,
});
const refusal = { message: 'Invalid request body', errors: [{ path: 'customerId', message: 'bad' }] };
const plain = { documented503: undefined };
const ok = { expect: {} };

describe('the hostile harness', () => {
  describe('route cases (the CI sample)', () => {
    const samples = new Map(ROUTES.map((r) => [r.name, casesFor(r, seedFor(seed, r.name), CASES)] as const));
    const labelled = (cases: readonly HttpCase[], pattern: RegExp) =>
      cases.filter((c) => pattern.test(c.label));

    it.each(ROUTES.map((r) => [r.name, r] as const))('%s: every class of issue 14', (_, route) => {
      const cases = samples.get(route.name) ?? [];
      expect(cases).toHaveLength(CASES);
      const wanted: RegExp[] = [
        /valid request/,
        /header name (__proto__|constructor|toString)/,
        /query name (__proto__|constructor|toString)/,
        ...(
          ['missing', 'Bearer only', 'Bearer a\\.b', 'garbage base64', 'wrong signature', 'expired'] as const
        ).map((k) => new RegExp(`Authorization: ${k}($| \\+)`)),
      ];
      if (Object.keys(route.params).length > 0) {
        for (const bad of ['%', '%ZZ', '%E0%A4%A', '%FF%FE', '%C0%AF', '%ED%A0%80']) {
          wanted.push(new RegExp(`malformed percent-encoding ${bad.replace(/[%]/g, '%')}($| )`));
        }
        wanted.push(/encoded %00/, /id of 1000 characters|id of 4000 characters/);
      }
      if (route.body) {
        wanted.push(
          /body .*: lone surrogate/,
          /extra key: prototype key/,
          /body: malformed JSON/,
          /over the size limit/,
          /deeply nested/,
          /number literal/,
        );
      }
      if (route.paginated) wanted.push(/malformed nextToken/);
      if (route.idempotencyKey) wanted.push(/hostile Idempotency-Key/);
      const missing = wanted.filter((w) => labelled(cases, w).length === 0).map(String);
      expect(missing).toEqual([]);
    });

    it('owes a refusal for what the schemas refuse, and names the field of a lone surrogate', () => {
      const orders = samples.get('POST /orders') ?? [];
      const surrogate = orders.find(
        (c) => / customerId: lone surrogate$/.test(c.label) && c.auth === 'valid',
      );
      expect(surrogate?.expect).toMatchObject({ refuse: expect.any(String), fieldPath: 'customerId' });
      const badAuth = orders.find((c) => c.auth === 'expired');
      expect(badAuth?.expect.refuse).toBe('Authorization: expired');
      const malformedPath = (samples.get('GET /orders/{orderId}') ?? []).find(
        (c) => c.label === 'path.orderId: malformed percent-encoding %ED%A0%80',
      );
      expect(malformedPath?.expect.refuse).toMatch(/path\.orderId/);
      expect(Object.keys(AUTH_KINDS).length).toBeGreaterThan(20);
    });
  });

  describe('the oracle', () => {
    it('fails a 5xx, a body that is not JSON, a refusal out of shape, a timeout', () => {
      expect(judge(plain, ok, answer(500, { message: 'Internal server error', errors: [] }), 1)).toHaveLength(
        1,
      );
      expect(judge(plain, ok, answer(502, 'Bad Gateway'), 1)[0]?.problem).toMatch(/not JSON/);
      expect(judge(plain, ok, answer(400, { error: 'bad' }), 1)[0]?.problem).toMatch(
        /not in the error shape/,
      );
      expect(judge(plain, ok, answer(400, { message: 'x', errors: [{ path: 1 }] }), 1)).toHaveLength(1);
      expect(judge(plain, ok, { kind: 'timeout', ms: 15_000 }, 15_000)[0]?.problem).toMatch(/no answer/);
    });

    it('fails an acceptance the case must not get, and a refusal that does not name the field', () => {
      const owed = { expect: { refuse: 'the body holds ill-formed Unicode', fieldPath: 'customerId' } };
      expect(judge(plain, owed, answer(202, { orderId: 'o' }), 1)[0]?.problem).toMatch(/^accepted \(202\)/);
      expect(
        judge(plain, owed, answer(400, { message: 'x', errors: [{ path: '', message: 'm' }] }), 1)[0]
          ?.problem,
      ).toMatch(/does not name the field/);
      expect(judge(plain, owed, answer(400, refusal), 1)).toEqual([]);
      const events = { expect: { invalidEvents: [1], eventCount: 2 } };
      expect(judge(plain, events, answer(202, { accepted: [], rejected: [] }), 1)).toHaveLength(1);
      expect(judge(plain, events, answer(207, { accepted: [], rejected: [{ index: 1 }] }), 1)).toEqual([]);
    });

    it("passes the gateway's own refusals and the health check's documented 503", () => {
      expect(judge(plain, ok, answer(401, { message: 'Unauthorized', errors: [] }), 1)).toEqual([]);
      expect(
        judge(plain, ok, answer(413, { message: 'Request Too Long', errors: [], code: 'TOO_LARGE' }), 1),
      ).toEqual([]);
      expect(judge({ documented503: true }, ok, answer(503, { status: 'unhealthy', checks: [] }), 1)).toEqual(
        [],
      );
      expect(judge(plain, ok, answer(503, { status: 'unhealthy', checks: [] }), 1)).not.toEqual([]);
    });
  });

  describe('message cases (the CI sample)', () => {
    it.each(
      (['inventory', 'payment', 'shipping', 'notification', 'analytics', 'broker'] as const).map((s) => [s]),
    )(
      '%s queue: every case is bad by the consumer’s schemas, with ill-formed Unicode, non-JSON and claim checks among them',
      (service) => {
        const types = SUBSCRIPTIONS[service].eventTypes;
        const cases = fc.sample(envelopeCase(types), {
          seed: seedFor(seed, `${service} queue`),
          numRuns: CASES,
        });
        const problems = new Set(cases.map((c) => envelopeProblem(c.body, types)));
        expect(problems.has(undefined)).toBe(false);
        for (const p of [
          'ill-formed Unicode',
          'not JSON',
          'a claim check that resolves to nothing',
          'data invalid for its type',
        ]) {
          expect(problems).toContain(p);
        }
      },
    );

    it('stock-check requests, confirmations and activity records are all bad', () => {
      const stock = fc.sample(stockCheckCase(), {
        seed: seedFor(seed, 'stock-check request queue'),
        numRuns: CASES,
      });
      expect(stock.filter((c) => stockCheckProblem(c) === undefined)).toEqual([]);
      expect(new Set(stock.map(stockCheckProblem))).toContain('replyTo is not the reply queue');
      const confirmations = fc.sample(confirmationCase(), {
        seed: seedFor(seed, 'rabbitmq'),
        numRuns: CASES,
      });
      expect(confirmations.filter((c) => confirmationProblem(c) === undefined)).toEqual([]);
      const records = fc.sample(activityCase(), { seed: seedFor(seed, 'kafka'), numRuns: CASES });
      expect(records.filter((c) => activityProblem(c.value) === undefined)).toEqual([]);
      expect(new Set(records.map((c) => activityProblem(c.value)))).toContain('no value');
    });
  });
});

/**
 * What the platform owes a hostile request, judged on its answer: see `routes.test.ts`. Pure, so
 * the harness's own test (`harness.test.ts`) proves it fails on the answers it must refuse.
 */
import type { HttpCase, RouteSpec } from '../generators/routes.js';
import type { RawOutcome } from './raw-http.js';
import { printable } from './report.js';

export interface Problem {
  readonly problem: string;
  readonly observed: string;
}

/** What is wrong with the answer to `c`; empty when nothing is. */
export function judge(
  route: Pick<RouteSpec, 'documented503'>,
  c: Pick<HttpCase, 'expect'>,
  outcome: RawOutcome,
  answerWithinMs: number,
): Problem[] {
  if (outcome.kind === 'timeout')
    return [{ problem: `no answer within ${answerWithinMs} ms`, observed: 'timeout' }];
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
  const problems: Problem[] = [];
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
}

/**
 * The load generator: a careful client. Orders start at a steady rate (open loop: a slow answer
 * does not slow the next order down); each is sent with its own Idempotency-Key (also its
 * X-Correlation-Id) and sent again, with the same key and body, after an exponential, jittered
 * backoff whenever the answer is no answer, a 5xx, a 429 or a 409 "still in progress", until a 2xx
 * or a final refusal, or the client's patience (`giveUpAfterMs`) runs out. Some orders are then
 * cancelled, with the same care.
 */
import {
  type AttemptOutcome,
  type BackoffPolicy,
  backoffMs,
  cancelVerdict,
  placeVerdict,
  type Verdict,
} from './backoff.js';
import type { ClientOrder } from './ledger.js';
import type { OrderPlan } from './plan.js';
import type { Random } from './random.js';

export interface LoadOptions {
  readonly baseUrl: string;
  readonly token: string;
  readonly plans: readonly OrderPlan[];
  /** Orders started per second. */
  readonly rate: number;
  readonly random: Random;
  readonly policy?: BackoffPolicy;
  /** A request without an answer after this long counts as no answer. @default 30000 */
  readonly requestTimeoutMs?: number;
  /** Per order: stop retrying after this long. @default 900000 */
  readonly giveUpAfterMs?: number;
  readonly onProgress?: (line: string) => void;
}

export interface LoadResult {
  readonly orders: ClientOrder[];
  /** Requests sent again after a retryable outcome, per outcome (`network`, `503`, `409`, …). */
  readonly retries: Record<string, number>;
  readonly requests: number;
  readonly seconds: number;
}

interface Answer {
  readonly outcome: AttemptOutcome;
  readonly body: Record<string, unknown>;
  readonly retryAfter?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    const code = (cause as { code?: string } | undefined)?.code;
    return code ?? (error.name === 'TimeoutError' ? 'timeout' : error.message);
  }
  return String(error);
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const started = Date.now();
  const retries: Record<string, number> = {};
  let requests = 0;
  const giveUpAfterMs = options.giveUpAfterMs ?? 900_000;
  const timeoutMs = options.requestTimeoutMs ?? 30_000;

  const send = async (path: string, body: unknown, headers: Record<string, string>): Promise<Answer> => {
    requests++;
    try {
      const response = await fetch(`${options.baseUrl}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      let parsed: Record<string, unknown> = {};
      try {
        parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        parsed = { raw: text.slice(0, 200) };
      }
      const retryAfter = Number(response.headers.get('retry-after'));
      return {
        outcome: {
          kind: 'response',
          status: response.status,
          ...(typeof parsed.code === 'string' ? { code: parsed.code } : {}),
        },
        body: parsed,
        ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfter } : {}),
      };
    } catch (error) {
      return { outcome: { kind: 'network', error: errorText(error) }, body: {} };
    }
  };

  /** Sends until the verdict is final; undefined when the client's patience ran out. */
  const untilFinal = async (
    request: () => Promise<Answer>,
    verdictOf: (outcome: AttemptOutcome) => Verdict,
  ): Promise<Answer | undefined> => {
    const deadline = Date.now() + giveUpAfterMs;
    for (let attempt = 1; ; attempt++) {
      const answer = await request();
      if (verdictOf(answer.outcome) !== 'retry') return answer;
      const label =
        answer.outcome.kind === 'network'
          ? answer.outcome.error
          : `${answer.outcome.status}${answer.outcome.code ? ` ${answer.outcome.code}` : ''}`;
      retries[label] = (retries[label] ?? 0) + 1;
      const wait = backoffMs(attempt, options.random, options.policy, answer.retryAfter);
      if (Date.now() + wait > deadline) return undefined;
      await sleep(wait);
    }
  };

  let acknowledged = 0;
  const one = async (plan: OrderPlan): Promise<ClientOrder> => {
    const body = {
      customerId: plan.customerId,
      currency: 'EUR',
      items: plan.items,
      ...(plan.paymentToken ? { paymentToken: plan.paymentToken } : {}),
    };
    const base = {
      key: plan.key,
      cancelCorrelationId: plan.cancelCorrelationId,
      items: plan.items,
      ...(plan.paymentToken ? { paymentToken: plan.paymentToken } : {}),
      cancelRequested: plan.cancel,
    };
    const placed = await untilFinal(
      () => send('/orders', body, { 'idempotency-key': plan.key, 'x-correlation-id': plan.key }),
      placeVerdict,
    );
    if (placed?.outcome.kind !== 'response') return base;
    const { status, code } = placed.outcome;
    const orderId = placed.body.orderId;
    if (status < 200 || status >= 300 || typeof orderId !== 'string') {
      return { ...base, refused: { status, ...(code ? { code } : {}) } };
    }
    acknowledged++;
    const acked = { ...base, acknowledged: { orderId, status } };
    if (!plan.cancel) return acked;
    // A customer changing their mind a moment later: sometimes before the reservation, sometimes after.
    await sleep(Math.floor(options.random() * 2000));
    const cancelled = await untilFinal(
      () =>
        send(
          `/orders/${encodeURIComponent(orderId)}/cancel`,
          { reason: 'changed my mind' },
          {
            'x-correlation-id': plan.cancelCorrelationId,
          },
        ),
      cancelVerdict,
    );
    if (cancelled?.outcome.kind !== 'response') return acked;
    return {
      ...acked,
      cancel: {
        status: cancelled.outcome.status,
        ...(cancelled.outcome.code ? { code: cancelled.outcome.code } : {}),
      },
    };
  };

  const progress = setInterval(() => {
    const sum = Object.values(retries).reduce((a, b) => a + b, 0);
    options.onProgress?.(
      `load: ${acknowledged}/${options.plans.length} acknowledged, ${requests} requests, ${sum} retries, ${Math.round((Date.now() - started) / 1000)} s`,
    );
  }, 10_000);
  try {
    const running: Promise<ClientOrder>[] = [];
    for (const [i, plan] of options.plans.entries()) {
      const at = started + (i * 1000) / options.rate;
      const wait = at - Date.now();
      if (wait > 0) await sleep(wait);
      running.push(one(plan));
    }
    const orders = await Promise.all(running);
    return { orders, retries, requests, seconds: (Date.now() - started) / 1000 };
  } finally {
    clearInterval(progress);
  }
}

/**
 * What a chaos run sends: SKUs with their initial stock, and one plan per order (its
 * Idempotency-Key, items, payment token, whether the client cancels it). Pure and seeded, so a run
 * can be repeated order for order.
 *
 * The mix makes every path run: most orders are charged and shipped, some payments decline
 * (`tok_decline`), some fail transiently twice first (`tok_transient_2`), some carry no payment
 * method, some are cancelled by the client after placement, and one SKU is scarce so that orders
 * are also rejected for insufficient stock.
 */
import { between, type Random } from './random.js';

export interface SkuPlan {
  readonly sku: string;
  readonly initial: number;
  readonly unitPrice: number;
}

export interface OrderItemPlan {
  readonly sku: string;
  readonly quantity: number;
  readonly unitPrice: number;
}

export interface OrderPlan {
  readonly index: number;
  /** The Idempotency-Key, also sent as X-Correlation-Id: every event of the order carries it. */
  readonly key: string;
  /** X-Correlation-Id of the cancel request, so its events are told apart. */
  readonly cancelCorrelationId: string;
  readonly customerId: string;
  readonly items: readonly OrderItemPlan[];
  readonly paymentToken?: string;
  /** The client cancels the order after placing it. */
  readonly cancel: boolean;
}

export const TOKENS = {
  charged: 'tok_visa',
  declined: 'tok_decline',
  transient: 'tok_transient_2',
} as const;

/** Keys and correlation ids of a run: letters, digits and `-._:`, valid in both headers. */
export const runPrefix = (runId: string): string => `chaos-${runId}-`;
export const orderKey = (runId: string, index: number): string => `${runPrefix(runId)}${index}`;

/** Four plentiful SKUs and a scarce one (about one order in ten finds it). */
export function planSkus(runId: string, orders: number): SkuPlan[] {
  const plenty = Math.max(20, orders * 3);
  return [
    { sku: `CHAOS-${runId}-A`, initial: plenty, unitPrice: 1250 },
    { sku: `CHAOS-${runId}-B`, initial: plenty, unitPrice: 499 },
    { sku: `CHAOS-${runId}-C`, initial: plenty, unitPrice: 9900 },
    { sku: `CHAOS-${runId}-D`, initial: plenty, unitPrice: 75 },
    { sku: `CHAOS-${runId}-SCARCE`, initial: Math.max(2, Math.floor(orders / 12)), unitPrice: 30000 },
  ];
}

/** Fisher–Yates on a copy. */
function shuffled<T>(values: readonly T[], random: Random): T[] {
  const copy = [...values];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

export function planOrders(opts: {
  runId: string;
  orders: number;
  skus: readonly SkuPlan[];
  customers: readonly string[];
  random: Random;
}): OrderPlan[] {
  const { runId, skus, customers, random } = opts;
  if (customers.length === 0) throw new Error('planOrders: no customers');
  const plans: OrderPlan[] = [];
  for (let index = 0; index < opts.orders; index++) {
    const count = between(random, 1, Math.min(3, skus.length));
    const chosen = shuffled(skus, random).slice(0, count);
    const items = chosen.map((s) => ({
      sku: s.sku,
      quantity: between(random, 1, 2),
      unitPrice: s.unitPrice,
    }));
    const roll = random();
    const paymentToken =
      roll < 0.1 ? TOKENS.declined : roll < 0.2 ? TOKENS.transient : roll < 0.25 ? undefined : TOKENS.charged;
    const key = orderKey(runId, index);
    plans.push({
      index,
      key,
      cancelCorrelationId: `${key}.cancel`,
      customerId: customers[index % customers.length] as string,
      items,
      ...(paymentToken ? { paymentToken } : {}),
      cancel: random() < 0.12,
    });
  }
  return plans;
}

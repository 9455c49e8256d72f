/**
 * Coalesces single requests into batch calls, DataLoader-style: requests submitted within
 * `maxWaitMs` of the first one of their group (or until the group reaches `maxItems`) go out in
 * one call, and every caller gets its own outcome. Pure: no AWS, no Lambda.
 *
 * Fits a Lambda batch consumer whose records are handled concurrently (Powertools processes a
 * batch's records in parallel): each record keeps its own success or failure, while the provider
 * sees one call per group.
 */

/** The outcome of one item of a batch call: a value, or the error of that item alone. */
export type ItemOutcome<O> =
  | { readonly ok: true; readonly value: O }
  | { readonly ok: false; readonly error: Error };

export interface CoalescerOptions<I> {
  /** Items per call, at most. */
  readonly maxItems: number;
  /** How long the first item of a group waits for company. @default 10 */
  readonly maxWaitMs?: number;
  /** Items of different groups never share a call (for example, one e-mail template per call). @default one group */
  readonly groupOf?: (item: I) => string;
}

interface Pending<I, O> {
  readonly item: I;
  readonly resolve: (value: O) => void;
  readonly reject: (error: Error) => void;
}

export class Coalescer<I, O> {
  private readonly groups = new Map<
    string,
    { items: Pending<I, O>[]; timer: ReturnType<typeof setTimeout> }
  >();
  private readonly maxWaitMs: number;

  /**
   * @param call sends one batch and returns one outcome per item, in order. If it throws, every
   *   item of the batch fails with that error.
   */
  constructor(
    private readonly call: (items: readonly I[]) => Promise<readonly ItemOutcome<O>[]>,
    private readonly options: CoalescerOptions<I>,
  ) {
    if (!Number.isInteger(options.maxItems) || options.maxItems < 1) {
      throw new Error(`maxItems must be a positive integer, got ${options.maxItems}`);
    }
    this.maxWaitMs = options.maxWaitMs ?? 10;
  }

  /** Resolves with this item's value, or rejects with this item's error. */
  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      const key = this.options.groupOf?.(item) ?? '';
      let group = this.groups.get(key);
      if (!group) {
        group = { items: [], timer: setTimeout(() => this.flush(key), this.maxWaitMs) };
        this.groups.set(key, group);
      }
      group.items.push({ item, resolve, reject });
      if (group.items.length >= this.options.maxItems) this.flush(key);
    });
  }

  private flush(key: string): void {
    const group = this.groups.get(key);
    if (!group) return;
    this.groups.delete(key);
    clearTimeout(group.timer);
    const batch = group.items;
    this.call(batch.map((p) => p.item)).then(
      (outcomes) => {
        batch.forEach((p, i) => {
          const outcome = outcomes[i];
          if (!outcome) p.reject(new Error(`the batch call returned no outcome for item ${i}`));
          else if (outcome.ok) p.resolve(outcome.value);
          else p.reject(outcome.error);
        });
      },
      (error: unknown) => {
        const e = error instanceof Error ? error : new Error(String(error));
        for (const p of batch) p.reject(e);
      },
    );
  }
}

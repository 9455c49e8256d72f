/**
 * Failures grouped by class (target, what went wrong, the kind of hostile input), each with its
 * count and the smallest counterexample seen, which is the reproduction printed: the harness
 * samples many cases in parallel instead of shrinking one, and the smallest failing case of a
 * class is what a shrinker would approach.
 */
export interface Counterexample {
  /** e.g. `POST /orders: 500` or `inventory: not dead-lettered`. */
  readonly klass: string;
  /** The case, in a form one can replay by hand (a curl line, a message body). */
  readonly repro: string;
  /** What came back. */
  readonly observed: string;
  /** Index of the case in its target's sample (with the seed, it regenerates the case). */
  readonly caseIndex: number;
}

interface Group {
  count: number;
  smallest: Counterexample;
}

const MAX_REPRO = 600;
const MAX_OBSERVED = 300;

const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

export class FailureLog {
  private readonly groups = new Map<string, Group>();
  total = 0;

  add(failure: Counterexample): void {
    this.total++;
    const group = this.groups.get(failure.klass);
    if (!group) this.groups.set(failure.klass, { count: 1, smallest: failure });
    else {
      group.count++;
      if (failure.repro.length < group.smallest.repro.length) group.smallest = failure;
    }
  }

  get classes(): number {
    return this.groups.size;
  }

  /** One paragraph per class, worst (most frequent) first. */
  summary(header: string, replay: string): string {
    const lines = [
      `${header}: ${this.total} failing case(s) in ${this.groups.size} class(es); replay with ${replay}`,
    ];
    const groups = [...this.groups.entries()].sort((a, b) => b[1].count - a[1].count);
    for (const [klass, { count, smallest }] of groups.slice(0, 60)) {
      lines.push(
        `- [${count}x] ${klass}`,
        `    case #${smallest.caseIndex}: ${cut(smallest.repro, MAX_REPRO)}`,
        `    got: ${cut(smallest.observed, MAX_OBSERVED)}`,
      );
    }
    if (groups.length > 60) lines.push(`… and ${groups.length - 60} more classes`);
    return lines.join('\n');
  }
}

/** A string with every character outside printable ASCII escaped, so reports stay one line. */
export function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

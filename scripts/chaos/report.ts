/** The figures of a chaos run, as one JSON object (`--json`) or as text for a person. */
import type { FaultRecord } from './faults.js';
import type { Anomaly, Category, LedgerReport } from './ledger.js';

export interface ChaosFigures {
  readonly runId: string;
  readonly seed: number;
  readonly rate: number;
  readonly orders: number;
  readonly acknowledged: number;
  readonly refused: number;
  readonly unanswered: number;
  readonly requests: number;
  readonly retries: { readonly total: number; readonly byOutcome: Readonly<Record<string, number>> };
  readonly cancelsRequested: number;
  readonly faults: readonly FaultRecord[];
  readonly loadSeconds: number;
  /** From the end of the load until every queue was empty and every order final; null: not reached. */
  readonly secondsToQuiescence: number | null;
  readonly statuses: Readonly<Record<string, number>>;
  readonly lost: number;
  readonly stuck: number;
  readonly duplicated: number;
  readonly inconsistent: number;
  readonly byKind: Readonly<Record<string, number>>;
  readonly anomalies: readonly Anomaly[];
  readonly emailProviderRecords: number;
  /** New dead letters that name nothing of the run (left by other runs or tests): not counted. */
  readonly foreignDeadLetters: number;
  readonly logFile: string;
}

export function figuresOf(
  base: Omit<
    ChaosFigures,
    'lost' | 'stuck' | 'duplicated' | 'inconsistent' | 'byKind' | 'anomalies' | 'statuses'
  >,
  ledger: LedgerReport,
): ChaosFigures {
  return {
    ...base,
    statuses: ledger.statuses,
    lost: ledger.counts.lost,
    stuck: ledger.counts.stuck,
    duplicated: ledger.counts.duplicated,
    inconsistent: ledger.counts.inconsistent,
    byKind: ledger.byKind,
    anomalies: ledger.anomalies,
  };
}

const CATEGORIES: readonly Category[] = ['lost', 'stuck', 'duplicated', 'inconsistent'];

export function formatText(f: ChaosFigures, maxPerCategory = 40): string {
  const lines: string[] = [];
  lines.push(`chaos run ${f.runId} (seed ${f.seed}): ${f.orders} orders at ${f.rate}/s`);
  lines.push(
    `  acknowledged ${f.acknowledged}, refused ${f.refused}, unanswered ${f.unanswered}; ${f.requests} requests, ${f.retries.total} retries ${JSON.stringify(f.retries.byOutcome)}`,
  );
  lines.push(`  cancels requested ${f.cancelsRequested}; final statuses ${JSON.stringify(f.statuses)}`);
  lines.push(
    `  load ${f.loadSeconds.toFixed(1)} s; quiescence ${f.secondsToQuiescence === null ? 'NOT reached' : `${f.secondsToQuiescence.toFixed(1)} s after the load`}`,
  );
  lines.push('  faults:');
  for (const fault of f.faults) {
    lines.push(
      `    ${fault.kind.padEnd(8)} at ${fault.atSeconds.toFixed(1).padStart(6)} s (${fault.startedAt}), recovered in ${fault.recoverySeconds.toFixed(1)} s${fault.error ? `  ERROR ${fault.error}` : ''}`,
    );
  }
  lines.push(`  e-mails recorded by the test provider: ${f.emailProviderRecords}`);
  lines.push(
    `  dead letters of other runs or tests that appeared meanwhile (not counted): ${f.foreignDeadLetters}`,
  );
  lines.push('');
  lines.push(
    `LOST ${f.lost}   STUCK ${f.stuck}   DUPLICATED ${f.duplicated}   INCONSISTENT ${f.inconsistent}`,
  );
  for (const [kind, count] of Object.entries(f.byKind).sort()) lines.push(`  ${kind}: ${count}`);
  for (const category of CATEGORIES) {
    const of = f.anomalies.filter((a) => a.category === category);
    if (of.length === 0) continue;
    lines.push('', `${category} (${of.length}):`);
    for (const a of of.slice(0, maxPerCategory)) {
      const who = [a.key && `key ${a.key}`, a.orderId && `order ${a.orderId}`, a.sku && `sku ${a.sku}`]
        .filter(Boolean)
        .join(', ');
      lines.push(`  [${a.kind}] ${who ? `${who}: ` : ''}${a.detail}`);
    }
    if (of.length > maxPerCategory) lines.push(`  … ${of.length - maxPerCategory} more (--json lists all)`);
  }
  lines.push('', `local cloud log: ${f.logFile}`);
  return lines.join('\n');
}

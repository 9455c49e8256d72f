/**
 * The fault injector: Redis, RabbitMQ and Kafka restarted one at a time (stop, a few seconds down,
 * start) and the local cloud killed with SIGKILL and started again, spread over the load. Faults
 * never overlap: each waits for the previous one to have recovered (the local cloud's start also
 * ensures the engines, which must not race an engine's restart).
 */

export const FAULT_KINDS = ['redis', 'rabbitmq', 'kafka', 'cloud'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface PlannedFault {
  readonly kind: FaultKind;
  /** Seconds after the load started. */
  readonly atSeconds: number;
}

export interface FaultRecord {
  readonly kind: FaultKind;
  readonly plannedAtSeconds: number;
  /** ISO timestamps: the fault's start (stop or kill) and its recovery (healthy again). */
  readonly startedAt: string;
  readonly recoveredAt: string;
  /** Seconds after the load started. */
  readonly atSeconds: number;
  readonly recoverySeconds: number;
  readonly error?: string;
}

/** Faults evenly spread over the load: the i-th of n at (i + 1) / (n + 1) of its length. Pure. */
export function faultSchedule(loadSeconds: number, kinds: readonly FaultKind[]): PlannedFault[] {
  return kinds.map((kind, i) => ({
    kind,
    atSeconds: Math.round(((i + 1) * loadSeconds * 10) / (kinds.length + 1)) / 10,
  }));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs the schedule one fault after the other from `loadStartedAt` (epoch ms). */
export async function runFaults(
  schedule: readonly PlannedFault[],
  inject: (kind: FaultKind) => Promise<void>,
  loadStartedAt: number,
  log: (line: string) => void,
): Promise<FaultRecord[]> {
  const records: FaultRecord[] = [];
  for (const fault of schedule) {
    const wait = loadStartedAt + fault.atSeconds * 1000 - Date.now();
    if (wait > 0) await sleep(wait);
    const started = Date.now();
    log(
      `fault: ${fault.kind} ${fault.kind === 'cloud' ? 'killed (SIGKILL)' : 'restarting'} at ${((started - loadStartedAt) / 1000).toFixed(1)} s`,
    );
    let error: string | undefined;
    try {
      await inject(fault.kind);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
      log(`fault: ${fault.kind} did not recover: ${error}`);
    }
    const recovered = Date.now();
    log(`fault: ${fault.kind} recovered after ${((recovered - started) / 1000).toFixed(1)} s`);
    records.push({
      kind: fault.kind,
      plannedAtSeconds: fault.atSeconds,
      startedAt: new Date(started).toISOString(),
      recoveredAt: new Date(recovered).toISOString(),
      atSeconds: (started - loadStartedAt) / 1000,
      recoverySeconds: (recovered - started) / 1000,
      ...(error ? { error } : {}),
    });
  }
  return records;
}

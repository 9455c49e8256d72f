/**
 * The platform's health: what `GET /health` answers and what the scheduled health check
 * publishes, computed from the CloudWatch alarms and a few live probes. Pure: no AWS, no Lambda;
 * the adapters read the alarms (DescribeAlarms) and run the probes, this module only decides.
 *
 * Every metric the platform watches has two alarms, a warning and a critical one, that share a
 * `check` (e.g. "orders queue depth"). A check is
 * - unhealthy when its critical alarm is in ALARM,
 * - degraded when only its warning alarm is in ALARM,
 * - healthy otherwise, including when its alarms are in INSUFFICIENT_DATA: our alarms treat
 *   missing data as not breaching (a quiet queue publishes no datapoints, an idle function
 *   reports no errors), so "no data" is not a failure. The check's reason says "no data" so that
 *   a metric that stopped reporting for a bad reason can still be noticed.
 *
 * A probe (a DynamoDB DescribeTable, a Redis PING, …) that fails makes the platform unhealthy when
 * it is critical, else degraded. The overall status is the worst of all checks: one unhealthy
 * check makes the platform unhealthy, and `GET /health` answers 503 (a load balancer or a
 * synthetic canary then sees it down); degraded still answers 200: the platform serves, slower or
 * with a backlog.
 *
 * The output is deterministic (checks sorted worst first, then by name), so that two reports of
 * the same state are equal and a change of status is a change of state, never of ordering.
 */

export type Severity = 'warning' | 'critical';
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';
export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/**
 * One alarm as read from CloudWatch. `check` names what it watches (e.g. "orders queue depth"):
 * the warning and the critical alarm of one metric share it.
 */
export interface AlarmObservation {
  readonly name: string;
  readonly check: string;
  readonly severity: Severity;
  readonly state: AlarmState;
  /** CloudWatch's StateReason. */
  readonly reason?: string;
  /** When the alarm last changed state (ISO-8601). */
  readonly updatedAt?: string;
}

/**
 * A live probe (e.g. a DynamoDB DescribeTable, a Redis PING). `critical`: a failure makes the
 * platform unhealthy, else degraded.
 */
export interface ProbeResult {
  readonly name: string;
  readonly ok: boolean;
  readonly latencyMs: number;
  readonly critical: boolean;
  /** Why it failed (or what it saw). */
  readonly detail?: string;
}

/** The verdict on one check (the alarms of one `check`, or one probe). */
export interface CheckResult {
  readonly name: string;
  readonly kind: 'alarm' | 'probe';
  readonly status: HealthStatus;
  /** "OK", "no data", or why the check fails (the alarm's reason and name, the probe's detail). */
  readonly reason: string;
  /** Since when the check is in this state, when known (an alarm's last state change). */
  readonly since?: string;
  /** A probe's latency. */
  readonly latencyMs?: number;
}

export interface HealthReport {
  readonly status: HealthStatus;
  /** Worst first, then by name. */
  readonly checks: readonly CheckResult[];
  readonly checkedAt: string;
  /** One line, e.g. "unhealthy: 2 checks failing (orders queue depth, redis ping)". */
  readonly summary: string;
}

/** The value the scheduled health check publishes as a metric (and the order of the statuses). */
export const HEALTH_SCORE: Readonly<Record<HealthStatus, number>> = {
  healthy: 0,
  degraded: 1,
  unhealthy: 2,
};

/** The worse of two statuses. */
export const worst = (a: HealthStatus, b: HealthStatus): HealthStatus =>
  HEALTH_SCORE[b] > HEALTH_SCORE[a] ? b : a;

/** `GET /health`: 503 when unhealthy; degraded still serves, so 200. */
export const httpStatusOf = (status: HealthStatus): 200 | 503 => (status === 'unhealthy' ? 503 : 200);

/** Did the overall status change (undefined previous = first run: no change)? */
export function statusChange(
  previous: HealthStatus | undefined,
  current: HealthStatus,
): { from: HealthStatus; to: HealthStatus } | undefined {
  if (previous === undefined || previous === current) return undefined;
  return { from: previous, to: current };
}

export const OK_REASON = 'OK';
export const NO_DATA_REASON = 'no data';

/** What one alarm says about its check. */
const alarmStatus = (alarm: AlarmObservation): HealthStatus => {
  if (alarm.state !== 'ALARM') return 'healthy';
  return alarm.severity === 'critical' ? 'unhealthy' : 'degraded';
};

/** Plain code-unit order: deterministic whatever the runtime's locale. */
const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Time order of two timestamps (ISO-8601, or anything Date.parse reads; else as text). */
const byTime = (a: string, b: string): number => {
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  return Number.isNaN(ta) || Number.isNaN(tb) || ta === tb ? byString(a, b) : ta - tb;
};

/** The latest of some timestamps (undefined when none is known). */
const latest = (times: readonly (string | undefined)[]): string | undefined =>
  times
    .filter((t): t is string => t !== undefined)
    .sort(byTime)
    .at(-1);

/** The verdict on the alarms of one check (`alarms` is not empty). */
function alarmCheck(check: string, alarms: readonly AlarmObservation[]): CheckResult {
  const status = alarms.map(alarmStatus).reduce(worst, 'healthy');
  if (status !== 'healthy') {
    // The alarm(s) that make the check fail: with duplicates of one severity, the worst wins and
    // the others of that status are named too (sorted, for a deterministic reason).
    const failing = alarms
      .filter((a) => alarmStatus(a) === status)
      .sort((a, b) => byString(a.name, b.name) || byString(a.reason ?? '', b.reason ?? ''));
    const reason = failing.map((a) => `${a.reason?.trim() || 'in ALARM'} (alarm ${a.name})`).join('; ');
    return withSince({ name: check, kind: 'alarm', status, reason }, latest(failing.map((a) => a.updatedAt)));
  }
  const noData = alarms.filter((a) => a.state === 'INSUFFICIENT_DATA');
  if (noData.length > 0) {
    return withSince(
      { name: check, kind: 'alarm', status, reason: NO_DATA_REASON },
      latest(noData.map((a) => a.updatedAt)),
    );
  }
  return withSince(
    { name: check, kind: 'alarm', status, reason: OK_REASON },
    latest(alarms.map((a) => a.updatedAt)),
  );
}

const withSince = (result: CheckResult, since: string | undefined): CheckResult =>
  since === undefined ? result : { ...result, since };

/** The verdict on one probe. */
function probeCheck(probe: ProbeResult): CheckResult {
  const status: HealthStatus = probe.ok ? 'healthy' : probe.critical ? 'unhealthy' : 'degraded';
  const reason = probe.ok ? OK_REASON : probe.detail?.trim() || 'probe failed';
  return { name: probe.name, kind: 'probe', status, reason, latencyMs: probe.latencyMs };
}

/** Worst first, then by name, then alarms before probes (a check and a probe may share a name). */
const byCheckOrder = (a: CheckResult, b: CheckResult): number =>
  HEALTH_SCORE[b.status] - HEALTH_SCORE[a.status] ||
  byString(a.name, b.name) ||
  byString(a.kind, b.kind) ||
  byString(a.reason, b.reason);

const checks = (n: number): string => `${n} ${n === 1 ? 'check' : 'checks'}`;

/** "unhealthy: 2 checks failing (a, b)", "healthy: 14 checks OK (2 without data)". */
function summarize(status: HealthStatus, sorted: readonly CheckResult[]): string {
  const failing = sorted.filter((c) => c.status !== 'healthy');
  if (failing.length > 0) {
    return `${status}: ${checks(failing.length)} failing (${failing.map((c) => c.name).join(', ')})`;
  }
  if (sorted.length === 0) return `${status}: no checks`;
  const noData = sorted.filter((c) => c.reason === NO_DATA_REASON).length;
  return `${status}: ${checks(sorted.length)} OK${noData > 0 ? ` (${noData} without data)` : ''}`;
}

/**
 * The platform's health from its alarms (grouped by `check`) and its probes: the worst of all
 * checks (no checks at all: healthy), each check with its reason.
 */
export function aggregateHealth(
  alarms: readonly AlarmObservation[],
  probes: readonly ProbeResult[],
  now: Date,
): HealthReport {
  const byCheck = new Map<string, AlarmObservation[]>();
  for (const alarm of alarms) {
    const group = byCheck.get(alarm.check);
    if (group) group.push(alarm);
    else byCheck.set(alarm.check, [alarm]);
  }
  const results = [
    ...[...byCheck].map(([check, group]) => alarmCheck(check, group)),
    ...probes.map(probeCheck),
  ].sort(byCheckOrder);
  const status = results.map((c) => c.status).reduce(worst, 'healthy');
  return {
    status,
    checks: results,
    checkedAt: now.toISOString(),
    summary: summarize(status, results),
  };
}

/**
 * Where the health check's inputs come from: the stage's metric alarms (listed by name prefix; a
 * name off the convention is ignored) and the live probes. Adapters: the domain's aggregation is
 * in `domain/health.ts`.
 */
import { CloudWatchClient, DescribeAlarmsCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { dynamoDbClient } from '../../commons/clients/dynamodb.js';
import { tracer } from '../../commons/powertools.js';
import { parseAlarmName } from '../domain/alerts.js';
import type { AlarmObservation, AlarmState, ProbeResult } from '../domain/health.js';

let cloudwatch: CloudWatchClient | undefined;
const client = (): CloudWatchClient => {
  cloudwatch ??= tracer.captureAWSv3Client(new CloudWatchClient({}));
  return cloudwatch;
};

const STATES: ReadonlySet<string> = new Set(['OK', 'ALARM', 'INSUFFICIENT_DATA']);

/** An alarm as the domain sees it; undefined for an alarm off the naming convention. */
export function observationOf(prefix: string, alarm: MetricAlarm): AlarmObservation | undefined {
  const name = alarm.AlarmName ?? '';
  const parsed = parseAlarmName(prefix, name);
  if (!parsed || !STATES.has(alarm.StateValue ?? '')) return undefined;
  return {
    name,
    check: parsed.check,
    severity: parsed.severity,
    state: alarm.StateValue as AlarmState,
    ...(alarm.StateReason ? { reason: alarm.StateReason } : {}),
    ...(alarm.StateUpdatedTimestamp ? { updatedAt: alarm.StateUpdatedTimestamp.toISOString() } : {}),
  };
}

/** Every metric alarm named `<prefix>-...` (the composites are summaries of them, so left out). */
export async function readAlarms(prefix: string): Promise<AlarmObservation[]> {
  const observations: AlarmObservation[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client().send(
      new DescribeAlarmsCommand({
        AlarmNamePrefix: `${prefix}-`,
        AlarmTypes: ['MetricAlarm'],
        MaxRecords: 100,
        NextToken: nextToken,
      }),
    );
    for (const alarm of page.MetricAlarms ?? []) {
      const observation = observationOf(prefix, alarm);
      if (observation) observations.push(observation);
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return observations;
}

/** Runs a probe with a time limit; a throw or a timeout is a failed probe with the reason. */
export async function probe(
  name: string,
  critical: boolean,
  run: () => Promise<string | undefined>,
  timeoutMs = 2_000,
): Promise<ProbeResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const problem = await Promise.race([
      run(),
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
      }),
    ]);
    const latencyMs = Math.round(performance.now() - started);
    return problem === undefined
      ? { name, ok: true, critical, latencyMs }
      : { name, ok: false, critical, latencyMs, detail: problem };
  } catch (error) {
    const latencyMs = Math.round(performance.now() - started);
    return {
      name,
      ok: false,
      critical,
      latencyMs,
      detail: error instanceof Error ? error.message : String(error),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** The event store answers and is ACTIVE (every write of the platform goes there). */
export const eventStoreProbe = (tableName: string): Promise<ProbeResult> =>
  probe('event store', true, async () => {
    const { Table } = await dynamoDbClient().send(new DescribeTableCommand({ TableName: tableName }));
    return Table?.TableStatus === 'ACTIVE'
      ? undefined
      : `table ${tableName} is ${Table?.TableStatus ?? 'unknown'}`;
  });

/** CloudWatch answered the alarm listing: without it the report knows nothing of the alarms. */
export async function alarmsProbe(
  prefix: string,
): Promise<{ alarms: AlarmObservation[]; probe: ProbeResult }> {
  let alarms: AlarmObservation[] = [];
  const result = await probe(
    'cloudwatch alarms',
    false,
    async () => {
      alarms = await readAlarms(prefix);
      return undefined;
    },
    3_000,
  );
  return { alarms, probe: result };
}

/**
 * Composite alarms on an emulator that has none (moto): each is kept as a stand-in metric alarm
 * of the same name, which holds its state and actions, and is shown as a composite alarm.
 */

/** The stand-in's metric: never published to, so that only the rule sets the state. */
export const COMPOSITE_STAND_IN_METRIC = {
  Namespace: 'LocalCloud/CompositeAlarm',
  MetricName: 'AlarmRule',
} as const;

/** The members of CloudWatch's `CompositeAlarm` shape (DescribeAlarms) a metric alarm also has. */
const COMPOSITE_FIELDS = [
  'ActionsEnabled',
  'AlarmActions',
  'AlarmArn',
  'AlarmConfigurationUpdatedTimestamp',
  'AlarmDescription',
  'AlarmName',
  'InsufficientDataActions',
  'OKActions',
  'StateReason',
  'StateReasonData',
  'StateUpdatedTimestamp',
  'StateValue',
  'StateTransitionedTimestamp',
] as const;

type CompositeField = (typeof COMPOSITE_FIELDS)[number];

/** The composite alarm a stand-in metric alarm stands for (in the DescribeAlarms shape). */
export function compositeFromStandIn<T extends Partial<Record<CompositeField, unknown>>>(
  standIn: T,
  rule: string,
): Pick<T, CompositeField> & { AlarmRule: string } {
  const out: Partial<Record<CompositeField, unknown>> = {};
  for (const key of COMPOSITE_FIELDS) if (standIn[key] !== undefined) out[key] = standIn[key];
  if (out.StateTransitionedTimestamp === undefined && standIn.StateUpdatedTimestamp !== undefined)
    out.StateTransitionedTimestamp = standIn.StateUpdatedTimestamp;
  return { ...(out as Pick<T, CompositeField>), AlarmRule: rule };
}

/** The parts of a DescribeAlarms request (JSON protocol) the presentation depends on. */
export interface DescribeAlarmsRequest {
  readonly AlarmTypes?: readonly string[];
  readonly ChildrenOfAlarmName?: string;
  readonly ParentsOfAlarmName?: string;
}

/** A DescribeAlarms response in the JSON protocol (alarms as plain records). */
export interface DescribeAlarmsResponse {
  MetricAlarms?: Record<string, unknown>[];
  CompositeAlarms?: Record<string, unknown>[];
  [key: string]: unknown;
}

/**
 * Presents the emulator's DescribeAlarms answer as CloudWatch would: stand-in metric alarms as
 * the composite alarms they stand for (with their rules), only the AlarmTypes asked (metric
 * alarms alone by default, as CloudWatch), and the ChildrenOfAlarmName / ParentsOfAlarmName
 * filters applied from the rules (moto ignores all three).
 */
export function presentDescribeAlarms(
  response: DescribeAlarmsResponse,
  request: DescribeAlarmsRequest,
  rules: ReadonlyMap<string, string>,
  alarmsOfRule: (rule: string) => readonly string[],
): DescribeAlarmsResponse {
  const nameOf = (a: Record<string, unknown>) => String(a.AlarmName ?? '');
  const metric: Record<string, unknown>[] = [];
  const composite: Record<string, unknown>[] = [...(response.CompositeAlarms ?? [])];
  for (const alarm of response.MetricAlarms ?? []) {
    const rule = rules.get(nameOf(alarm));
    if (rule === undefined) metric.push(alarm);
    else composite.push(compositeFromStandIn(alarm, rule));
  }
  const ruleOf = (name: string) =>
    rules.get(name) ?? (composite.find((c) => nameOf(c) === name)?.AlarmRule as string | undefined);
  const refersTo = (rule: string | undefined, alarm: Record<string, unknown>) =>
    rule !== undefined &&
    alarmsOfRule(rule).some((ref) => ref === nameOf(alarm) || ref === String(alarm.AlarmArn ?? ''));
  let keep = (_: Record<string, unknown>) => true;
  if (request.ChildrenOfAlarmName !== undefined) {
    const rule = ruleOf(request.ChildrenOfAlarmName);
    keep = (a) => refersTo(rule, a);
  } else if (request.ParentsOfAlarmName !== undefined) {
    const child = [...metric, ...composite].find((a) => nameOf(a) === request.ParentsOfAlarmName);
    keep = (a) => child !== undefined && refersTo(a.AlarmRule as string | undefined, child);
  }
  const types = request.AlarmTypes ?? ['MetricAlarm'];
  return {
    ...response,
    MetricAlarms: types.includes('MetricAlarm') ? metric.filter(keep) : [],
    CompositeAlarms: types.includes('CompositeAlarm') ? composite.filter(keep) : [],
  };
}

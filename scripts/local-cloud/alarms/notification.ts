/**
 * The message CloudWatch publishes to an SNS topic when an alarm changes state, in its JSON
 * format (the `Message` of the SNS notification), and the notification's subject.
 */
import type { CompositeAlarm, Dimension, MetricAlarm, MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { AlarmStateValue } from './rule.js';

/** CloudWatch names the region by its long name in notifications. */
const REGION_NAMES: Record<string, string> = {
  'us-east-1': 'US East (N. Virginia)',
  'us-east-2': 'US East (Ohio)',
  'us-west-1': 'US West (N. California)',
  'us-west-2': 'US West (Oregon)',
  'ca-central-1': 'Canada (Central)',
  'eu-west-1': 'EU (Ireland)',
  'eu-west-2': 'EU (London)',
  'eu-west-3': 'EU (Paris)',
  'eu-central-1': 'EU (Frankfurt)',
  'eu-north-1': 'EU (Stockholm)',
  'eu-south-1': 'EU (Milan)',
  'ap-northeast-1': 'Asia Pacific (Tokyo)',
  'ap-northeast-2': 'Asia Pacific (Seoul)',
  'ap-southeast-1': 'Asia Pacific (Singapore)',
  'ap-southeast-2': 'Asia Pacific (Sydney)',
  'ap-south-1': 'Asia Pacific (Mumbai)',
  'sa-east-1': 'South America (Sao Paulo)',
};

export const regionLongName = (region: string): string => REGION_NAMES[region] ?? region;

/** CloudWatch's timestamp format in notifications: `2024-01-31T12:00:00.000+0000`. */
export const notificationTimestamp = (d: Date | undefined): string | null =>
  d ? d.toISOString().replace('Z', '+0000') : null;

/** The Trigger's Statistic: `SampleCount` -> `SAMPLE_COUNT`, `Sum` -> `SUM`. */
const upperSnake = (s: string): string => s.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();

const dimensions = (ds: readonly Dimension[] | undefined) =>
  (ds ?? []).map((d) => ({ value: d.Value ?? null, name: d.Name ?? null }));

const metricQuery = (q: MetricDataQuery): Record<string, unknown> => {
  const out: Record<string, unknown> = { Id: q.Id };
  if (q.Expression !== undefined) out.Expression = q.Expression;
  if (q.Label !== undefined) out.Label = q.Label;
  if (q.MetricStat) {
    out.MetricStat = {
      Metric: {
        Dimensions: dimensions(q.MetricStat.Metric?.Dimensions),
        MetricName: q.MetricStat.Metric?.MetricName ?? null,
        Namespace: q.MetricStat.Metric?.Namespace ?? null,
      },
      Period: q.MetricStat.Period ?? null,
      Stat: q.MetricStat.Stat ?? null,
      ...(q.MetricStat.Unit ? { Unit: q.MetricStat.Unit } : {}),
    };
  }
  if (q.Period !== undefined) out.Period = q.Period;
  out.ReturnData = q.ReturnData ?? true;
  return out;
};

/** The Trigger block of a metric alarm's notification (single metric or metric math). */
export function alarmTrigger(alarm: MetricAlarm): Record<string, unknown> {
  const common = {
    Period: alarm.Period ?? null,
    EvaluationPeriods: alarm.EvaluationPeriods ?? null,
    ...(alarm.DatapointsToAlarm !== undefined ? { DatapointsToAlarm: alarm.DatapointsToAlarm } : {}),
    ComparisonOperator: alarm.ComparisonOperator ?? null,
    Threshold: alarm.Threshold ?? null,
    ...(alarm.ThresholdMetricId ? { ThresholdMetricId: alarm.ThresholdMetricId } : {}),
    TreatMissingData: alarm.TreatMissingData ?? '',
    EvaluateLowSampleCountPercentile: alarm.EvaluateLowSampleCountPercentile ?? '',
  };
  if (alarm.Metrics && alarm.Metrics.length > 0) {
    return { Metrics: alarm.Metrics.map(metricQuery), ...common };
  }
  const statistic = alarm.ExtendedStatistic
    ? { StatisticType: 'ExtendedStatistic', ExtendedStatistic: alarm.ExtendedStatistic }
    : { StatisticType: 'Statistic', Statistic: alarm.Statistic ? upperSnake(alarm.Statistic) : null };
  return {
    MetricName: alarm.MetricName ?? null,
    Namespace: alarm.Namespace ?? null,
    ...statistic,
    Unit: alarm.Unit ?? null,
    Dimensions: dimensions(alarm.Dimensions),
    ...common,
  };
}

export interface StateChange {
  readonly oldState: AlarmStateValue;
  readonly newState: AlarmStateValue;
  readonly reason: string;
  readonly time: Date;
}

export interface NotificationContext {
  readonly region: string;
  readonly accountId: string;
}

/** A composite alarm's child that made it change state, for `TriggeringChildren`. */
export interface TriggeringChild {
  readonly arn: string;
  readonly state: AlarmStateValue;
  readonly timestamp?: Date;
}

export type AlarmDescriptionOf =
  | { readonly type: 'metric'; readonly alarm: MetricAlarm }
  | {
      readonly type: 'composite';
      readonly alarm: CompositeAlarm;
      readonly triggeringChildren?: readonly TriggeringChild[];
    };

/** The JSON message CloudWatch publishes to the alarm's SNS actions. */
export function alarmNotification(
  described: AlarmDescriptionOf,
  change: StateChange,
  ctx: NotificationContext,
): Record<string, unknown> {
  const { alarm } = described;
  const message: Record<string, unknown> = {
    AlarmName: alarm.AlarmName ?? '',
    AlarmDescription: alarm.AlarmDescription ?? null,
    AWSAccountId: ctx.accountId,
    AlarmConfigurationUpdatedTimestamp: notificationTimestamp(alarm.AlarmConfigurationUpdatedTimestamp),
    NewStateValue: change.newState,
    NewStateReason: change.reason,
    StateChangeTime: notificationTimestamp(change.time),
    Region: regionLongName(ctx.region),
    AlarmArn: alarm.AlarmArn ?? '',
    OldStateValue: change.oldState,
    OKActions: alarm.OKActions ?? [],
    AlarmActions: alarm.AlarmActions ?? [],
    InsufficientDataActions: alarm.InsufficientDataActions ?? [],
  };
  if (described.type === 'metric') {
    message.Trigger = alarmTrigger(described.alarm);
  } else {
    message.AlarmRule = described.alarm.AlarmRule ?? '';
    message.TriggeringChildren = (described.triggeringChildren ?? []).map((c) => ({
      Arn: c.arn,
      State: { Value: c.state, Timestamp: notificationTimestamp(c.timestamp) },
    }));
  }
  return message;
}

/** SNS subjects are at most 100 characters; CloudWatch shortens the alarm's name to fit. */
const SUBJECT_MAX = 100;

/** `ALARM: "name" in US East (N. Virginia)`, as CloudWatch titles its notifications. */
export function alarmSubject(alarmName: string, state: AlarmStateValue, region: string): string {
  const where = ` in ${regionLongName(region)}`;
  const full = `${state}: "${alarmName}"${where}`;
  if (full.length <= SUBJECT_MAX) return full;
  const room = SUBJECT_MAX - `${state}: ""${where}`.length - 3;
  return `${state}: "${alarmName.slice(0, Math.max(0, room))}..."${where}`.slice(0, SUBJECT_MAX);
}

/** The actions of an alarm for a state: AlarmActions, OKActions or InsufficientDataActions. */
export function actionsFor(
  alarm: Pick<MetricAlarm, 'AlarmActions' | 'OKActions' | 'InsufficientDataActions'>,
  state: AlarmStateValue,
): string[] {
  const actions =
    state === 'ALARM' ? alarm.AlarmActions : state === 'OK' ? alarm.OKActions : alarm.InsufficientDataActions;
  return [...(actions ?? [])];
}

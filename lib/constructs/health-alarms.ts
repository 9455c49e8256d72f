import { Duration, Lazy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { alarmName } from '../../lambdas/observability/domain/alerts.js';
import type { Severity } from '../../lambdas/observability/domain/health.js';

/** A check's thresholds: degraded from `warning`, unhealthy from `critical`. */
export interface Thresholds {
  readonly warning: number;
  readonly critical: number;
}

export interface HealthAlarmsProps {
  /** Every alarm's name starts with it (`<prefix>-<check>-<severity>`); the health check lists by it. */
  readonly alarmNamePrefix: string;
  /** Where every alarm sends its ALARM and OK transitions. */
  readonly alertTopic: sns.ITopic;
  /** Period of the metrics. @default Duration.minutes(1) */
  readonly period?: Duration;
  /** @default 3 */
  readonly evaluationPeriods?: number;
  /** @default 2 */
  readonly datapointsToAlarm?: number;
}

export interface CheckProps {
  /** What is watched, in words ("inventory queue depth"): the alarm names and the health report use it. */
  readonly check: string;
  readonly metric: cloudwatch.IMetric;
  readonly thresholds: Thresholds;
  /** What the alarm is about, for whoever is paged. */
  readonly description: string;
  /** @default GREATER_THAN_OR_EQUAL_TO_THRESHOLD */
  readonly comparisonOperator?: cloudwatch.ComparisonOperator;
  /**
   * @default NOT_BREACHING: most of these metrics are only published when something happens (no
   * errors, no throttles, an idle queue), so no data means healthy.
   */
  readonly treatMissingData?: cloudwatch.TreatMissingData;
  /** The composite it is gathered in (see HealthAlarms). @default 'other' */
  readonly group?: string;
}

/** A composite's child: the alarm, its name as a reference, and its name as deployed. */
interface Child {
  readonly alarm: cloudwatch.IAlarm;
  readonly name: string;
  readonly literalName: string;
}

/** A check's two alarms. */
export interface HealthCheck {
  readonly check: string;
  readonly warning: cloudwatch.Alarm;
  readonly critical: cloudwatch.Alarm;
}

/** CloudWatch's limit on a composite alarm's rule. */
export const ALARM_RULE_MAX_LENGTH = 10_240;

/**
 * The platform's health checks as CloudWatch alarms: each check is a pair of alarms on one metric,
 * a warning (degraded) and a critical (unhealthy) one, named `<prefix>-<check>-warning|critical`,
 * both sending their ALARM and OK transitions to the alert topic.
 *
 * Composites: one per severity (`<prefix>-any-warning`, `<prefix>-any-critical`) is in ALARM while
 * any alarm of that severity is: the single signal to page on, and the top of the dashboard. A
 * rule holds at most 10,240 characters, so the checks are gathered by `group` (queues, functions,
 * ...) into a composite per group and severity, and the top composites combine the groups'.
 */
export class HealthAlarms extends Construct {
  readonly checks: HealthCheck[] = [];
  readonly compositeWarning: cloudwatch.CompositeAlarm;
  readonly compositeCritical: cloudwatch.CompositeAlarm;
  private readonly props: HealthAlarmsProps;
  private readonly action: actions.SnsAction;
  private readonly groups = new Map<
    string,
    Record<Severity, { composite: cloudwatch.CompositeAlarm; children: Child[] }>
  >();

  constructor(scope: Construct, id: string, props: HealthAlarmsProps) {
    super(scope, id);
    this.props = props;
    this.action = new actions.SnsAction(props.alertTopic);
    const groupComposites = (severity: Severity) => () =>
      [...this.groups.entries()].map(([group, g]) => ({
        alarm: g[severity].composite,
        name: g[severity].composite.alarmName,
        literalName: alarmName(props.alarmNamePrefix, `any ${group}`, severity),
      }));
    this.compositeWarning = this.composite('AnyWarning', 'any', 'warning', groupComposites('warning'));
    this.compositeCritical = this.composite('AnyCritical', 'any', 'critical', groupComposites('critical'));
  }

  /** Adds a check: its warning and critical alarms, wired to the alert topic and the composites. */
  addCheck(id: string, props: CheckProps): HealthCheck {
    const period = this.props.period ?? Duration.minutes(1);
    const group = this.group(props.group ?? 'other');
    const alarm = (severity: Severity) => {
      const name = alarmName(this.props.alarmNamePrefix, props.check, severity);
      const created = new cloudwatch.Alarm(this, `${id}${severity === 'warning' ? 'Warning' : 'Critical'}`, {
        alarmName: name,
        alarmDescription: `${props.description} (${severity}: ${props.thresholds[severity]})`,
        metric: props.metric instanceof cloudwatch.Metric ? props.metric.with({ period }) : props.metric,
        threshold: props.thresholds[severity],
        comparisonOperator:
          props.comparisonOperator ?? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: this.props.evaluationPeriods ?? 3,
        datapointsToAlarm: this.props.datapointsToAlarm ?? 2,
        treatMissingData: props.treatMissingData ?? cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(this.action);
      created.addOkAction(this.action);
      group[severity].children.push({ alarm: created, name: created.alarmName, literalName: name });
      return created;
    };
    const check: HealthCheck = { check: props.check, warning: alarm('warning'), critical: alarm('critical') };
    this.checks.push(check);
    return check;
  }

  private group(name: string) {
    let group = this.groups.get(name);
    if (!group) {
      const pascal = name.replace(/(^|[^A-Za-z0-9]+)([A-Za-z0-9])/g, (_, __, c: string) => c.toUpperCase());
      const make = (severity: Severity) => {
        const children: Child[] = [];
        const composite = this.composite(
          `Any${pascal}${severity === 'warning' ? 'Warning' : 'Critical'}`,
          `any ${name}`,
          severity,
          () => children,
        );
        return { composite, children };
      };
      group = { warning: make('warning'), critical: make('critical') };
      this.groups.set(name, group);
    }
    return group;
  }

  /** A composite in ALARM while any of `children()` is (evaluated at synthesis, when all exist). */
  private composite(
    id: string,
    check: string,
    severity: Severity,
    children: () => readonly Child[],
  ): cloudwatch.CompositeAlarm {
    const name = alarmName(this.props.alarmNamePrefix, check, severity);
    // The names are references (the dependencies), so the rule's deployed length is measured on
    // the literal names.
    const ruleOf = (nameOf: (c: Child) => string) =>
      children()
        .map((c) => `ALARM("${nameOf(c)}")`)
        .join(' OR ') || 'FALSE';
    const rule = () => ruleOf((c) => c.name);
    const alarm = new cloudwatch.CompositeAlarm(this, id, {
      compositeAlarmName: name,
      alarmDescription: `In ALARM while any ${severity} alarm of ${check.replace(/^any ?/, '') || 'the platform'} is`,
      // Lazy: the children are added after it.
      alarmRule: cloudwatch.AlarmRule.fromString(Lazy.string({ produce: rule })),
    });
    // Only the top composites notify: a group's transitions are its alarms' own.
    if (check === 'any') {
      alarm.addAlarmAction(this.action);
      alarm.addOkAction(this.action);
    }
    this.node.addValidation({
      validate: () => {
        const length = ruleOf((c) => c.literalName).length;
        return length > ALARM_RULE_MAX_LENGTH
          ? [
              `${name}: its rule has ${length} characters, more than CloudWatch's ${ALARM_RULE_MAX_LENGTH}: split the group`,
            ]
          : [];
      },
    });
    return alarm;
  }
}

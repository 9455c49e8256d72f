import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { ALARM_RULE_MAX_LENGTH, HealthAlarms } from '../../../lib/constructs/health-alarms.js';
import { newApp, newStack } from '../helpers.js';

const metric = (name: string) =>
  new cloudwatch.Metric({ namespace: 'Test', metricName: name, statistic: 'Sum' });

function fixture(props: { evaluationPeriods?: number; datapointsToAlarm?: number } = {}) {
  const app = newApp();
  const stack = newStack(app);
  const topic = new sns.Topic(stack, 'Alerts');
  const alarms = new HealthAlarms(stack, 'Health', {
    alarmNamePrefix: 'Test-Stage',
    alertTopic: topic,
    period: Duration.minutes(5),
    ...props,
  });
  return { app, stack, topic, alarms };
}

describe('HealthAlarms', () => {
  it('GIVEN a check THEN it has a warning and a critical alarm on the metric, at the period, with the thresholds', () => {
    const { stack, alarms } = fixture();
    alarms.addCheck('Depth', {
      check: 'orders queue depth',
      metric: metric('Depth'),
      thresholds: { warning: 10, critical: 100 },
      description: 'Messages waiting',
      group: 'queues',
    });
    const template = Template.fromStack(stack);
    for (const [severity, threshold] of [
      ['warning', 10],
      ['critical', 100],
    ] as const) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `Test-Stage-orders-queue-depth-${severity}`,
        AlarmDescription: `Messages waiting (${severity}: ${threshold})`,
        Namespace: 'Test',
        MetricName: 'Depth',
        Statistic: 'Sum',
        Period: 300,
        Threshold: threshold,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 3,
        DatapointsToAlarm: 2,
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: Match.stringLikeRegexp('^Alerts') }],
        OKActions: [{ Ref: Match.stringLikeRegexp('^Alerts') }],
      });
    }
  });

  it('GIVEN checks in two groups THEN each group has a silent composite per severity and the top composites notify', () => {
    const { stack, alarms } = fixture({ evaluationPeriods: 5, datapointsToAlarm: 3 });
    alarms.addCheck('A', {
      check: 'a',
      metric: metric('A'),
      thresholds: { warning: 1, critical: 2 },
      description: 'a',
      group: 'one',
    });
    alarms.addCheck('B', {
      check: 'b',
      metric: metric('B'),
      thresholds: { warning: 1, critical: 2 },
      description: 'b',
      group: 'two',
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 4);
    template.resourceCountIs('AWS::CloudWatch::CompositeAlarm', 6);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { EvaluationPeriods: 5, DatapointsToAlarm: 3 });
    const composites = template.findResources('AWS::CloudWatch::CompositeAlarm');
    const byName = new Map(
      Object.values(composites).map((c) => [c.Properties.AlarmName as string, c.Properties]),
    );
    expect(byName.get('Test-Stage-any-one-critical')?.AlarmActions).toBeUndefined();
    const oneCritical = JSON.stringify(byName.get('Test-Stage-any-one-critical')?.AlarmRule);
    expect(oneCritical).toContain(stack.getLogicalId(alarms.checks[0]?.critical.node.defaultChild as never));
    expect(oneCritical).not.toContain(
      stack.getLogicalId(alarms.checks[1]?.critical.node.defaultChild as never),
    );
    const top = byName.get('Test-Stage-any-critical');
    expect(top?.AlarmActions).toHaveLength(1);
    expect(top?.OKActions).toHaveLength(1);
    const topRule = JSON.stringify(top?.AlarmRule);
    for (const group of ['one', 'two']) {
      const id = Object.entries(composites).find(
        ([, c]) => c.Properties.AlarmName === `Test-Stage-any-${group}-critical`,
      )?.[0];
      expect(topRule).toContain(`"Ref":"${id}"`);
    }
  });

  it('GIVEN no check THEN the composites are never in alarm (rule FALSE)', () => {
    const { stack } = fixture();
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::CompositeAlarm', {
      AlarmName: 'Test-Stage-any-critical',
      AlarmRule: 'FALSE',
    });
  });

  it(`GIVEN a group whose rule would pass ${ALARM_RULE_MAX_LENGTH} characters THEN synthesis fails naming it (the gate can fail)`, () => {
    const { app, alarms } = fixture();
    for (let i = 0; i < 160; i++) {
      alarms.addCheck(`C${i}`, {
        check: `a rather long check name number ${i} of the platform`,
        metric: metric(`M${i}`),
        thresholds: { warning: 1, critical: 2 },
        description: 'x',
        group: 'crowded',
      });
    }
    expect(() => app.synth()).toThrow(
      /Test-Stage-any-crowded-(warning|critical): its rule has \d+ characters, more than CloudWatch's 10240/,
    );
  });
});

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeAlarmsCommand,
  GetDashboardCommand,
  type MetricAlarm,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { App, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { SqsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PlatformFunction } from '../../../lib/constructs/platform-function.js';
import { LocalCloud } from '../../../scripts/local-cloud/runtime.js';
import { eventually } from '../eventually.js';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';

/**
 * Observability as the platform builds it: metric alarms (a sum, a p99, a metric-math ratio) whose
 * actions go to an alert topic, a composite over two of them with ALARM and OK actions, a
 * dashboard, a queue subscribed to the topic, and a function that reads the alarms' states.
 */
function synthesize(stackName: string, prefix: string): string {
  const outdir = mkdtempSync(join(tmpdir(), 'lc-alarms-'));
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new Stack(app, stackName, { env: { account: ACCOUNT, region: REGION } });
  const topic = new sns.Topic(stack, 'Alerts');
  const inbox = new sqs.Queue(stack, 'Inbox');
  topic.addSubscription(new SqsSubscription(inbox));
  const alert = new SnsAction(topic);

  // No alarmName: CloudFormation names it after the stack and logical id.
  const errors = new cloudwatch.Alarm(stack, 'Errors', {
    metric: new cloudwatch.Metric({
      namespace: 'Fixture',
      metricName: 'Errors',
      statistic: 'Sum',
      period: Duration.minutes(1),
      dimensionsMap: { FunctionName: 'orders' },
    }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: 'orders fail',
  });
  errors.addAlarmAction(alert);
  const latency = new cloudwatch.Alarm(stack, 'Latency', {
    alarmName: `${prefix}latency-p99`,
    metric: new cloudwatch.Metric({ namespace: 'Fixture', metricName: 'Duration', statistic: 'p99' }),
    threshold: 500,
    evaluationPeriods: 3,
    datapointsToAlarm: 2,
  });
  const ratio = new cloudwatch.Alarm(stack, 'ErrorRate', {
    alarmName: `${prefix}error-rate`,
    metric: new cloudwatch.MathExpression({
      expression: 'errors / invocations',
      usingMetrics: {
        errors: new cloudwatch.Metric({ namespace: 'Fixture', metricName: 'Errors', statistic: 'Sum' }),
        invocations: new cloudwatch.Metric({
          namespace: 'Fixture',
          metricName: 'Invocations',
          statistic: 'Sum',
        }),
      },
      period: Duration.minutes(5),
    }),
    threshold: 0.05,
    evaluationPeriods: 1,
  });
  const health = new cloudwatch.CompositeAlarm(stack, 'Health', {
    compositeAlarmName: `${prefix}health`,
    alarmDescription: 'the platform is unhealthy',
    alarmRule: cloudwatch.AlarmRule.anyOf(
      cloudwatch.AlarmRule.fromAlarm(errors, cloudwatch.AlarmState.ALARM),
      cloudwatch.AlarmRule.allOf(
        cloudwatch.AlarmRule.fromAlarm(latency, cloudwatch.AlarmState.ALARM),
        cloudwatch.AlarmRule.not(cloudwatch.AlarmRule.fromAlarm(ratio, cloudwatch.AlarmState.OK)),
      ),
    ),
  });
  health.addAlarmAction(alert);
  health.addOkAction(alert);
  new cloudwatch.Dashboard(stack, 'Board', {
    dashboardName: `${prefix}board`,
    widgets: [[new cloudwatch.AlarmStatusWidget({ alarms: [errors, latency, health] })]],
  });
  new PlatformFunction(stack, 'AlarmStates', {
    entry: join(import.meta.dirname, 'fixtures', 'handlers', 'alarm-states.ts'),
    serviceName: 'fixture-alarm-states',
    timeout: Duration.seconds(10),
  });
  new CfnOutput(stack, 'ErrorsName', { value: errors.alarmName });
  new CfnOutput(stack, 'ErrorsArn', { value: errors.alarmArn });
  new CfnOutput(stack, 'HealthArn', { value: health.alarmArn });
  app.synth();
  return outdir;
}

interface Notification {
  readonly Subject: string;
  readonly Message: Record<string, unknown>;
}

describe('CloudWatch alarms on the local cloud', () => {
  const run = Date.now().toString(36);
  const stackName = `Alarms-${run}`;
  const prefix = `lc-${run}-`;
  let cloud: LocalCloud;
  const logs: string[] = [];
  const received: Notification[] = [];

  const outputs = () => cloud.resources.outputs[stackName] ?? {};
  const describeAlarm = async (name: string) => {
    const out = await cloud.clients.cloudwatch.send(
      new DescribeAlarmsCommand({ AlarmNames: [name], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }),
    );
    return out.MetricAlarms?.[0] ?? out.CompositeAlarms?.[0];
  };
  const setState = (name: string, state: 'OK' | 'ALARM') =>
    cloud.clients.cloudwatch.send(
      new SetAlarmStateCommand({ AlarmName: name, StateValue: state, StateReason: `test sets ${state}` }),
    );
  /** The notifications delivered to the subscribed queue so far (SNS envelopes, not raw). */
  const notification = (match: (n: Notification) => boolean) =>
    eventually(async () => {
      const queueUrl = cloud.resources.ofType('AWS::SQS::Queue').find((q) => q.stackName === stackName)?.ref;
      const r = await cloud.clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      for (const m of r.Messages ?? []) {
        const envelope = JSON.parse(m.Body ?? '{}') as { Subject: string; Message: string };
        received.push({ Subject: envelope.Subject, Message: JSON.parse(envelope.Message) });
      }
      return received.find(match);
    }, 20_000);

  beforeAll(async () => {
    const assemblyDir = synthesize(stackName, prefix);
    cloud = await LocalCloud.start({
      assemblyDir,
      target: { endpoint: inject('engines').awsEndpointUrl, region: REGION, accountId: ACCOUNT },
      port: 0,
      streamCheckpoints: false,
      customResourceState: false,
      alarmPollIntervalMs: 200,
      log: (line) => logs.push(line),
      functionLog: () => undefined,
    });
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  it('creates the alarms and the dashboard; Ref is the name and Arn its ARN', async () => {
    // THEN an unnamed alarm is named <stack>-<logicalId>-<suffix>, as CloudFormation names it
    const errorsName = outputs().ErrorsName ?? '';
    expect(errorsName).toMatch(new RegExp(`^${stackName}-Errors[A-Za-z0-9]*-[A-Z0-9]{8}$`));
    expect(outputs().ErrorsArn).toBe(`arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${errorsName}`);
    expect(outputs().HealthArn).toBe(`arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${prefix}health`);

    // AND the alarms are on the emulator as the template describes them
    const topicArn = cloud.resources.ofType('AWS::SNS::Topic').find((t) => t.stackName === stackName)?.ref;
    expect(await describeAlarm(errorsName)).toMatchObject({
      AlarmDescription: 'orders fail',
      Namespace: 'Fixture',
      MetricName: 'Errors',
      Statistic: 'Sum',
      Dimensions: [{ Name: 'FunctionName', Value: 'orders' }],
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [topicArn ?? '(no topic)'],
    } satisfies MetricAlarm);
    expect(await describeAlarm(`${prefix}latency-p99`)).toMatchObject({
      ExtendedStatistic: 'p99',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      Threshold: 500,
    });
    const ratio = (await describeAlarm(`${prefix}error-rate`)) as MetricAlarm | undefined;
    expect(ratio?.Metrics?.map((m) => m.Id).sort()).toEqual(['errors', 'expr_1', 'invocations']);
    expect(ratio?.Metrics?.find((m) => m.Id === 'expr_1')?.Expression).toBe('errors / invocations');

    const board = await cloud.clients.cloudwatch.send(
      new GetDashboardCommand({ DashboardName: `${prefix}board` }),
    );
    expect(JSON.parse(board.DashboardBody ?? '{}').widgets[0].properties.alarms).toContain(
      `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${errorsName}`,
    );
  });

  it('evaluates the composite rule and sends the SNS actions of each state change', async () => {
    const errorsName = outputs().ErrorsName ?? '';

    // WHEN the child alarm goes to ALARM
    await setState(errorsName, 'ALARM');

    // THEN the composite follows
    await eventually(async () =>
      (await describeAlarm(`${prefix}health`))?.StateValue === 'ALARM' ? true : undefined,
    );
    const health = await describeAlarm(`${prefix}health`);
    expect(health?.StateReason).toContain(`alarm:${errorsName} transitioned to ALARM`);

    // AND the alert topic delivers CloudWatch's notifications: the child's and the composite's
    const child = await notification(
      (n) => n.Message.AlarmName === errorsName && n.Message.NewStateValue === 'ALARM',
    );
    expect(child.Subject).toBe(`ALARM: "${errorsName}" in US East (N. Virginia)`);
    expect(child.Message).toMatchObject({
      AlarmDescription: 'orders fail',
      AWSAccountId: ACCOUNT,
      OldStateValue: 'OK',
      NewStateReason: 'test sets ALARM',
      Region: 'US East (N. Virginia)',
      AlarmArn: outputs().ErrorsArn,
      StateChangeTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/),
      Trigger: {
        MetricName: 'Errors',
        Namespace: 'Fixture',
        StatisticType: 'Statistic',
        Statistic: 'SUM',
        Dimensions: [{ value: 'orders', name: 'FunctionName' }],
        Threshold: 1,
      },
    });
    const composite = await notification(
      (n) => n.Message.AlarmName === `${prefix}health` && n.Message.NewStateValue === 'ALARM',
    );
    expect(composite.Subject).toBe(`ALARM: "${prefix}health" in US East (N. Virginia)`);
    expect(composite.Message).toMatchObject({
      AlarmDescription: 'the platform is unhealthy',
      OldStateValue: 'OK',
      AlarmRule: expect.stringContaining(`ALARM("${outputs().ErrorsArn}")`),
      TriggeringChildren: [{ Arn: outputs().ErrorsArn, State: { Value: 'ALARM' } }],
    });

    // WHEN the child recovers
    await setState(errorsName, 'OK');

    // THEN the composite goes back to OK, and its OK action is sent
    await eventually(async () =>
      (await describeAlarm(`${prefix}health`))?.StateValue === 'OK' ? true : undefined,
    );
    const ok = await notification(
      (n) => n.Message.AlarmName === `${prefix}health` && n.Message.NewStateValue === 'OK',
    );
    expect(ok.Subject).toBe(`OK: "${prefix}health" in US East (N. Virginia)`);
    expect(ok.Message.OldStateValue).toBe('ALARM');
    // The child has no OK action: nothing is sent for its recovery.
    expect(
      received.filter((n) => n.Message.AlarmName === errorsName && n.Message.NewStateValue === 'OK'),
    ).toEqual([]);
  });

  it('evaluates AND and NOT over several children', async () => {
    // WHEN the latency alarm alone is in ALARM: the rule's second branch needs the ratio not OK too
    await setState(`${prefix}latency-p99`, 'ALARM');
    await new Promise((r) => setTimeout(r, 1000));
    expect((await describeAlarm(`${prefix}health`))?.StateValue).toBe('OK');

    // WHEN the ratio leaves OK as well
    await setState(`${prefix}error-rate`, 'ALARM');

    // THEN
    await eventually(async () =>
      (await describeAlarm(`${prefix}health`))?.StateValue === 'ALARM' ? true : undefined,
    );
    const alarm = await notification(
      (n) =>
        n.Message.AlarmName === `${prefix}health` &&
        n.Message.NewStateValue === 'ALARM' &&
        n.Message.OldStateValue === 'OK' &&
        JSON.stringify(n.Message.TriggeringChildren).includes('latency-p99'),
    );
    expect(alarm.Message.TriggeringChildren).toEqual([
      {
        Arn: `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${prefix}latency-p99`,
        State: expect.objectContaining({ Value: 'ALARM' }),
      },
    ]);
    await setState(`${prefix}latency-p99`, 'OK');
    await eventually(async () =>
      (await describeAlarm(`${prefix}health`))?.StateValue === 'OK' ? true : undefined,
    );
  });

  it('shows functions the composite as a composite alarm, with its rule and state', async () => {
    // WHEN a function reads the alarms through its SDK
    const outcome = await cloud.fn('AlarmStates').invoke({ prefix });

    // THEN
    expect(outcome.ok).toBe(true);
    const result = (outcome as { result: { metric: unknown[]; composite: unknown[] } }).result;
    expect(result.composite).toEqual([
      { name: `${prefix}health`, state: 'OK', rule: expect.stringContaining('ALARM(') },
    ]);
    expect(result.metric).toEqual(
      expect.arrayContaining([
        { name: `${prefix}latency-p99`, state: 'OK' },
        { name: `${prefix}error-rate`, state: 'ALARM' },
      ]),
    );
    expect(result.metric).toHaveLength(2);
    expect(logs).toContain(
      'the AWS emulator has no PutCompositeAlarm: composite alarms are stand-in metric alarms of the same name (namespace LocalCloud/CompositeAlarm), their rules evaluated by the local cloud',
    );
  });
});

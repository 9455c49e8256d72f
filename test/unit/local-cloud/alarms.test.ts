import {
  type CompositeAlarm,
  DescribeAlarmsCommand,
  type MetricAlarm,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import { PublishCommand } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import {
  AlarmEmulator,
  type AlarmEmulatorClients,
  alarmNameOf,
  triggeringChildrenOf,
} from '../../../scripts/local-cloud/alarms/alarm-actions.js';
import { presentDescribeAlarms } from '../../../scripts/local-cloud/alarms/composite.js';
import {
  actionsFor,
  alarmNotification,
  alarmSubject,
  alarmTrigger,
} from '../../../scripts/local-cloud/alarms/notification.js';
import {
  AlarmRuleError,
  type AlarmStateValue,
  alarmsOf,
  evaluateAlarmRule,
  parseAlarmRule,
} from '../../../scripts/local-cloud/alarms/rule.js';

const ARN = 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:';

const evaluate = (rule: string, states: Record<string, AlarmStateValue>) =>
  evaluateAlarmRule(parseAlarmRule(rule), (ref) => states[alarmNameOf(ref)]);

describe('composite alarm rules', () => {
  it('parse state functions on quoted names, bare names and ARNs', () => {
    expect(parseAlarmRule('ALARM("errors")')).toEqual({ kind: 'state', state: 'ALARM', alarm: 'errors' });
    expect(parseAlarmRule("OK('a b')")).toEqual({ kind: 'state', state: 'OK', alarm: 'a b' });
    expect(parseAlarmRule('INSUFFICIENT_DATA(latency-p99)')).toEqual({
      kind: 'state',
      state: 'INSUFFICIENT_DATA',
      alarm: 'latency-p99',
    });
    expect(parseAlarmRule(`ALARM("${ARN}x")`)).toEqual({ kind: 'state', state: 'ALARM', alarm: `${ARN}x` });
  });

  it('bind NOT tighter than AND, and AND tighter than OR; parentheses group', () => {
    const rule = 'ALARM(a) OR ALARM(b) AND NOT OK(c)';
    expect(parseAlarmRule(rule)).toEqual({
      kind: 'or',
      operands: [
        { kind: 'state', state: 'ALARM', alarm: 'a' },
        {
          kind: 'and',
          operands: [
            { kind: 'state', state: 'ALARM', alarm: 'b' },
            { kind: 'not', operand: { kind: 'state', state: 'OK', alarm: 'c' } },
          ],
        },
      ],
    });
    const grouped = '(ALARM(a) OR ALARM(b)) AND NOT OK(c)';
    expect(evaluate(rule, { a: 'ALARM', b: 'OK', c: 'OK' }).value).toBe(true);
    expect(evaluate(grouped, { a: 'ALARM', b: 'OK', c: 'OK' }).value).toBe(false);
    expect(evaluate(grouped, { a: 'ALARM', b: 'OK', c: 'ALARM' }).value).toBe(true);
  });

  it('evaluate TRUE, FALSE and double negation', () => {
    expect(evaluate('TRUE', {}).value).toBe(true);
    expect(evaluate('FALSE OR NOT NOT TRUE', {}).value).toBe(true);
    expect(evaluate('TRUE AND FALSE', {}).value).toBe(false);
  });

  it('name the alarms that made the rule true, never those under NOT or in false branches', () => {
    const result = evaluate('(ALARM(a) AND ALARM(b)) OR ALARM(c) OR (ALARM(d) AND ALARM(e)) OR NOT OK(f)', {
      a: 'ALARM',
      b: 'ALARM',
      c: 'OK',
      d: 'ALARM',
      e: 'OK',
      f: 'ALARM',
    });
    expect(result).toEqual({ value: true, triggering: ['a', 'b'] });
    expect(evaluate('ALARM(a) AND ALARM(b)', { a: 'ALARM', b: 'OK' })).toEqual({
      value: false,
      triggering: [],
    });
  });

  it('treat a missing alarm as in no state', () => {
    expect(evaluate('ALARM(gone) OR OK(gone) OR INSUFFICIENT_DATA(gone)', {}).value).toBe(false);
    expect(evaluate('NOT OK(gone)', {}).value).toBe(true);
  });

  it('list the alarms a rule refers to, once each', () => {
    expect(alarmsOf(parseAlarmRule('ALARM(a) OR (OK(a) AND NOT ALARM("b"))'))).toEqual(['a', 'b']);
  });

  it.each([
    ['', /empty rule/],
    ['ALARM(a) AND', /expected an expression at end/],
    ['ALARM(a', /expected '\)'/],
    ['alarm(a)', /unknown function alarm/],
    ['ALARM(a) ALARM(b)', /unexpected token at position 9/],
    ['ALARM("a)', /unterminated string/],
    ['ALARM("")', /empty alarm name/],
    ['(ALARM(a)', /expected '\)' at end/],
  ])('reject %j', (rule, message) => {
    expect(() => parseAlarmRule(rule)).toThrow(AlarmRuleError);
    expect(() => parseAlarmRule(rule)).toThrow(message);
  });
});

const metricAlarm: MetricAlarm = {
  AlarmName: 'orders-errors',
  AlarmArn: `${ARN}orders-errors`,
  AlarmDescription: 'Errors of the order command function',
  AlarmConfigurationUpdatedTimestamp: new Date('2026-01-02T03:04:05.678Z'),
  ActionsEnabled: true,
  AlarmActions: ['arn:aws:sns:eu-west-1:123456789012:alerts'],
  OKActions: ['arn:aws:sns:eu-west-1:123456789012:ok'],
  InsufficientDataActions: [],
  MetricName: 'Errors',
  Namespace: 'AWS/Lambda',
  Statistic: 'SampleCount',
  Dimensions: [{ Name: 'FunctionName', Value: 'orders' }],
  Period: 60,
  EvaluationPeriods: 3,
  DatapointsToAlarm: 2,
  Threshold: 1,
  ComparisonOperator: 'GreaterThanOrEqualToThreshold',
  TreatMissingData: 'notBreaching',
};

describe('alarm notifications', () => {
  it("are CloudWatch's SNS message for a metric alarm", () => {
    const message = alarmNotification(
      { type: 'metric', alarm: metricAlarm },
      {
        oldState: 'OK',
        newState: 'ALARM',
        reason: 'Threshold Crossed',
        time: new Date('2026-01-02T04:00:00Z'),
      },
      { region: 'eu-west-1', accountId: '123456789012' },
    );
    expect(message).toEqual({
      AlarmName: 'orders-errors',
      AlarmDescription: 'Errors of the order command function',
      AWSAccountId: '123456789012',
      AlarmConfigurationUpdatedTimestamp: '2026-01-02T03:04:05.678+0000',
      NewStateValue: 'ALARM',
      NewStateReason: 'Threshold Crossed',
      StateChangeTime: '2026-01-02T04:00:00.000+0000',
      Region: 'EU (Ireland)',
      AlarmArn: `${ARN}orders-errors`,
      OldStateValue: 'OK',
      OKActions: ['arn:aws:sns:eu-west-1:123456789012:ok'],
      AlarmActions: ['arn:aws:sns:eu-west-1:123456789012:alerts'],
      InsufficientDataActions: [],
      Trigger: {
        MetricName: 'Errors',
        Namespace: 'AWS/Lambda',
        StatisticType: 'Statistic',
        Statistic: 'SAMPLE_COUNT',
        Unit: null,
        Dimensions: [{ value: 'orders', name: 'FunctionName' }],
        Period: 60,
        EvaluationPeriods: 3,
        DatapointsToAlarm: 2,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        TreatMissingData: 'notBreaching',
        EvaluateLowSampleCountPercentile: '',
      },
    });
  });

  it('describe a percentile as an extended statistic', () => {
    const trigger = alarmTrigger({ ...metricAlarm, Statistic: undefined, ExtendedStatistic: 'p99' });
    expect(trigger).toMatchObject({ StatisticType: 'ExtendedStatistic', ExtendedStatistic: 'p99' });
    expect(trigger).not.toHaveProperty('Statistic');
  });

  it('describe a metric-math alarm by its queries', () => {
    const trigger = alarmTrigger({
      ...metricAlarm,
      MetricName: undefined,
      Namespace: undefined,
      Statistic: undefined,
      Period: undefined,
      Dimensions: undefined,
      Metrics: [
        { Id: 'rate', Expression: 'errors / invocations', Label: 'Error rate', ReturnData: true },
        {
          Id: 'errors',
          ReturnData: false,
          MetricStat: {
            Metric: {
              Namespace: 'AWS/Lambda',
              MetricName: 'Errors',
              Dimensions: [{ Name: 'F', Value: 'f' }],
            },
            Period: 60,
            Stat: 'Sum',
          },
        },
      ],
    });
    expect(trigger).not.toHaveProperty('MetricName');
    expect(trigger.Metrics).toEqual([
      { Id: 'rate', Expression: 'errors / invocations', Label: 'Error rate', ReturnData: true },
      {
        Id: 'errors',
        MetricStat: {
          Metric: { Dimensions: [{ value: 'f', name: 'F' }], MetricName: 'Errors', Namespace: 'AWS/Lambda' },
          Period: 60,
          Stat: 'Sum',
        },
        ReturnData: false,
      },
    ]);
  });

  it('carry the rule and the triggering children of a composite alarm, and no trigger', () => {
    const composite: CompositeAlarm = {
      AlarmName: 'platform-health',
      AlarmArn: `${ARN}platform-health`,
      AlarmRule: 'ALARM("orders-errors")',
      AlarmActions: ['arn:aws:sns:eu-west-1:123456789012:alerts'],
    };
    const message = alarmNotification(
      {
        type: 'composite',
        alarm: composite,
        triggeringChildren: [
          { arn: `${ARN}orders-errors`, state: 'ALARM', timestamp: new Date('2026-01-02T04:00:00Z') },
        ],
      },
      { oldState: 'OK', newState: 'ALARM', reason: 'r', time: new Date('2026-01-02T04:00:01Z') },
      { region: 'xx-test-9', accountId: '123456789012' },
    );
    expect(message).toMatchObject({
      AlarmName: 'platform-health',
      AlarmDescription: null,
      Region: 'xx-test-9',
      NewStateValue: 'ALARM',
      AlarmRule: 'ALARM("orders-errors")',
      TriggeringChildren: [
        { Arn: `${ARN}orders-errors`, State: { Value: 'ALARM', Timestamp: '2026-01-02T04:00:00.000+0000' } },
      ],
    });
    expect(message).not.toHaveProperty('Trigger');
  });

  it('are titled with the state, the name and the region, within 100 characters', () => {
    expect(alarmSubject('orders-errors', 'ALARM', 'us-east-1')).toBe(
      'ALARM: "orders-errors" in US East (N. Virginia)',
    );
    expect(alarmSubject('x', 'INSUFFICIENT_DATA', 'eu-west-1')).toBe(
      'INSUFFICIENT_DATA: "x" in EU (Ireland)',
    );
    const long = alarmSubject('n'.repeat(200), 'OK', 'us-east-1');
    expect(long.length).toBeLessThanOrEqual(100);
    expect(long).toMatch(/^OK: "n+\.\.\." in US East \(N\. Virginia\)$/);
  });

  it('go to the actions of the new state', () => {
    expect(actionsFor(metricAlarm, 'ALARM')).toEqual(['arn:aws:sns:eu-west-1:123456789012:alerts']);
    expect(actionsFor(metricAlarm, 'OK')).toEqual(['arn:aws:sns:eu-west-1:123456789012:ok']);
    expect(actionsFor(metricAlarm, 'INSUFFICIENT_DATA')).toEqual([]);
  });

  it("read a composite's triggering children from its state reason data", () => {
    const data = JSON.stringify({
      triggeringAlarms: [
        { arn: `${ARN}a`, state: { value: 'ALARM', timestamp: '2026-01-02T04:00:00.000Z' } },
      ],
    });
    expect(triggeringChildrenOf(data)).toEqual([
      { arn: `${ARN}a`, state: 'ALARM', timestamp: new Date('2026-01-02T04:00:00.000Z') },
    ]);
    expect(triggeringChildrenOf('not json')).toEqual([]);
    expect(triggeringChildrenOf(undefined)).toEqual([]);
  });
});

describe('DescribeAlarms as functions see it', () => {
  const standIn = {
    AlarmName: 'health',
    AlarmArn: `${ARN}health`,
    StateValue: 'ALARM',
    StateUpdatedTimestamp: 1_700_000_000,
    MetricName: 'AlarmRule',
    Namespace: 'LocalCloud/CompositeAlarm',
    Threshold: 1,
  };
  const child = { AlarmName: 'errors', AlarmArn: `${ARN}errors`, StateValue: 'ALARM', MetricName: 'Errors' };
  const other = { AlarmName: 'other', AlarmArn: `${ARN}other`, StateValue: 'OK', MetricName: 'Other' };
  const rules = new Map([['health', 'ALARM("errors")']]);
  const refs = (rule: string) => alarmsOf(parseAlarmRule(rule));
  const response = () => ({ MetricAlarms: [standIn, child, other], CompositeAlarms: [] });

  it('show stand-ins as composite alarms with their rule, and metric alarms only by default', () => {
    const both = presentDescribeAlarms(
      response(),
      { AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] },
      rules,
      refs,
    );
    expect(both.MetricAlarms?.map((a) => a.AlarmName)).toEqual(['errors', 'other']);
    expect(both.CompositeAlarms).toEqual([
      {
        AlarmName: 'health',
        AlarmArn: `${ARN}health`,
        StateValue: 'ALARM',
        StateUpdatedTimestamp: 1_700_000_000,
        StateTransitionedTimestamp: 1_700_000_000,
        AlarmRule: 'ALARM("errors")',
      },
    ]);
    const byDefault = presentDescribeAlarms(response(), {}, rules, refs);
    expect(byDefault.MetricAlarms?.map((a) => a.AlarmName)).toEqual(['errors', 'other']);
    expect(byDefault.CompositeAlarms).toEqual([]);
  });

  it('apply ChildrenOfAlarmName and ParentsOfAlarmName from the rules', () => {
    const types = { AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] };
    const children = presentDescribeAlarms(
      response(),
      { ...types, ChildrenOfAlarmName: 'health' },
      rules,
      refs,
    );
    expect(children.MetricAlarms?.map((a) => a.AlarmName)).toEqual(['errors']);
    expect(children.CompositeAlarms).toEqual([]);
    const parents = presentDescribeAlarms(
      response(),
      { ...types, ParentsOfAlarmName: 'errors' },
      rules,
      refs,
    );
    expect(parents.MetricAlarms).toEqual([]);
    expect(parents.CompositeAlarms?.map((a) => a.AlarmName)).toEqual(['health']);
  });
});

/** An in-memory CloudWatch (DescribeAlarms, SetAlarmState) and SNS (Publish) for the emulator. */
function fakeClouds(alarms: MetricAlarm[]) {
  const published: PublishCommand['input'][] = [];
  const stateSets: SetAlarmStateCommand['input'][] = [];
  const byName = new Map(alarms.map((a) => [a.AlarmName ?? '', a]));
  const clients = {
    cloudwatch: {
      send: async (command: unknown) => {
        if (command instanceof DescribeAlarmsCommand) {
          const names = command.input.AlarmNames ?? [];
          return { MetricAlarms: names.flatMap((n) => (byName.has(n) ? [{ ...byName.get(n) }] : [])) };
        }
        if (command instanceof SetAlarmStateCommand) {
          stateSets.push(command.input);
          const alarm = byName.get(command.input.AlarmName ?? '');
          if (alarm) {
            alarm.StateValue = command.input.StateValue;
            alarm.StateReason = command.input.StateReason;
            alarm.StateReasonData = command.input.StateReasonData;
            alarm.StateUpdatedTimestamp = new Date();
          }
          return {};
        }
        throw new Error('unexpected command');
      },
    },
    sns: {
      send: async (command: unknown) => {
        if (command instanceof PublishCommand) published.push(command.input);
        return {};
      },
    },
  } as unknown as AlarmEmulatorClients;
  return { clients, published, stateSets, byName };
}

describe('the alarm emulator', () => {
  const alerts = 'arn:aws:sns:eu-west-1:123456789012:alerts';
  const setup = () => {
    const child: MetricAlarm = {
      ...metricAlarm,
      StateValue: 'OK',
      AlarmActions: [alerts],
      OKActions: [alerts],
    };
    const standIn: MetricAlarm = {
      AlarmName: 'health',
      AlarmArn: `${ARN}health`,
      StateValue: 'OK',
      ActionsEnabled: true,
      AlarmActions: [alerts, 'arn:aws:lambda:eu-west-1:123456789012:function:pager'],
      OKActions: [],
      MetricName: 'AlarmRule',
      Namespace: 'LocalCloud/CompositeAlarm',
    };
    const fake = fakeClouds([child, standIn]);
    const logs: string[] = [];
    const emulator = new AlarmEmulator(
      {
        region: 'eu-west-1',
        accountId: '123456789012',
        alarms: () => [
          { name: 'orders-errors' },
          { name: 'health', rule: 'ALARM("orders-errors") OR FALSE' },
        ],
      },
      fake.clients,
      (line) => logs.push(line),
    );
    return { ...fake, emulator, logs };
  };

  it('notifies nobody at the first sight of an alarm', async () => {
    const { emulator, published, stateSets } = setup();
    await emulator.poll();
    expect(published).toEqual([]);
    expect(stateSets).toEqual([]);
  });

  it('sets the composite from its rule and sends the SNS actions of each new state', async () => {
    const { emulator, published, stateSets, byName, logs } = setup();
    await emulator.poll();
    const child = byName.get('orders-errors');
    if (!child) throw new Error('no child');
    child.StateValue = 'ALARM';
    await emulator.poll();

    expect(stateSets).toEqual([
      expect.objectContaining({
        AlarmName: 'health',
        StateValue: 'ALARM',
        StateReason: expect.stringContaining(`${ARN}orders-errors transitioned to ALARM`),
      }),
    ]);
    expect(published.map((p) => [p.TopicArn, p.Subject])).toEqual([
      [alerts, 'ALARM: "orders-errors" in EU (Ireland)'],
      [alerts, 'ALARM: "health" in EU (Ireland)'],
    ]);
    const composite = JSON.parse(published[1]?.Message ?? '{}') as Record<string, unknown>;
    expect(composite).toMatchObject({
      AlarmName: 'health',
      NewStateValue: 'ALARM',
      OldStateValue: 'OK',
      AlarmRule: 'ALARM("orders-errors") OR FALSE',
      TriggeringChildren: [{ Arn: `${ARN}orders-errors`, State: { Value: 'ALARM' } }],
    });
    expect(logs).toContain(
      'alarms: action arn:aws:lambda:eu-west-1:123456789012:function:pager of health is not emulated (SNS only)',
    );

    child.StateValue = 'OK';
    await emulator.poll();
    expect(stateSets.at(-1)).toMatchObject({ AlarmName: 'health', StateValue: 'OK' });
    // The composite has no OKActions; the child's go to the alerts topic.
    expect(published.slice(2).map((p) => p.Subject)).toEqual(['OK: "orders-errors" in EU (Ireland)']);
  });

  it('sends nothing for an alarm whose actions are disabled', async () => {
    const { emulator, published, byName } = setup();
    await emulator.poll();
    const child = byName.get('orders-errors');
    if (!child) throw new Error('no child');
    child.ActionsEnabled = false;
    child.StateValue = 'INSUFFICIENT_DATA';
    await emulator.poll();
    expect(published).toEqual([]);
  });

  it('reads the children a rule names that it did not create, and acts only for its own alarms', async () => {
    const fake = fakeClouds([
      { AlarmName: 'theirs', AlarmArn: `${ARN}theirs`, StateValue: 'OK', AlarmActions: [alerts] },
      { AlarmName: 'ours', AlarmArn: `${ARN}ours`, StateValue: 'OK', AlarmActions: [alerts] },
    ]);
    const emulator = new AlarmEmulator(
      {
        region: 'eu-west-1',
        accountId: '123456789012',
        alarms: () => [{ name: 'ours', rule: `ALARM("${ARN}theirs")` }],
      },
      fake.clients,
      () => undefined,
    );
    await emulator.poll();
    const theirs = fake.byName.get('theirs');
    if (!theirs) throw new Error('no alarm');
    theirs.StateValue = 'ALARM';
    await emulator.poll();
    expect(fake.stateSets.map((s) => [s.AlarmName, s.StateValue])).toEqual([['ours', 'ALARM']]);
    expect(fake.published.map((p) => p.Subject)).toEqual(['ALARM: "ours" in EU (Ireland)']);
    expect(emulator.published).toHaveLength(1);
  });

  it('logs once and leaves alone a composite whose rule does not parse', async () => {
    const fake = fakeClouds([{ AlarmName: 'bad', StateValue: 'OK' }]);
    const logs: string[] = [];
    const emulator = new AlarmEmulator(
      { region: 'eu-west-1', accountId: '1', alarms: () => [{ name: 'bad', rule: 'ALARM(' }] },
      fake.clients,
      (line) => logs.push(line),
    );
    await emulator.poll();
    await emulator.poll();
    expect(fake.stateSets).toEqual([]);
    expect(logs.filter((l) => l.includes('bad is not evaluated'))).toHaveLength(1);
  });
});

import { describe, expect, it } from 'vitest';
import {
  ALARM_NAME_MAX_LENGTH,
  type Alert,
  alarmAlertSeverity,
  alarmName,
  CHAT_TEXT_MAX_LENGTH,
  CloudWatchAlarmMessageSchema,
  checkSlug,
  EMAIL_SUBJECT_MAX_LENGTH,
  escapeChat,
  formatChat,
  formatEmail,
  formatLog,
  HealthStatusChangeSchema,
  healthAlertSeverity,
  healthStatusChangeMessage,
  type ParseAlertResult,
  parseAlarmName,
  parseAlert,
  severityOfAlarmName,
  splitAlarmName,
  truncate,
} from '../../../lambdas/observability/domain/alerts.js';
import { aggregateHealth, statusChange } from '../../../lambdas/observability/domain/health.js';

const ARN = 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:msg-prod-orders-queue-depth-critical';

/** A metric alarm's notification, as CloudWatch publishes it (timestamps with `+0000`). */
function metricAlarmMessage(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    AlarmName: 'msg-prod-orders-queue-depth-critical',
    AlarmDescription: 'Visible messages in the orders queue (critical: 1000)',
    AWSAccountId: '123456789012',
    AlarmConfigurationUpdatedTimestamp: '2024-04-30T08:00:00.000+0000',
    NewStateValue: 'ALARM',
    NewStateReason:
      'Threshold Crossed: 2 out of the last 3 datapoints [1500.0 (01/05/24 11:58:00), 1200.0 (01/05/24 11:57:00)] was greater than or equal to the threshold (1000.0) (minimum 2 datapoints for OK -> ALARM transition).',
    StateChangeTime: '2024-05-01T12:00:00.123+0000',
    Region: 'EU (Ireland)',
    AlarmArn: ARN,
    OldStateValue: 'OK',
    OKActions: ['arn:aws:sns:eu-west-1:123456789012:alerts'],
    AlarmActions: ['arn:aws:sns:eu-west-1:123456789012:alerts'],
    InsufficientDataActions: [],
    Trigger: {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      StatisticType: 'Statistic',
      Statistic: 'MAXIMUM',
      Unit: null,
      Dimensions: [{ value: 'orders', name: 'QueueName' }],
      Period: 60,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1000.0,
      TreatMissingData: 'notBreaching',
      EvaluateLowSampleCountPercentile: '',
    },
    ...overrides,
  };
}

/** A composite alarm's notification: no Trigger, an AlarmRule and TriggeringChildren. */
function compositeAlarmMessage(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    AlarmName: 'msg-prod-any-critical',
    AlarmDescription: 'In ALARM while any critical alarm of msg-prod is',
    AWSAccountId: '123456789012',
    NewStateValue: 'ALARM',
    NewStateReason:
      'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:msg-prod-orders-queue-depth-critical transitioned to ALARM at Wednesday 01 May, 2024 12:00:00 UTC',
    StateChangeTime: '2024-05-01T12:00:01.000+0000',
    Region: 'EU (Ireland)',
    AlarmArn: 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:msg-prod-any-critical',
    OldStateValue: 'OK',
    AlarmRule: 'ALARM("msg-prod-orders-queue-depth-critical") OR ALARM("msg-prod-api-5xx-critical")',
    TriggeringChildren: [{ Arn: ARN, State: { Value: 'ALARM', Timestamp: '2024-05-01T12:00:00.123+0000' } }],
    ...overrides,
  };
}

function healthMessage(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kind: 'HealthStatusChanged',
    from: 'healthy',
    to: 'unhealthy',
    summary: 'unhealthy: 2 checks failing (orders queue depth, redis ping)',
    checks: [
      {
        name: 'orders queue depth',
        status: 'unhealthy',
        reason: 'over 1000 (alarm msg-prod-orders-queue-depth-critical)',
      },
      { name: 'redis ping', status: 'unhealthy', reason: 'ECONNREFUSED' },
      { name: 'api 5xx', status: 'healthy', reason: 'OK' },
    ],
    at: '2024-05-01T12:01:00.000Z',
    stage: 'prod',
    ...overrides,
  };
}

/** The alert of a message that must parse. */
function alertOf(message: unknown, subject?: string): Alert {
  const result = parseAlert(JSON.stringify(message), subject);
  if (!result.ok) throw new Error(`expected an alert, got: ${result.error}`);
  return result.alert;
}

/** The error of a message that must not parse. */
function errorOf(message: string): string {
  const result: ParseAlertResult = parseAlert(message);
  if (result.ok) throw new Error(`expected an error, got alert ${result.alert.id}`);
  return result.error;
}

function alert(overrides: Partial<Alert> = {}): Alert {
  return {
    id: 'alarm:a-critical:ALARM:2024-05-01T12:00:00.000+0000',
    source: 'alarm',
    severity: 'critical',
    title: 'a-critical is in ALARM',
    summary: 'Threshold Crossed',
    at: '2024-05-01T12:00:00.000Z',
    details: { alarm: 'a-critical' },
    ...overrides,
  };
}

describe('alarm naming convention', () => {
  it('GIVEN a prefix, a check in words and a severity THEN <prefix>-<check slug>-<severity>', () => {
    expect(alarmName('msg-prod', 'orders queue depth', 'critical')).toBe(
      'msg-prod-orders-queue-depth-critical',
    );
    expect(alarmName('msg-prod', 'orders queue depth', 'warning')).toBe(
      'msg-prod-orders-queue-depth-warning',
    );
  });

  it.each([
    ['Orders Queue Depth', 'orders-queue-depth'],
    ['  api  p99 latency (ms) ', 'api-p99-latency-ms'],
    ['redis/evictions', 'redis-evictions'],
    ['café éclair', 'cafe-eclair'],
    ['tab\there\nnewline', 'tab-here-newline'],
    ['--dashes--', 'dashes'],
  ])('slugs %j as %j', (check, slug) => {
    expect(checkSlug(check)).toBe(slug);
  });

  it('GIVEN a check with control characters THEN the name has none', () => {
    const name = alarmName('msg-dev', 'bad\u0000check\u0007\u007f\u009b', 'warning');
    expect(name).toBe('msg-dev-bad-check-warning');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence
    expect(name).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });

  it('GIVEN a check too long for 255 characters THEN a name of at most 255 characters keeping the severity', () => {
    const check = 'x'.repeat(400);
    const name = alarmName('msg-prod', check, 'critical');
    expect(name.length).toBeLessThanOrEqual(ALARM_NAME_MAX_LENGTH);
    expect(name.startsWith('msg-prod-xxx')).toBe(true);
    expect(severityOfAlarmName(name)).toBe('critical');
    expect(name).toMatch(/-[0-9a-f]{8}-critical$/);
  });

  it('GIVEN a name exactly at the limit THEN it is kept whole; one character more THEN it is shortened', () => {
    const prefix = 'p';
    const fits = 'y'.repeat(ALARM_NAME_MAX_LENGTH - prefix.length - 1 - '-critical'.length);
    expect(alarmName(prefix, fits, 'critical')).toBe(`p-${fits}-critical`);
    expect(alarmName(prefix, fits, 'critical')).toHaveLength(ALARM_NAME_MAX_LENGTH);
    const over = alarmName(prefix, `${fits}y`, 'critical');
    expect(over.length).toBeLessThanOrEqual(ALARM_NAME_MAX_LENGTH);
    expect(over).not.toBe(`p-${fits}y-critical`);
  });

  it('GIVEN two long checks that differ only at their end THEN two different names (hash tag)', () => {
    const base = 'very long check name '.repeat(15);
    const a = alarmName('msg-prod', `${base}alpha`, 'warning');
    const b = alarmName('msg-prod', `${base}beta`, 'warning');
    expect(a).not.toBe(b);
    expect(a.length).toBeLessThanOrEqual(ALARM_NAME_MAX_LENGTH);
    expect(b.length).toBeLessThanOrEqual(ALARM_NAME_MAX_LENGTH);
    // and deterministic
    expect(alarmName('msg-prod', `${base}alpha`, 'warning')).toBe(a);
  });

  it.each([
    ['', 'q', 'an empty prefix'],
    ['msg\nprod', 'q', 'a prefix with a control character'],
    ['p'.repeat(250), 'orders queue depth', 'a prefix that leaves no room'],
    ['msg-prod', '!!! ???', 'a check without letter or digit'],
  ])('GIVEN %j / %j (%s) THEN it throws a RangeError', (prefix, check) => {
    expect(() => alarmName(prefix, check, 'warning')).toThrow(RangeError);
  });

  it('reads the severity from the name suffix', () => {
    expect(severityOfAlarmName('msg-prod-orders-queue-depth-critical')).toBe('critical');
    expect(severityOfAlarmName('msg-prod-orders-queue-depth-warning')).toBe('warning');
    expect(severityOfAlarmName('msg-prod-orders-queue-depth')).toBeUndefined();
    expect(severityOfAlarmName('something-CRITICAL')).toBeUndefined();
    expect(severityOfAlarmName('-critical')).toBeUndefined();
    expect(severityOfAlarmName('critical')).toBeUndefined();
  });

  it('splits a name into the base its two alarms share and the severity', () => {
    expect(splitAlarmName('msg-prod-api-5xx-warning')).toEqual({
      base: 'msg-prod-api-5xx',
      severity: 'warning',
    });
    expect(splitAlarmName(alarmName('msg-prod', 'api 5xx', 'critical'))?.base).toBe('msg-prod-api-5xx');
    expect(splitAlarmName('no-suffix')).toBeUndefined();
  });

  it('GIVEN a conventional name THEN parseAlarmName gives back the check in words and the severity', () => {
    const name = alarmName('msg-prod', 'Orders queue depth', 'critical');
    expect(parseAlarmName('msg-prod', name)).toEqual({ check: 'orders queue depth', severity: 'critical' });
  });

  it('GIVEN a name of another prefix or off the convention THEN parseAlarmName gives undefined', () => {
    expect(parseAlarmName('msg-dev', 'msg-prod-orders-queue-depth-critical')).toBeUndefined();
    expect(parseAlarmName('msg-prod', 'msg-prod-orders-queue-depth')).toBeUndefined();
    expect(parseAlarmName('msg-prod', 'msg-prod--critical')).toBeUndefined();
    expect(parseAlarmName('msg-prod', 'msg-production-x-critical')).toBeUndefined();
  });
});

describe('CloudWatchAlarmMessageSchema', () => {
  it('GIVEN a metric alarm notification THEN it parses, unknown members kept', () => {
    const parsed = CloudWatchAlarmMessageSchema.parse(metricAlarmMessage());
    expect(parsed.Trigger?.MetricName).toBe('ApproximateNumberOfMessagesVisible');
    expect(parsed.Trigger?.Dimensions).toEqual([{ value: 'orders', name: 'QueueName' }]);
    expect(parsed.OKActions).toEqual(['arn:aws:sns:eu-west-1:123456789012:alerts']);
  });

  it('GIVEN a composite alarm notification (no Trigger) THEN it parses', () => {
    const parsed = CloudWatchAlarmMessageSchema.parse(compositeAlarmMessage());
    expect(parsed.Trigger).toBeUndefined();
    expect(parsed.AlarmRule).toContain('OR');
  });

  it('GIVEN an older notification: null description, no AlarmArn, Z timestamp THEN it parses', () => {
    const message = metricAlarmMessage({
      AlarmDescription: null,
      StateChangeTime: '2012-03-23T00:01:43.726Z',
    });
    delete message.AlarmArn;
    expect(CloudWatchAlarmMessageSchema.safeParse(message).success).toBe(true);
  });

  it('GIVEN a metric math alarm Trigger (Metrics, no MetricName) THEN it parses', () => {
    const message = metricAlarmMessage({
      Trigger: {
        Metrics: [{ Id: 'e1', Expression: 'm1 + m2', ReturnData: true }],
        Period: 60,
        EvaluationPeriods: 3,
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 5,
      },
    });
    expect(CloudWatchAlarmMessageSchema.safeParse(message).success).toBe(true);
  });

  it.each([
    ['2024-05-01T12:00:00.123+0000', true],
    ['2024-05-01T12:00:00+0000', true],
    ['2024-05-01T12:00:00.123+02:00', true],
    ['2024-05-01T12:00:00.123Z', true],
    ['2024-05-01 12:00:00', false],
    ['2024-13-45T99:00:00.000+0000', false],
    ['yesterday', false],
  ])('GIVEN StateChangeTime %j THEN valid is %s', (time, valid) => {
    expect(
      CloudWatchAlarmMessageSchema.safeParse(metricAlarmMessage({ StateChangeTime: time })).success,
    ).toBe(valid);
  });
});

describe('parseAlert: CloudWatch alarm notifications', () => {
  it('GIVEN a critical alarm going to ALARM THEN a critical alert with the dedupe id and the details', () => {
    // WHEN
    const result = alertOf(
      metricAlarmMessage(),
      'ALARM: "msg-prod-orders-queue-depth-critical" in EU (Ireland)',
    );
    // THEN
    expect(result).toEqual({
      id: 'alarm:msg-prod-orders-queue-depth-critical:ALARM:2024-05-01T12:00:00.123+0000',
      source: 'alarm',
      severity: 'critical',
      title: 'msg-prod-orders-queue-depth-critical is in ALARM',
      summary: expect.stringContaining('Threshold Crossed: 2 out of the last 3 datapoints'),
      at: '2024-05-01T12:00:00.123Z',
      details: {
        alarm: 'msg-prod-orders-queue-depth-critical',
        description: 'Visible messages in the orders queue (critical: 1000)',
        state: 'OK -> ALARM',
        metric: 'AWS/SQS/ApproximateNumberOfMessagesVisible',
        threshold: 'GreaterThanOrEqualToThreshold 1000',
        account: '123456789012',
        region: 'EU (Ireland)',
        arn: ARN,
        subject: 'ALARM: "msg-prod-orders-queue-depth-critical" in EU (Ireland)',
      },
    });
  });

  it('GIVEN a warning alarm going to ALARM THEN a warning alert', () => {
    const result = alertOf(metricAlarmMessage({ AlarmName: 'msg-prod-orders-queue-depth-warning' }));
    expect(result.severity).toBe('warning');
  });

  it('GIVEN an alarm going back to OK THEN an info (resolved) alert, whatever its severity', () => {
    const result = alertOf(metricAlarmMessage({ NewStateValue: 'OK', OldStateValue: 'ALARM' }));
    expect(result).toMatchObject({
      severity: 'info',
      title: 'msg-prod-orders-queue-depth-critical is back to OK',
      id: 'alarm:msg-prod-orders-queue-depth-critical:OK:2024-05-01T12:00:00.123+0000',
    });
    expect(result.details.state).toBe('ALARM -> OK');
  });

  it('GIVEN an alarm going to INSUFFICIENT_DATA THEN info (missing data is not breaching)', () => {
    const result = alertOf(metricAlarmMessage({ NewStateValue: 'INSUFFICIENT_DATA' }));
    expect(result).toMatchObject({
      severity: 'info',
      title: expect.stringContaining('has insufficient data'),
    });
  });

  it('GIVEN an alarm off the naming convention in ALARM THEN critical (rather loud than missed)', () => {
    expect(alertOf(metricAlarmMessage({ AlarmName: 'someone-elses-alarm' })).severity).toBe('critical');
    expect(alarmAlertSeverity({ AlarmName: 'someone-elses-alarm', NewStateValue: 'OK' })).toBe('info');
  });

  it('GIVEN a composite alarm THEN the rule and the triggering children are in the details, no metric', () => {
    const result = alertOf(compositeAlarmMessage());
    expect(result.severity).toBe('critical');
    expect(result.details.rule).toBe(
      'ALARM("msg-prod-orders-queue-depth-critical") OR ALARM("msg-prod-api-5xx-critical")',
    );
    expect(result.details['triggered by']).toBe(`${ARN} (ALARM)`);
    expect(result.details).not.toHaveProperty('metric');
    expect(result.details).not.toHaveProperty('threshold');
  });

  it('GIVEN a null description, no ARN and no subject THEN those details are left out (no empty values)', () => {
    const message = metricAlarmMessage({ AlarmDescription: null });
    delete message.AlarmArn;
    const result = alertOf(message);
    expect(result.details).not.toHaveProperty('description');
    expect(result.details).not.toHaveProperty('arn');
    expect(result.details).not.toHaveProperty('subject');
    expect(Object.values(result.details).every((v) => v.length > 0)).toBe(true);
  });

  it('GIVEN the same notification delivered twice (SNS is at-least-once) THEN equal ids and equal alerts', () => {
    const body = JSON.stringify(metricAlarmMessage());
    const first = parseAlert(body, 'ALARM: "x" in EU (Ireland)');
    const second = parseAlert(body, 'ALARM: "x" in EU (Ireland)');
    expect(first.ok && second.ok).toBe(true);
    expect(first).toEqual(second);
  });

  it('GIVEN the same change re-serialized (other member order, other subject) THEN the same id', () => {
    const message = metricAlarmMessage();
    const reordered = Object.fromEntries(Object.entries(message).reverse());
    expect(alertOf(reordered, 'another subject').id).toBe(alertOf(message).id);
  });

  it('GIVEN two different state changes of one alarm THEN different ids', () => {
    const toAlarm = alertOf(metricAlarmMessage());
    const toOk = alertOf(metricAlarmMessage({ NewStateValue: 'OK', OldStateValue: 'ALARM' }));
    const laterAlarm = alertOf(metricAlarmMessage({ StateChangeTime: '2024-05-01T13:00:00.000+0000' }));
    expect(new Set([toAlarm.id, toOk.id, laterAlarm.id]).size).toBe(3);
  });
});

describe('parseAlert: HealthStatusChanged', () => {
  it('GIVEN a change to unhealthy THEN a critical health alert listing the failing checks', () => {
    const result = alertOf(healthMessage());
    expect(result).toEqual({
      id: 'health:healthy->unhealthy:2024-05-01T12:01:00.000Z',
      source: 'health',
      severity: 'critical',
      title: 'Platform prod is unhealthy (was healthy)',
      summary: 'unhealthy: 2 checks failing (orders queue depth, redis ping)',
      at: '2024-05-01T12:01:00.000Z',
      details: {
        stage: 'prod',
        status: 'healthy -> unhealthy',
        'check: orders queue depth': 'unhealthy: over 1000 (alarm msg-prod-orders-queue-depth-critical)',
        'check: redis ping': 'unhealthy: ECONNREFUSED',
      },
    });
  });

  it.each([
    ['healthy', 'unhealthy', 'critical'],
    ['degraded', 'unhealthy', 'critical'],
    ['healthy', 'degraded', 'warning'],
    ['unhealthy', 'degraded', 'warning'],
    ['unhealthy', 'healthy', 'info'],
    ['degraded', 'healthy', 'info'],
  ] as const)('GIVEN a change from %s to %s THEN severity %s', (from, to, severity) => {
    expect(alertOf(healthMessage({ from, to })).severity).toBe(severity);
    expect(healthAlertSeverity(to)).toBe(severity);
  });

  it('GIVEN an offset timestamp THEN `at` is normalized to UTC but the id keeps the message value', () => {
    const result = alertOf(healthMessage({ at: '2024-05-01T14:01:00.000+02:00' }));
    expect(result.at).toBe('2024-05-01T12:01:00.000Z');
    expect(result.id).toBe('health:healthy->unhealthy:2024-05-01T14:01:00.000+02:00');
  });

  it('GIVEN the same change delivered twice THEN the same id; another change THEN another id', () => {
    const body = JSON.stringify(healthMessage());
    expect(alertOf(JSON.parse(body)).id).toBe(alertOf(JSON.parse(body)).id);
    expect(alertOf(healthMessage({ at: '2024-05-01T12:02:00.000Z' })).id).not.toBe(
      alertOf(healthMessage()).id,
    );
  });

  it('round-trips the message the scheduled health check builds from its report', () => {
    // GIVEN a report that went from healthy to degraded
    const report = aggregateHealth(
      [
        { name: 'msg-prod-q-warning', check: 'q', severity: 'warning', state: 'ALARM', reason: 'deep' },
        { name: 'msg-prod-q-critical', check: 'q', severity: 'critical', state: 'OK' },
      ],
      [{ name: 'redis ping', ok: true, latencyMs: 2, critical: true }],
      new Date('2024-05-01T12:05:00.000Z'),
    );
    const change = statusChange('healthy', report.status);
    if (!change) throw new Error('expected a change');
    // WHEN it is published and parsed back
    const message = healthStatusChangeMessage(change, report, 'prod');
    expect(HealthStatusChangeSchema.parse(message)).toEqual(message);
    const result = alertOf(message);
    // THEN
    expect(result).toMatchObject({
      id: 'health:healthy->degraded:2024-05-01T12:05:00.000Z',
      severity: 'warning',
      summary: 'degraded: 1 check failing (q)',
      details: { 'check: q': 'degraded: deep (alarm msg-prod-q-warning)' },
    });
    expect(message.checks).toEqual([
      { name: 'q', status: 'degraded', reason: 'deep (alarm msg-prod-q-warning)' },
      { name: 'redis ping', status: 'healthy', reason: 'OK' },
    ]);
  });
});

describe('parseAlert: bad input', () => {
  it.each([
    ['', 'message is not JSON'],
    ['{"AlarmName":', 'message is not JSON'],
    ['not json at all', 'message is not JSON'],
    ['null', 'message is not a JSON object (null)'],
    ['[1,2]', 'message is not a JSON object (object)'],
    ['"ALARM"', 'message is not a JSON object (string)'],
    ['42', 'message is not a JSON object (number)'],
    ['{}', 'unknown message'],
    ['{"Type":"Notification","Message":"{}"}', 'unknown message'],
  ])('GIVEN %j THEN ok:false with %j', (message, error) => {
    expect(errorOf(message)).toContain(error);
  });

  it('GIVEN an alarm message missing members THEN the error names each field path', () => {
    const message = metricAlarmMessage();
    delete message.NewStateValue;
    delete message.StateChangeTime;
    const error = errorOf(JSON.stringify(message));
    expect(error).toMatch(/^invalid CloudWatch alarm message: /);
    expect(error).toContain('NewStateValue:');
    expect(error).toContain('StateChangeTime:');
  });

  it('GIVEN an unknown state value THEN the error names NewStateValue and the options', () => {
    const error = errorOf(JSON.stringify(metricAlarmMessage({ NewStateValue: 'WARNING' })));
    expect(error).toContain('NewStateValue: Invalid option');
  });

  it('GIVEN a bad nested Trigger member THEN the error has the nested path', () => {
    const error = errorOf(JSON.stringify(metricAlarmMessage({ Trigger: { Threshold: 'high' } })));
    expect(error).toContain('Trigger.Threshold:');
  });

  it('GIVEN an empty AlarmName THEN an error on AlarmName', () => {
    expect(errorOf(JSON.stringify(metricAlarmMessage({ AlarmName: '' })))).toContain('AlarmName:');
  });

  it('GIVEN another kind THEN an unknown kind error', () => {
    expect(errorOf(JSON.stringify({ kind: 'SomethingElse' }))).toBe('unknown message kind "SomethingElse"');
  });

  it('GIVEN a health message with bad members THEN the error names each field path', () => {
    const error = errorOf(
      JSON.stringify(
        healthMessage({
          to: 'dead',
          at: 'yesterday',
          checks: [{ name: 'x', status: 'ok', reason: 'r' }],
          stage: '',
        }),
      ),
    );
    expect(error).toMatch(/^invalid HealthStatusChanged message: /);
    for (const path of ['to:', 'at:', 'checks.0.status:', 'stage:']) expect(error).toContain(path);
  });

  it('GIVEN a health "change" to the same status THEN an error on to', () => {
    expect(errorOf(JSON.stringify(healthMessage({ from: 'degraded', to: 'degraded' })))).toContain(
      'to: a change',
    );
  });

  it('never throws, whatever the input', () => {
    const inputs = [
      '{',
      '[]',
      'true',
      '{"AlarmName":null}',
      '{"kind":null}',
      '{"kind":{}}',
      '\u0000',
      '{"__proto__":{}}',
    ];
    for (const input of inputs) expect(() => parseAlert(input)).not.toThrow();
  });
});

describe('truncate', () => {
  it('keeps short text and cuts long text to the limit with an ellipsis', () => {
    expect(truncate('abc', 3)).toBe('abc');
    expect(truncate('abcd', 3)).toBe('ab…');
    expect(truncate('abcd', 3)).toHaveLength(3);
  });

  it('never splits a surrogate pair (an emoji at the cut)', () => {
    const text = `ab${'😀'}cd`; // 😀 is 2 UTF-16 units at 2..3
    const cut = truncate(text, 4); // room for 3 units: would split the emoji
    expect(cut).toBe('ab…');
    // no lone surrogate left
    expect(cut).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
  });
});

describe('formatEmail', () => {
  it('GIVEN a critical alarm alert THEN subject "[CRITICAL] <title>" and a text with summary, details, time and id', () => {
    const email = formatEmail(alertOf(metricAlarmMessage()));
    expect(email.subject).toBe('[CRITICAL] msg-prod-orders-queue-depth-critical is in ALARM');
    expect(email.text).toContain('Threshold Crossed: 2 out of the last 3 datapoints');
    expect(email.text).toContain('state: OK -> ALARM');
    expect(email.text).toContain('metric: AWS/SQS/ApproximateNumberOfMessagesVisible');
    expect(email.text).toContain('at: 2024-05-01T12:00:00.123Z');
    expect(email.text).toContain('alert id: alarm:msg-prod-orders-queue-depth-critical:ALARM:');
  });

  it.each([
    ['warning', '[WARNING] '],
    ['info', '[INFO] '],
  ] as const)('GIVEN severity %s THEN the subject starts with %j', (severity, prefix) => {
    expect(formatEmail(alert({ severity })).subject.startsWith(prefix)).toBe(true);
  });

  it('GIVEN a very long title THEN the subject is at most 200 characters, ending with an ellipsis', () => {
    const email = formatEmail(alert({ title: `${'x'.repeat(300)} is in ALARM` }));
    expect(email.subject).toHaveLength(EMAIL_SUBJECT_MAX_LENGTH);
    expect(email.subject.endsWith('…')).toBe(true);
    expect(email.text).toContain('x'.repeat(300)); // the text keeps it whole
  });

  it('GIVEN a title with CR/LF or other control characters THEN the subject is one clean line (no header injection)', () => {
    const email = formatEmail(alert({ title: 'a\r\nBcc: evil@example.com\u0000\tz' }));
    expect(email.subject).toBe('[CRITICAL] a Bcc: evil@example.com z');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence
    expect(email.subject).not.toMatch(/[\u0000-\u001f\u007f]/);
  });
});

describe('formatChat', () => {
  it('GIVEN an alert THEN a bold "[SEVERITY] title" line, the summary and bulleted details', () => {
    const chat = formatChat(alert({ details: { alarm: 'a-critical', state: 'OK -> ALARM' } }));
    expect(chat.text).toBe(
      [
        '*[CRITICAL] a-critical is in ALARM*',
        'Threshold Crossed',
        '• alarm: a-critical',
        '• state: OK -&gt; ALARM',
        '• at: 2024-05-01T12:00:00.000Z',
      ].join('\n'),
    );
  });

  it('escapes &, < and > everywhere, as Slack requires (no injected links or mentions)', () => {
    const chat = formatChat(
      alert({
        title: 'a <b> & c',
        summary: '<!channel> <https://evil.example|click> & more',
        details: { 'k<1>': 'v&<2>' },
      }),
    );
    expect(chat.text).toContain('*[CRITICAL] a &lt;b&gt; &amp; c*');
    expect(chat.text).toContain('&lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; more');
    expect(chat.text).toContain('• k&lt;1&gt;: v&amp;&lt;2&gt;');
    expect(chat.text).not.toMatch(/[<>]/);
    // every & starts an entity
    expect(chat.text.match(/&(?!amp;|lt;|gt;)/g)).toBeNull();
  });

  it('escapes & before < and > (no double escaping)', () => {
    expect(escapeChat('&lt; <')).toBe('&amp;lt; &lt;');
  });

  it('GIVEN a huge summary THEN at most 4000 characters, ending with an ellipsis', () => {
    const chat = formatChat(alert({ summary: 'y'.repeat(10_000) }));
    expect(chat.text).toHaveLength(CHAT_TEXT_MAX_LENGTH);
    expect(chat.text.endsWith('…')).toBe(true);
  });

  it('GIVEN a huge summary of escaped characters THEN the cut never leaves half an entity', () => {
    for (let pad = 0; pad < 6; pad++) {
      const chat = formatChat(alert({ summary: `${'z'.repeat(pad)}${'<&>'.repeat(3000)}` }));
      expect(chat.text.length).toBeLessThanOrEqual(CHAT_TEXT_MAX_LENGTH);
      expect(chat.text.endsWith('…')).toBe(true);
      expect(chat.text.slice(0, -1)).toMatch(/(&amp;|&lt;|&gt;|z)$/);
      expect(chat.text.match(/&(?!amp;|lt;|gt;)/g)).toBeNull();
    }
  });

  it('GIVEN a health alert THEN the failing checks are listed', () => {
    const chat = formatChat(alertOf(healthMessage()));
    expect(chat.text).toContain('*[CRITICAL] Platform prod is unhealthy (was healthy)*');
    expect(chat.text).toContain('• check: redis ping: unhealthy: ECONNREFUSED');
    expect(chat.text).not.toContain('api 5xx');
  });
});

describe('formatLog', () => {
  it('GIVEN an alert THEN a structured entry with every field, the id as alertId', () => {
    const a = alertOf(metricAlarmMessage());
    expect(formatLog(a)).toEqual({
      message: '[CRITICAL] msg-prod-orders-queue-depth-critical is in ALARM',
      alertId: a.id,
      source: 'alarm',
      severity: 'critical',
      title: a.title,
      summary: a.summary,
      at: a.at,
      details: a.details,
    });
  });

  it('copies the details (the entry can be enriched without touching the alert)', () => {
    const a = alert();
    const entry = formatLog(a);
    (entry.details as Record<string, string>).extra = 'x';
    expect(a.details).not.toHaveProperty('extra');
  });
});

import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { alarmName } from '../../../lambdas/observability/domain/alerts.js';
import type { Severity } from '../../../lambdas/observability/domain/health.js';
import {
  loadStageConfig,
  STAGE_NAMES,
  type StageConfig,
  type StageName,
} from '../../../lib/config/stage-config.js';
import { PlatformFunction } from '../../../lib/constructs/platform-function.js';
import { QueueWithDlq } from '../../../lib/constructs/queue-with-dlq.js';
import { buildPlatform } from '../../../lib/platform.js';
import { nagFindings, newApp } from '../helpers.js';

type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] };
type Thresholds = StageConfig['observability']['thresholds'];

const SEVERITIES: readonly Severity[] = ['warning', 'critical'];

function synth(stage: StageName, override?: (c: StageConfig) => StageConfig) {
  const app = newApp();
  const loaded = loadStageConfig(stage);
  const config = override ? override(loaded) : loaded;
  const platform = buildPlatform(app, config);
  const stack = platform.observability;
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Record<string, Resource>;
  return { app, config, platform, stack, template, resources };
}

describe.each(STAGE_NAMES)('the observability stack of the %s stage', (stage) => {
  const { config, platform, stack, template, resources } = synth(stage);
  const o = config.observability;
  const prefix = platform.observability.alarmNamePrefix;
  const topicId = stack.getLogicalId(platform.observability.alertTopic.topic.node.defaultChild as never);
  const alarms = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');
  const byName = new Map(alarms.map(([id, r]) => [r.Properties.AlarmName as string, { id, ...r }]));
  const monitored = [
    platform.data,
    platform.analytics,
    platform.broker,
    platform.fulfilment,
    platform.services,
  ];

  /** The alarm of a check and severity, which must exist. */
  const alarmOf = (check: string, severity: Severity) => {
    const found = byName.get(alarmName(prefix, check, severity));
    expect(found, `${check} (${severity})`).toBeDefined();
    return found as Resource & { id: string };
  };

  /** THEN the check has both alarms, each on the expected metric with the stage's threshold. */
  const expectCheck = (check: string, thresholdKey: keyof Thresholds, metric: Record<string, unknown>) => {
    for (const severity of SEVERITIES) {
      const alarm = alarmOf(check, severity);
      expect(alarm.Properties.Threshold, `${check} ${severity}`).toBe(o.thresholds[thresholdKey][severity]);
      expect(alarm.Properties).toMatchObject(metric);
    }
  };

  it('has no unacknowledged cdk-nag finding (AwsSolutions and Serverless)', () => {
    expect(nagFindings(stack)).toEqual([]);
  });

  it("gives every alarm the stage's evaluation, treats missing data as not breaching, and sends ALARM and OK to the alert topic", () => {
    expect(alarms.length).toBeGreaterThan(100);
    for (const [id, alarm] of alarms) {
      expect(alarm.Properties, id).toMatchObject({
        EvaluationPeriods: o.evaluationPeriods,
        DatapointsToAlarm: o.datapointsToAlarm,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: topicId }],
        OKActions: [{ Ref: topicId }],
      });
      expect(String(alarm.Properties.AlarmName), id).toMatch(
        new RegExp(`^${prefix}-[a-z0-9-]+-(warning|critical)$`),
      );
    }
  });

  it('pairs every warning alarm with a critical one whose threshold is at least as high', () => {
    for (const [name, alarm] of byName) {
      if (!name.endsWith('-warning')) continue;
      const critical = byName.get(name.replace(/-warning$/, '-critical'));
      expect(critical, name).toBeDefined();
      expect(critical?.Properties.Threshold as number).toBeGreaterThanOrEqual(
        alarm.Properties.Threshold as number,
      );
    }
  });

  it('watches the depth and oldest-message age of every work queue, and every dead-letter queue', () => {
    const queues = monitored.flatMap((s) => s.node.findAll().filter((c) => c instanceof QueueWithDlq));
    expect(queues.length).toBeGreaterThanOrEqual(8);
    for (const q of queues) {
      const name =
        `${Stack.of(q).stackName.split('-').pop()} ${q.node.id.replace(/([a-z0-9])([A-Z])/g, '$1 $2')}`.toLowerCase();
      expectCheck(`${name} depth`, 'queueDepth', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Statistic: 'Maximum',
        Period: o.periodSeconds,
      });
      expectCheck(`${name} oldest message age`, 'queueAgeSeconds', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateAgeOfOldestMessage',
        Statistic: 'Maximum',
      });
      expectCheck(`${name} dead letters`, 'deadLetters', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
      });
    }
    expectCheck('outbox failures', 'deadLetters', { MetricName: 'ApproximateNumberOfMessagesVisible' });
    expectCheck('read model projector failures', 'deadLetters', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
    });
  });

  it('watches errors, throttles and p99 duration (as a share of the timeout) of every function', () => {
    const functions = monitored.flatMap((s) => s.node.findAll().filter((c) => c instanceof PlatformFunction));
    expect(functions.length).toBeGreaterThanOrEqual(20);
    for (const fn of functions) {
      const name =
        `${Stack.of(fn).stackName.split('-').pop()} ${fn.node.id.replace(/([a-z0-9])([A-Z])/g, '$1 $2')}`.toLowerCase();
      expectCheck(`${name} errors`, 'lambdaErrors', {
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Statistic: 'Sum',
      });
      expectCheck(`${name} throttles`, 'lambdaThrottles', {
        Namespace: 'AWS/Lambda',
        MetricName: 'Throttles',
      });
      const timeoutMs = (fn.function.timeout?.toMilliseconds() ?? 3000).toString();
      for (const severity of SEVERITIES) {
        const p99 = alarmOf(`${name} p99 duration`, severity);
        expect(p99.Properties.Threshold).toBe(o.thresholds.lambdaP99PercentOfTimeout[severity]);
        expect(p99.Properties.Metrics).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ Expression: `100 * p99 / ${timeoutMs}`, ReturnData: true }),
            expect.objectContaining({
              Id: 'p99',
              MetricStat: expect.objectContaining({
                Metric: expect.objectContaining({ Namespace: 'AWS/Lambda', MetricName: 'Duration' }),
                Stat: 'p99',
              }),
            }),
          ]),
        );
      }
    }
  });

  it('watches the Kafka consumer lag in records (Lambda OffsetLag) and in time (MSK EstimatedMaxTimeLag)', () => {
    expectCheck('windowing kafka offset lag', 'kafkaOffsetLag', {
      Namespace: 'AWS/Lambda',
      MetricName: 'OffsetLag',
      Statistic: 'Maximum',
    });
    expectCheck('windowing kafka time lag', 'kafkaTimeLagSeconds', {
      Namespace: 'AWS/Kafka',
      MetricName: 'EstimatedMaxTimeLag',
    });
    const lag = alarmOf('windowing kafka time lag', 'critical');
    expect(lag.Properties.Dimensions).toEqual(
      expect.arrayContaining([
        { Name: 'Consumer Group', Value: config.analytics.consumer.groupId },
        { Name: 'Topic', Value: 'user_activity' },
        { Name: 'Cluster Name', Value: platform.analytics.kafka.clusterName },
      ]),
    );
  });

  it('watches read and write throttles of every DynamoDB table', () => {
    const tables = alarms.filter(([, a]) =>
      String(a.Properties.AlarmName).endsWith('table-throttles-critical'),
    );
    expect(tables.length).toBeGreaterThanOrEqual(5);
    for (const [, alarm] of tables) {
      const metrics = JSON.stringify(alarm.Properties.Metrics);
      expect(metrics).toContain('ReadThrottleEvents');
      expect(metrics).toContain('WriteThrottleEvents');
      expect(alarm.Properties.Threshold).toBe(o.thresholds.dynamoDbThrottles.critical);
    }
  });

  it("watches API 5xx (less the health check's own 503s) and p99 latency", () => {
    for (const severity of SEVERITIES) {
      const errors = alarmOf('api 5xx responses', severity);
      expect(errors.Properties.Threshold).toBe(o.thresholds.api5xx[severity]);
      const text = JSON.stringify(errors.Properties.Metrics);
      expect(text).toContain('"MetricName":"5XXError"');
      expect(text).toContain('"MetricName":"HealthUnavailableResponses"');
    }
    expectCheck('api p99 latency', 'apiP99LatencyMs', {
      Namespace: 'AWS/ApiGateway',
      MetricName: 'Latency',
      ExtendedStatistic: 'p99',
    });
  });

  it('watches RabbitMQ messages and memory, and Redis memory and evictions', () => {
    expectCheck('rabbitmq messages', 'brokerMessages', {
      Namespace: 'AWS/AmazonMQ',
      MetricName: 'MessageCount',
    });
    const memory = alarmOf('rabbitmq memory', 'critical');
    expect(JSON.stringify(memory.Properties.Metrics)).toMatch(
      /RabbitMQMemUsed.*RabbitMQMemLimit|RabbitMQMemLimit.*RabbitMQMemUsed/,
    );
    expect(memory.Properties.Threshold).toBe(o.thresholds.brokerMemoryPercent.critical);
    expectCheck('redis evictions', 'redisEvictions', {
      Namespace: 'AWS/ElastiCache',
      MetricName: 'Evictions',
    });
    const redis = alarmOf('redis memory', 'critical');
    const text = JSON.stringify(redis.Properties);
    expect(text).toContain(
      config.analytics.redis.mode === 'serverless' ? 'BytesUsedForCache' : 'DatabaseMemoryUsagePercentage',
    );
  });

  it('has one composite per severity, the only composites that notify, over one composite per group', () => {
    const composites = Object.entries(resources).filter(
      ([, r]) => r.Type === 'AWS::CloudWatch::CompositeAlarm',
    );
    const top = SEVERITIES.map((severity) => {
      const found = composites.find(([, c]) => c.Properties.AlarmName === alarmName(prefix, 'any', severity));
      expect(found, severity).toBeDefined();
      return found as [string, Resource];
    });
    for (const [id, c] of composites) {
      const isTop = top.some(([topId]) => topId === id);
      expect(c.Properties.AlarmActions, id).toEqual(isTop ? [{ Ref: topicId }] : undefined);
    }
    // Every alarm reaches its severity's top composite through its group's.
    for (const [i, severity] of SEVERITIES.entries()) {
      const groups = JSON.stringify(top[i]?.[1].Properties.AlarmRule);
      const groupIds = composites.filter(([id]) => groups.includes(`"Ref":"${id}"`)).map(([id]) => id);
      expect(groupIds.length).toBeGreaterThanOrEqual(5);
      const covered = new Set(
        groupIds.flatMap((g) =>
          [...JSON.stringify(resources[g]?.Properties.AlarmRule).matchAll(/"Ref":"([A-Za-z0-9]+)"/g)].map(
            (m) => m[1],
          ),
        ),
      );
      for (const [id, alarm] of alarms) {
        if (String(alarm.Properties.AlarmName).endsWith(`-${severity}`))
          expect(covered.has(id), id).toBe(true);
      }
    }
  });

  it('encrypts the alert topic with a key CloudWatch may use, and lets CloudWatch publish', () => {
    template.hasResourceProperties('AWS::SNS::Topic', {
      TopicName: `${prefix}-alerts`,
      KmsMasterKeyId: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish' }),
        ]),
      },
    });
  });

  it('feeds the notifier from the alert topic through a queue with a DLQ, with partial batch failures', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'sqs', TopicArn: { Ref: topicId } });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          CHAT_WEBHOOK_SECRET_ARN: Match.anyValue(),
          IDEMPOTENCY_TABLE_NAME: Match.anyValue(),
          DEAD_LETTER_QUEUE_URL: Match.anyValue(),
          ALERT_EMAILS: o.alertEmails.join(','),
        }),
      },
    });
  });

  it('has a dashboard with the widgets of every flow', () => {
    const [, dashboard] =
      Object.entries(resources).find(([, r]) => r.Type === 'AWS::CloudWatch::Dashboard') ?? [];
    expect(dashboard?.Properties.DashboardName).toBe(`${prefix}-overview`);
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);
    for (const title of [
      'Health',
      'API requests',
      'Order flow',
      'Dead-letter queues',
      'Lambda errors',
      'Kafka lag',
      'Redis',
      'RabbitMQ',
    ]) {
      expect(body, title).toContain(title);
    }
  });

  it('matches the snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });
});

describe('the health check (Services stack)', () => {
  const { platform } = synth('dev');
  const services = Template.fromStack(platform.services);
  const healthId = platform.services.getLogicalId(
    platform.services.health.function.node.defaultChild as never,
  );

  it('answers GET /health through the API', () => {
    services.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      Integration: Match.objectLike({
        Uri: Match.objectLike({
          'Fn::Join': Match.arrayWith([Match.arrayWith([{ 'Fn::GetAtt': [healthId, 'Arn'] }])]),
        }),
      }),
    });
  });

  it('runs every minute', () => {
    services.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [healthId, 'Arn'] } })],
    });
  });

  it("may list the stage's alarms only, describe the event store and publish to the alert topic", () => {
    const policies = Object.values(services.toJSON().Resources as Record<string, Resource>).filter(
      (r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes('HealthCheck'),
    );
    const text = JSON.stringify(policies);
    expect(text).toContain('cloudwatch:DescribeAlarms');
    expect(text).toContain(`:alarm:${platform.observability.alarmNamePrefix}-*`);
    expect(text).toContain('dynamodb:DescribeTable');
    expect(text).toContain(`:${platform.observability.alarmNamePrefix}-alerts`);
    // Only X-Ray (tracing, on every function) is granted on every resource.
    const wildcard = policies
      .flatMap(
        (p) =>
          (p.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] })
            .Statement,
      )
      .filter((st) => st.Resource === '*')
      .flatMap((st) => [st.Action].flat());
    expect(wildcard.every((a) => a.startsWith('xray:'))).toBe(true);
  });
});

describe('the notifier with e-mail recipients', () => {
  const { platform } = synth('dev', (c) => ({
    ...c,
    observability: {
      ...c.observability,
      alertEmails: ['oncall@shop.example'],
      alertFrom: 'alerts@shop.example',
    },
  }));
  it('may send e-mail from the sender domain only', () => {
    const template = Template.fromStack(platform.observability);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'ses:SendEmail',
            Resource: Match.objectLike({
              'Fn::Join': Match.arrayWith([Match.arrayWith([':identity/shop.example'])]),
            }),
          }),
        ]),
      },
    });
  });
});

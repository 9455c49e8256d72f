import { Aws, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct, IConstruct } from 'constructs';
import { ANALYTICS_TOPICS } from '../../lambdas/analytics/domain/activity.js';
import type { StageConfig } from '../config/stage-config.js';
import { FanoutTopic } from '../constructs/fanout-topic.js';
import { HealthAlarms } from '../constructs/health-alarms.js';
import { PlatformFunction } from '../constructs/platform-function.js';
import { QueueWithDlq } from '../constructs/queue-with-dlq.js';
import { lambdaEntry } from '../lambda-entry.js';
import type { AnalyticsStack } from './analytics-stack.js';
import type { BrokerStack } from './broker-stack.js';
import type { DataStack } from './data-stack.js';
import type { FulfilmentStack } from './fulfilment-stack.js';
import type { ServicesStack } from './services-stack.js';

export interface ObservabilityStackProps extends StackProps {
  readonly config: StageConfig;
  readonly data: DataStack;
  readonly analytics: AnalyticsStack;
  readonly broker: BrokerStack;
  readonly fulfilment: FulfilmentStack;
  readonly services: ServicesStack;
}

/** The prefix of every alarm of a stage, e.g. `Platform-Dev`. */
export const alarmNamePrefixOf = (config: StageConfig): string =>
  `Platform-${config.stage.charAt(0).toUpperCase()}${config.stage.slice(1)}`;

/** The alert topic's name: the health check (in the Services stack) publishes to it by name. */
export const alertTopicName = (alarmNamePrefix: string): string => `${alarmNamePrefix}-alerts`;

/** The ARN of a stage's alert topic, without a reference to this stack. */
export const alertTopicArn = (alarmNamePrefix: string): string =>
  `arn:${Aws.PARTITION}:sns:${Aws.REGION}:${Aws.ACCOUNT_ID}:${alertTopicName(alarmNamePrefix)}`;

/** Every construct of `type` under the given scopes, in a stable order. */
function allOf<T>(scopes: readonly IConstruct[], type: abstract new (...args: never[]) => T): T[] {
  return scopes.flatMap((scope) =>
    scope.node.findAll().filter((c): c is T & IConstruct => c instanceof type),
  );
}

/** `InventoryConsumer` → `inventory consumer`. */
const words = (id: string): string =>
  id
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[^A-Za-z0-9]+/g, ' ')
    .trim()
    .toLowerCase();

/**
 * Observability, the last stack of a stage (it watches all the others): the health alarms of every
 * queue, DLQ, function, table, the API, Kafka, Redis and RabbitMQ, with thresholds from the stage's
 * configuration; the alert topic their transitions go to; the notifier that formats alerts for the
 * log, e-mail and a chat webhook, once each; and the dashboard. The health check itself
 * (`GET /health` and its schedule) lives with the API in the Services stack and finds the alarms by
 * their name prefix.
 */
export class ObservabilityStack extends Stack {
  readonly alarms: HealthAlarms;
  readonly alertTopic: FanoutTopic;
  readonly alerts: QueueWithDlq;
  readonly notifier: PlatformFunction;
  readonly chatWebhook: secretsmanager.Secret;
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarmNamePrefix: string;

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    const { config, data, analytics, broker, fulfilment, services } = props;
    const o = config.observability;
    const t = o.thresholds;
    const logRetention = config.logRetentionDays as logs.RetentionDays;
    const period = Duration.seconds(o.periodSeconds);
    this.alarmNamePrefix = services.alarmNamePrefix;

    // Alerts: CloudWatch publishes alarm transitions to an encrypted topic, so its key lets
    // CloudWatch (and the health check, which announces status changes) use it.
    const key = new kms.Key(this, 'AlertKey', {
      enableKeyRotation: true,
      description: `Encrypts the alerts of ${this.stackName}`,
    });
    key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    // The health check's role is in the Services stack: the key policy names it (a grant on its
    // side would make the Services stack depend on this one).
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'HealthCheckAnnouncesStatusChanges',
        principals: [new iam.ArnPrincipal(services.health.role.roleArn)],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.alertTopic = new FanoutTopic(this, 'Alerts', {
      topicName: alertTopicName(this.alarmNamePrefix),
      encryptionKey: key,
    });
    this.alertTopic.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alertTopic.topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );

    this.alarms = new HealthAlarms(this, 'Health', {
      alarmNamePrefix: this.alarmNamePrefix,
      alertTopic: this.alertTopic.topic,
      period,
      evaluationPeriods: o.evaluationPeriods,
      datapointsToAlarm: o.datapointsToAlarm,
    });
    const check = this.alarms.addCheck.bind(this.alarms);

    // Queues: depth and age of every work queue; every dead-letter queue must stay empty.
    const stacks = [data, analytics, broker, fulfilment, services];
    const queues = allOf(stacks, QueueWithDlq);
    for (const q of queues) {
      const name = `${words(Stack.of(q).stackName.split('-').pop() ?? '')} ${words(q.node.id)}`;
      const logicalId = `${Stack.of(q).node.id}${q.node.id}`.replace(/[^A-Za-z0-9]/g, '');
      check(`${logicalId}Depth`, {
        group: 'queues',
        check: `${name} depth`,
        metric: q.queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period }),
        thresholds: t.queueDepth,
        description: `Messages waiting in ${q.node.path}`,
      });
      check(`${logicalId}Age`, {
        group: 'queues',
        check: `${name} oldest message age`,
        metric: q.queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period }),
        thresholds: t.queueAgeSeconds,
        description: `Age (s) of the oldest message in ${q.node.path}: its consumer is falling behind or failing`,
      });
      check(`${logicalId}Dlq`, {
        group: 'queues',
        check: `${name} dead letters`,
        metric: q.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period }),
        thresholds: t.deadLetters,
        description: `Messages dead-lettered from ${q.node.path} (inspect and redrive with npm run dlq)`,
      });
    }
    for (const [label, consumer] of [
      ['outbox', fulfilment.outbox],
      ['read model projector', services.projector],
    ] as const) {
      check(`${label.replace(/\s/g, '')}Failures`, {
        group: 'queues',
        check: `${label} failures`,
        metric: consumer.failureQueue.metricApproximateNumberOfMessagesVisible({
          statistic: 'Maximum',
          period,
        }),
        thresholds: t.deadLetters,
        description: `Stream batches the ${label} gave up on (their positions are in its failure queue)`,
      });
    }

    // Functions: errors, throttles, and p99 duration against the function's own timeout.
    const functions = allOf(stacks, PlatformFunction);
    for (const fn of functions) {
      const stack = Stack.of(fn).stackName.split('-').pop() ?? '';
      const name = `${words(stack)} ${words(fn.node.id)}`;
      const logicalId = `${stack}${fn.node.id}`.replace(/[^A-Za-z0-9]/g, '');
      check(`${logicalId}Errors`, {
        group: 'functions',
        check: `${name} errors`,
        metric: fn.function.metricErrors({ statistic: 'Sum', period }),
        thresholds: t.lambdaErrors,
        description: `Invocations of ${fn.node.path} that failed`,
      });
      check(`${logicalId}Throttles`, {
        group: 'functions',
        check: `${name} throttles`,
        metric: fn.function.metricThrottles({ statistic: 'Sum', period }),
        thresholds: t.lambdaThrottles,
        description: `Invocations of ${fn.node.path} refused for concurrency`,
      });
      const timeoutMs = (fn.function.timeout ?? Duration.seconds(3)).toMilliseconds();
      check(`${logicalId}P99`, {
        group: 'functions',
        check: `${name} p99 duration`,
        metric: new cloudwatch.MathExpression({
          expression: `100 * p99 / ${timeoutMs}`,
          usingMetrics: { p99: fn.function.metricDuration({ statistic: 'p99', period }) },
          label: `${name} p99 duration (% of timeout)`,
          period,
        }),
        thresholds: t.lambdaP99PercentOfTimeout,
        description: `p99 duration of ${fn.node.path} as a percentage of its ${timeoutMs} ms timeout`,
      });
    }

    // Kafka: how far the windowing consumer is behind, in records and in time.
    check('KafkaOffsetLag', {
      group: 'kafka',
      check: 'windowing kafka offset lag',
      metric: new cloudwatch.Metric({
        namespace: 'AWS/Lambda',
        metricName: 'OffsetLag',
        dimensionsMap: { FunctionName: analytics.windowing.function.functionName },
        statistic: 'Maximum',
        period,
      }),
      thresholds: t.kafkaOffsetLag,
      description: `Records of ${ANALYTICS_TOPICS.userActivity} the windowing function has not processed yet`,
    });
    check('KafkaTimeLag', {
      group: 'kafka',
      check: 'windowing kafka time lag',
      metric: analytics.kafka.metricEstimatedMaxTimeLag(
        config.analytics.consumer.groupId,
        ANALYTICS_TOPICS.userActivity,
        {
          period,
        },
      ),
      thresholds: t.kafkaTimeLagSeconds,
      description: `Age (s) of the oldest ${ANALYTICS_TOPICS.userActivity} record the ${config.analytics.consumer.groupId} group has not consumed`,
    });

    // DynamoDB: throttled reads and writes, table by table.
    for (const table of allOf([data], dynamodb.Table)) {
      const owner = table.node.scope?.node.id ?? table.node.id;
      const dims = { TableName: table.tableName };
      check(`${owner}Throttles`, {
        group: 'tables',
        check: `${words(owner)} table throttles`,
        metric: new cloudwatch.MathExpression({
          expression: 'FILL(r, 0) + FILL(w, 0)',
          usingMetrics: {
            r: new cloudwatch.Metric({
              namespace: 'AWS/DynamoDB',
              metricName: 'ReadThrottleEvents',
              dimensionsMap: dims,
              statistic: 'Sum',
              period,
            }),
            w: new cloudwatch.Metric({
              namespace: 'AWS/DynamoDB',
              metricName: 'WriteThrottleEvents',
              dimensionsMap: dims,
              statistic: 'Sum',
              period,
            }),
          },
          label: `${words(owner)} throttle events`,
          period,
        }),
        thresholds: t.dynamoDbThrottles,
        description: `Read and write requests to ${table.node.path} that DynamoDB throttled`,
      });
    }

    // The API.
    const api = services.api.api;
    check('Api5xx', {
      group: 'api',
      check: 'api 5xx responses',
      // Less GET /health's own 503s: an unhealthy platform must not keep itself unhealthy.
      metric: new cloudwatch.MathExpression({
        expression: 'MAX([FILL(e, 0) - FILL(h, 0), 0 * FILL(e, 0)])',
        usingMetrics: {
          e: api.metricServerError({ statistic: 'Sum', period }),
          h: new cloudwatch.Metric({
            namespace: 'MessagingPlatform',
            metricName: 'HealthUnavailableResponses',
            dimensionsMap: { service: 'health' },
            statistic: 'Sum',
            period,
          }),
        },
        label: 'API 5xx responses (health check 503s left out)',
        period,
      }),
      thresholds: t.api5xx,
      description:
        'Responses of the REST API with a 5xx status, other than the 503 of an unhealthy GET /health',
    });
    check('ApiLatency', {
      group: 'api',
      check: 'api p99 latency',
      metric: api.metricLatency({ statistic: 'p99', period }),
      thresholds: t.apiP99LatencyMs,
      description: 'p99 latency (ms) of the REST API',
    });

    // RabbitMQ and Redis.
    check('BrokerMessages', {
      group: 'brokers',
      check: 'rabbitmq messages',
      metric: broker.rabbit.metricMessageCount({ period }),
      thresholds: t.brokerMessages,
      description: 'Messages held by the RabbitMQ broker (ready and unacknowledged): consumers are behind',
    });
    check('BrokerMemory', {
      group: 'brokers',
      check: 'rabbitmq memory',
      metric: broker.rabbit.metricMemoryPercent({ period }),
      thresholds: t.brokerMemoryPercent,
      description: 'RabbitMQ memory in use, % of its limit (publishers are blocked at 100%)',
    });
    check('RedisMemory', {
      group: 'brokers',
      check: 'redis memory',
      metric: analytics.redis.metricMemoryPercent({ period }),
      thresholds: t.redisMemoryPercent,
      description: 'Redis memory in use, % of its limit (it evicts beyond it)',
    });
    check('RedisEvictions', {
      group: 'brokers',
      check: 'redis evictions',
      metric: analytics.redis.metricEvictions({ period }),
      thresholds: t.redisEvictions,
      description: 'Keys Redis evicted for memory: window state or queued tasks may be lost',
    });

    // The notifier: alerts from the topic through a queue (retries, a DLQ), once per alert.
    this.chatWebhook = new secretsmanager.Secret(this, 'ChatWebhook', {
      description: `Chat webhook URL for the alerts of ${this.alarmNamePrefix}: set the secret's value to the https URL the chat service issued`,
      generateSecretString: { passwordLength: 32, excludePunctuation: true },
    });
    Validations.of(this.chatWebhook).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The webhook URL is issued and rotated by the chat service (Slack, Teams); a Secrets Manager rotation function cannot create a new one. Until an operator stores the https URL, the notifier skips the chat channel.',
    });
    this.alerts = new QueueWithDlq(this, 'AlertQueue', {
      maxReceiveCount: 5,
      consumerTimeout: Duration.seconds(30),
    });
    this.alertTopic.subscribeQueue(this.alerts, { rawMessageDelivery: false });
    this.notifier = new PlatformFunction(this, 'Notifier', {
      entry: lambdaEntry('observability/handlers/alert-notifier.ts'),
      serviceName: 'alerts',
      description: 'Formats alarm and health alerts for the log, e-mail (SES) and a chat webhook, once each',
      timeout: Duration.seconds(30),
      logRetention,
      environment: {
        DEAD_LETTER_QUEUE_URL: this.alerts.deadLetterQueue.queueUrl,
        MAX_RECEIVE_COUNT: String(this.alerts.maxReceiveCount),
        IDEMPOTENCY_TABLE_NAME: data.idempotency.table.tableName,
        IDEMPOTENCY_TTL_SECONDS: String(24 * 3600),
        CHAT_WEBHOOK_SECRET_ARN: this.chatWebhook.secretArn,
        ALERT_EMAILS: o.alertEmails.join(','),
        ...(o.alertFrom ? { ALERT_FROM: o.alertFrom } : {}),
      },
    });
    this.alerts.addConsumer(this.notifier.function, { batchSize: 10 });
    this.alerts.deadLetterQueue.grantSendMessages(this.notifier.function);
    data.idempotency.table.grantReadWriteData(this.notifier.function);
    this.chatWebhook.grantRead(this.notifier.function);
    if (o.alertFrom && o.alertEmails.length > 0) {
      this.notifier.function.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['ses:SendEmail'],
          resources: [
            this.formatArn({ service: 'ses', resource: 'identity', resourceName: o.alertFrom.split('@')[1] }),
          ],
        }),
      );
    }

    this.dashboard = this.buildDashboard({ period, queues, functions, props });
  }

  private buildDashboard(input: {
    period: Duration;
    queues: QueueWithDlq[];
    functions: PlatformFunction[];
    props: ObservabilityStackProps;
  }): cloudwatch.Dashboard {
    const { period, queues, functions, props } = input;
    const api = props.services.api.api;
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${this.alarmNamePrefix}-overview`,
      defaultInterval: Duration.hours(3),
    });
    const graph = (title: string, left: cloudwatch.IMetric[], width = 12) =>
      new cloudwatch.GraphWidget({ title, left, width, height: 6, period });
    const health = new cloudwatch.Metric({
      namespace: 'MessagingPlatform',
      metricName: 'HealthScore',
      dimensionsMap: { service: 'health' },
      statistic: 'Maximum',
      period,
      label: 'health (0 healthy, 1 degraded, 2 unhealthy)',
    });
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Health (any critical, any warning)',
        alarms: [this.alarms.compositeCritical, this.alarms.compositeWarning],
        width: 12,
        height: 3,
      }),
      graph('Health score (scheduled check)', [health]),
    );
    dashboard.addWidgets(
      graph('API requests and 5xx', [
        api.metricCount({ statistic: 'Sum', period }),
        api.metricServerError({ statistic: 'Sum', period }),
        api.metricClientError({ statistic: 'Sum', period }),
      ]),
      graph('API latency p50 / p99 (ms)', [
        api.metricLatency({ statistic: 'p50', period }),
        api.metricLatency({ statistic: 'p99', period }),
      ]),
    );
    dashboard.addWidgets(
      graph(
        'Order flow: messages waiting per queue',
        queues.map((q) =>
          q.queue.metricApproximateNumberOfMessagesVisible({
            statistic: 'Maximum',
            period,
            label: q.node.id,
          }),
        ),
      ),
      graph(
        'Dead-letter queues',
        queues.map((q) =>
          q.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            statistic: 'Maximum',
            period,
            label: q.node.id,
          }),
        ),
      ),
    );
    dashboard.addWidgets(
      graph(
        'Lambda errors',
        functions.map((fn) => fn.function.metricErrors({ statistic: 'Sum', period, label: fn.node.id })),
      ),
      graph(
        'Lambda throttles',
        functions.map((fn) => fn.function.metricThrottles({ statistic: 'Sum', period, label: fn.node.id })),
      ),
    );
    const { analytics, broker } = props;
    dashboard.addWidgets(
      graph('Analytics: Kafka lag (records, seconds)', [
        new cloudwatch.Metric({
          namespace: 'AWS/Lambda',
          metricName: 'OffsetLag',
          dimensionsMap: { FunctionName: analytics.windowing.function.functionName },
          statistic: 'Maximum',
          period,
          label: 'windowing offset lag',
        }),
        analytics.kafka.metricEstimatedMaxTimeLag(
          props.config.analytics.consumer.groupId,
          ANALYTICS_TOPICS.userActivity,
          {
            period,
            label: 'estimated max time lag (s)',
          },
        ),
      ]),
      graph('Redis memory (%) and evictions', [
        analytics.redis.metricMemoryPercent({ period }),
        analytics.redis.metricEvictions({ period }),
      ]),
    );
    dashboard.addWidgets(
      graph('RabbitMQ messages and memory (%)', [
        broker.rabbit.metricMessageCount({ period }),
        broker.rabbit.metricMemoryPercent({ period }),
      ]),
      graph('Events consumed and failed (EMF)', [
        new cloudwatch.MathExpression({
          expression: "SEARCH('{MessagingPlatform,service} MetricName=\"EventsConsumed\"', 'Sum', 60)",
          label: 'consumed',
          period,
        }),
        new cloudwatch.MathExpression({
          expression: "SEARCH('{MessagingPlatform,service} MetricName=\"EventsFailed\"', 'Sum', 60)",
          label: 'failed',
          period,
        }),
      ]),
    );
    return dashboard;
  }
}

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  CloudWatchClient,
  type MetricDataQuery,
  PutCompositeAlarmCommand,
  PutDashboardCommand,
  PutMetricAlarmCommand,
  type PutMetricAlarmCommandInput,
} from '@aws-sdk/client-cloudwatch';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ResourceExistsException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  AlreadyExistsException,
  CreateTemplateCommand,
  SESClient,
  UpdateTemplateCommand,
} from '@aws-sdk/client-ses';
import {
  CreateTopicCommand,
  ListSubscriptionsByTopicCommand,
  SetSubscriptionAttributesCommand,
  SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { COMPOSITE_STAND_IN_METRIC } from './alarms/composite.js';
import type { CfnResource, StackArtifact } from './assembly.js';
import { isCustomResourceType } from './custom-resources.js';
import { type ResolveContext, resolve, UnresolvableError } from './intrinsics.js';
import { Registry, type ResourceState } from './registry.js';

export interface AwsTarget {
  /** AWS-compatible endpoint (moto, LocalStack). */
  readonly endpoint: string;
  readonly region: string;
  readonly accountId: string;
}

/** Local engines that stand in for managed brokers and caches. */
export interface LocalEngines {
  /** For MSK clusters. @default ['127.0.0.1:9092'] */
  readonly kafkaBrokers?: readonly string[];
  /** For ElastiCache. @default 'redis://127.0.0.1:6379' */
  readonly redisUrl?: string;
  /** For Amazon MQ for RabbitMQ (an administrator's credentials). @default 'amqp://guest:guest@127.0.0.1:5672' */
  readonly rabbitUrl?: string;
  /** Its management API. @default 'http://127.0.0.1:15672' */
  readonly rabbitManagementUrl?: string;
}

export interface Finding {
  readonly stackName: string;
  readonly logicalId: string;
  readonly type: string;
  readonly message: string;
}

export interface ProvisionResult {
  readonly registry: Registry;
  /** Resources the runtime created or updated on the endpoint. */
  readonly provisioned: Finding[];
  /** Template features the runtime does not support: reported at start-up, never ignored. */
  readonly unsupported: Finding[];
}

export interface Clients {
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
  readonly dynamodb: DynamoDBClient;
  readonly secrets: SecretsManagerClient;
  readonly s3: S3Client;
  readonly ses: SESClient;
  readonly cloudwatch: CloudWatchClient;
}

export function awsClients(target: AwsTarget): Clients {
  const config = {
    endpoint: target.endpoint,
    region: target.region,
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
    },
  };
  return {
    sqs: new SQSClient(config),
    sns: new SNSClient(config),
    dynamodb: new DynamoDBClient(config),
    secrets: new SecretsManagerClient(config),
    s3: new S3Client({ ...config, forcePathStyle: true }),
    ses: new SESClient(config),
    cloudwatch: new CloudWatchClient(config),
  };
}

type Props = Record<string, unknown>;
interface HandlerArgs {
  readonly engines: LocalEngines;
  readonly stack: StackArtifact;
  readonly logicalId: string;
  readonly props: Props;
  readonly target: AwsTarget;
  readonly clients: Clients;
  readonly log: (line: string) => void;
}
type Handler = (args: HandlerArgs) => Promise<ResourceState>;

/** A stable physical name for a resource the template leaves unnamed, as CloudFormation would. */
export function physicalName(stackName: string, logicalId: string, max = 80): string {
  const suffix = createHash('sha256')
    .update(`${stackName}/${logicalId}`)
    .digest('hex')
    .slice(0, 8)
    .toUpperCase();
  const base = `${stackName}-${logicalId}`.replace(/[^A-Za-z0-9-_]/g, '');
  return `${base.slice(0, max - suffix.length - 1)}-${suffix}`;
}

const str = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));
const json = (v: unknown): string | undefined =>
  v === undefined ? undefined : typeof v === 'string' ? v : JSON.stringify(v);

const SQS_ATTRIBUTES = [
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'RedrivePolicy',
  'RedriveAllowPolicy',
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
] as const;

const queue: Handler = async ({ stack, logicalId, props, target, clients }) => {
  const fifo = props.FifoQueue === true || props.FifoQueue === 'true';
  const name =
    str(props.QueueName) ??
    `${physicalName(stack.stackName, logicalId, fifo ? 75 : 80)}${fifo ? '.fifo' : ''}`;
  const attributes: Record<string, string> = {};
  for (const key of SQS_ATTRIBUTES) {
    const value = props[key];
    if (value !== undefined)
      attributes[key] = typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  let url: string;
  try {
    url =
      (await clients.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes })))
        .QueueUrl ?? '';
  } catch (e) {
    // The queue survives from an earlier run with other attributes: bring it to the template's.
    if ((e as Error).name !== 'QueueAlreadyExists' && (e as Error).name !== 'QueueNameExists') throw e;
    url = (await clients.sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl ?? '';
    const { FifoQueue: _fifo, ...mutable } = attributes;
    await clients.sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: mutable }));
  }
  const arn = `arn:aws:sqs:${target.region}:${target.accountId}:${name}`;
  return { type: 'AWS::SQS::Queue', ref: url, attrs: { Arn: arn, QueueName: name, QueueUrl: url } };
};

const topic: Handler = async ({ stack, logicalId, props, clients }) => {
  const fifo = props.FifoTopic === true || props.FifoTopic === 'true';
  const name =
    str(props.TopicName) ??
    `${physicalName(stack.stackName, logicalId, fifo ? 251 : 256)}${fifo ? '.fifo' : ''}`;
  const attributes: Record<string, string> = {};
  if (fifo) attributes.FifoTopic = 'true';
  if (props.ContentBasedDeduplication !== undefined)
    attributes.ContentBasedDeduplication = String(props.ContentBasedDeduplication);
  const arn =
    (await clients.sns.send(new CreateTopicCommand({ Name: name, Attributes: attributes }))).TopicArn ?? '';
  return { type: 'AWS::SNS::Topic', ref: arn, attrs: { TopicArn: arn, TopicName: name } };
};

const subscription: Handler = async ({ props, clients }) => {
  const topicArn = String(props.TopicArn);
  const protocol = String(props.Protocol);
  const endpoint = String(props.Endpoint);
  const attributes: Record<string, string> = {};
  if (props.RawMessageDelivery !== undefined)
    attributes.RawMessageDelivery = String(props.RawMessageDelivery);
  if (props.FilterPolicy !== undefined) attributes.FilterPolicy = json(props.FilterPolicy) ?? '';
  if (props.FilterPolicyScope !== undefined) attributes.FilterPolicyScope = String(props.FilterPolicyScope);
  if (props.RedrivePolicy !== undefined) attributes.RedrivePolicy = json(props.RedrivePolicy) ?? '';
  if (protocol === 'lambda') {
    // Delivered by the runtime itself (moto cannot invoke our functions): see event-sources.
    return {
      type: 'AWS::SNS::Subscription',
      ref: `local-lambda-subscription:${randomUUID()}`,
      attrs: { ...props },
    };
  }
  const existing = await clients.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }));
  const same = existing.Subscriptions?.find((s) => s.Protocol === protocol && s.Endpoint === endpoint);
  if (same?.SubscriptionArn) {
    for (const [AttributeName, AttributeValue] of Object.entries(attributes)) {
      await clients.sns.send(
        new SetSubscriptionAttributesCommand({
          SubscriptionArn: same.SubscriptionArn,
          AttributeName,
          AttributeValue,
        }),
      );
    }
    return { type: 'AWS::SNS::Subscription', ref: same.SubscriptionArn, attrs: { ...props } };
  }
  const created = await clients.sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: protocol,
      Endpoint: endpoint,
      Attributes: attributes,
      ReturnSubscriptionArn: true,
    }),
  );
  return { type: 'AWS::SNS::Subscription', ref: created.SubscriptionArn ?? '', attrs: { ...props } };
};

const table: Handler = async ({ stack, logicalId, props, clients }) => {
  const name = str(props.TableName) ?? physicalName(stack.stackName, logicalId, 255);
  const payPerRequest = (props.BillingMode ?? 'PROVISIONED') === 'PAY_PER_REQUEST';
  const throughput = payPerRequest
    ? undefined
    : ((props.ProvisionedThroughput as CreateTableCommandInput['ProvisionedThroughput']) ?? {
        ReadCapacityUnits: 5,
        WriteCapacityUnits: 5,
      });
  const stream = props.StreamSpecification as { StreamViewType?: string } | undefined;
  const gsis = props.GlobalSecondaryIndexes as Props[] | undefined;
  const input: CreateTableCommandInput = {
    TableName: name,
    KeySchema: props.KeySchema as CreateTableCommandInput['KeySchema'],
    AttributeDefinitions: props.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
    BillingMode: payPerRequest ? 'PAY_PER_REQUEST' : 'PROVISIONED',
    ProvisionedThroughput: throughput,
    GlobalSecondaryIndexes: gsis?.map((g) => ({
      IndexName: String(g.IndexName),
      KeySchema: g.KeySchema as CreateTableCommandInput['KeySchema'] & object,
      Projection: g.Projection as { ProjectionType: 'ALL' },
      ProvisionedThroughput: payPerRequest
        ? undefined
        : ((g.ProvisionedThroughput as typeof throughput) ?? throughput),
    })),
    LocalSecondaryIndexes: props.LocalSecondaryIndexes as CreateTableCommandInput['LocalSecondaryIndexes'],
    StreamSpecification: stream?.StreamViewType
      ? { StreamEnabled: true, StreamViewType: stream.StreamViewType as 'NEW_IMAGE' }
      : undefined,
  };
  try {
    await clients.dynamodb.send(new CreateTableCommand(input));
  } catch (e) {
    if (!(e instanceof ResourceInUseException)) throw e;
  }
  const ttl = props.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
  if (ttl?.Enabled && ttl.AttributeName) {
    await clients.dynamodb
      .send(
        new UpdateTimeToLiveCommand({
          TableName: name,
          TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true },
        }),
      )
      .catch((e: Error) => {
        // Already enabled from an earlier run.
        if (!/already enabled|TimeToLive is already/i.test(e.message)) throw e;
      });
  }
  const described = await clients.dynamodb.send(new DescribeTableCommand({ TableName: name }));
  return {
    type: 'AWS::DynamoDB::Table',
    ref: name,
    attrs: {
      Arn: described.Table?.TableArn,
      StreamArn: described.Table?.LatestStreamArn,
    },
  };
};

const secret: Handler = async ({ stack, logicalId, props, clients }) => {
  const name = str(props.Name) ?? physicalName(stack.stackName, logicalId, 256);
  let value = str(props.SecretString);
  const generate = props.GenerateSecretString as
    | {
        SecretStringTemplate?: string;
        GenerateStringKey?: string;
        PasswordLength?: number;
        ExcludePunctuation?: boolean;
      }
    | undefined;
  if (value === undefined) {
    const password = randomBytes(48)
      .toString('base64url')
      .slice(0, generate?.PasswordLength ?? 32);
    value =
      generate?.SecretStringTemplate && generate.GenerateStringKey
        ? JSON.stringify({
            ...JSON.parse(generate.SecretStringTemplate),
            [generate.GenerateStringKey]: password,
          })
        : password;
  }
  let arn: string;
  try {
    arn =
      (await clients.secrets.send(new CreateSecretCommand({ Name: name, SecretString: value }))).ARN ?? '';
  } catch (e) {
    if (!(e instanceof ResourceExistsException)) throw e;
    arn = (await clients.secrets.send(new DescribeSecretCommand({ SecretId: name }))).ARN ?? '';
  }
  return { type: 'AWS::SecretsManager::Secret', ref: arn, attrs: { Id: arn } };
};

const bucket: Handler = async ({ stack, logicalId, props, clients }) => {
  const name = str(props.BucketName) ?? physicalName(stack.stackName, logicalId, 63).toLowerCase();
  await clients.s3.send(new CreateBucketCommand({ Bucket: name })).catch((e: Error) => {
    if (!/BucketAlreadyOwnedByYou|BucketAlreadyExists/.test(e.name)) throw e;
  });
  return {
    type: 'AWS::S3::Bucket',
    ref: name,
    attrs: { Arn: `arn:aws:s3:::${name}`, DomainName: `${name}.s3.amazonaws.com` },
  };
};

const emailTemplate: Handler = async ({ stack, logicalId, props, clients }) => {
  const t = (props.Template ?? {}) as Record<string, unknown>;
  const Template = {
    TemplateName: str(t.TemplateName) ?? physicalName(stack.stackName, logicalId, 64),
    SubjectPart: str(t.SubjectPart),
    TextPart: str(t.TextPart),
    HtmlPart: str(t.HtmlPart),
  };
  try {
    await clients.ses.send(new CreateTemplateCommand({ Template }));
  } catch (e) {
    // SES answers AlreadyExists; some emulators name it after the template.
    if (!(e instanceof AlreadyExistsException || /AlreadyExists/.test((e as Error).name))) throw e;
    await clients.ses.send(new UpdateTemplateCommand({ Template }));
  }
  return { type: 'AWS::SES::Template', ref: Template.TemplateName, attrs: {} };
};

const lambdaFunction: Handler = async ({ stack, logicalId, props, target }) => {
  const name = str(props.FunctionName) ?? physicalName(stack.stackName, logicalId, 64);
  return {
    type: 'AWS::Lambda::Function',
    ref: name,
    attrs: { Arn: `arn:aws:lambda:${target.region}:${target.accountId}:function:${name}` },
  };
};

const mskCluster: Handler = async ({ stack, logicalId, props, target, engines }) => {
  const name = str(props.ClusterName) ?? physicalName(stack.stackName, logicalId, 64);
  const arn = `arn:aws:kafka:${target.region}:${target.accountId}:cluster/${name}/local`;
  const brokers = (engines.kafkaBrokers ?? ['127.0.0.1:9092']).join(',');
  return {
    type: 'AWS::MSK::Cluster',
    ref: arn,
    attrs: { Arn: arn, LocalBootstrapBrokers: brokers, LocalEngine: 'kafka' },
  };
};

const redisEndpoint = (engines: LocalEngines) => {
  const url = new URL(engines.redisUrl ?? 'redis://127.0.0.1:6379');
  return { Address: url.hostname, Port: url.port || '6379' };
};

const elastiCache =
  (type: string): Handler =>
  async ({ stack, logicalId, target, engines }) => {
    const name = physicalName(stack.stackName, logicalId, 40).toLowerCase();
    const endpoint = redisEndpoint(engines);
    return {
      type,
      ref: name,
      attrs: {
        Arn: `arn:aws:elasticache:${target.region}:${target.accountId}:cluster:${name}`,
        'RedisEndpoint.Address': endpoint.Address,
        'RedisEndpoint.Port': endpoint.Port,
        'PrimaryEndPoint.Address': endpoint.Address,
        'PrimaryEndPoint.Port': endpoint.Port,
        'Endpoint.Address': endpoint.Address,
        'Endpoint.Port': endpoint.Port,
        LocalEngine: 'redis',
      },
    };
  };

/**
 * `{{resolve:secretsmanager:<id>:SecretString:<json-key>:...}}`: CloudFormation's dynamic
 * reference to a secret, read from the emulator's Secrets Manager.
 */
async function resolveSecretReference(value: string, clients: Clients): Promise<string> {
  const match = /^\{\{resolve:secretsmanager:(.+?)(?::SecretString:([^:}]*)(?::[^}]*)?)?\}\}$/.exec(value);
  if (!match?.[1]) return value;
  const out = await clients.secrets.send(new GetSecretValueCommand({ SecretId: match[1] }));
  const text = out.SecretString ?? '';
  if (!match[2]) return text;
  const field = (JSON.parse(text) as Record<string, unknown>)[match[2]];
  if (typeof field !== 'string') throw new Error(`secret ${match[1]} has no string field ${match[2]}`);
  return field;
}

/**
 * Amazon MQ for RabbitMQ on the local RabbitMQ: the broker's users (from the template, their
 * passwords resolved from Secrets Manager) are created as administrators through the management
 * API, as Amazon MQ creates them, so that clients log in with the credentials the stack gave them.
 */
const mqBroker: Handler = async ({ stack, logicalId, props, target, engines, clients }) => {
  const name = str(props.BrokerName) ?? physicalName(stack.stackName, logicalId, 50);
  const arn = `arn:aws:mq:${target.region}:${target.accountId}:broker:${name}:b-local`;
  const url = new URL(engines.rabbitUrl ?? 'amqp://guest:guest@127.0.0.1:5672');
  const management = new URL(engines.rabbitManagementUrl ?? 'http://127.0.0.1:15672');
  const admin = `Basic ${Buffer.from(`${decodeURIComponent(url.username || 'guest')}:${decodeURIComponent(url.password || 'guest')}`).toString('base64')}`;
  const users = (props.Users as { Username?: unknown; Password?: unknown }[] | undefined) ?? [];
  for (const user of users) {
    const username = str(user.Username);
    const password = str(user.Password);
    if (!username || password === undefined) continue;
    const resolved = await resolveSecretReference(password, clients);
    const put = async (path: string, body: unknown) => {
      const response = await fetch(new URL(path, management), {
        method: 'PUT',
        headers: { authorization: admin, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!response.ok)
        throw new Error(`RabbitMQ management ${path}: ${response.status} ${await response.text()}`);
    };
    await put(`/api/users/${encodeURIComponent(username)}`, { password: resolved, tags: 'administrator' });
    await put(`/api/permissions/%2F/${encodeURIComponent(username)}`, {
      configure: '.*',
      write: '.*',
      read: '.*',
    });
  }
  return {
    type: 'AWS::AmazonMQ::Broker',
    ref: 'b-local',
    attrs: {
      Arn: arn,
      Id: 'b-local',
      AmqpEndpoints: [`amqp://${url.host}`],
      ConsoleURLs: [management.origin],
      LocalRabbitUrl: url.toString(),
      LocalEngine: 'rabbitmq',
    },
  };
};

const num = (v: unknown): number | undefined => (v === undefined || v === null ? undefined : Number(v));
const strings = (v: unknown): string[] | undefined =>
  Array.isArray(v) ? v.map((x) => String(x)) : undefined;
const bool = (v: unknown): boolean | undefined =>
  v === undefined || v === null ? undefined : v === true || v === 'true';

const alarmArn = (target: AwsTarget, name: string) =>
  `arn:aws:cloudwatch:${target.region}:${target.accountId}:alarm:${name}`;

/** Marks the state of an alarm the local cloud created (watched for state changes and actions). */
export const LOCAL_ALARM = 'LocalAlarm';

/**
 * `AWS::CloudWatch::Alarm`: PutMetricAlarm, in the single-metric form or the metric-math form
 * (`Metrics`). Ref is the alarm's name, as in CloudFormation. The emulator keeps the alarm's state
 * and answers DescribeAlarms/SetAlarmState; it does not evaluate metrics. An alarm it rejects is a
 * stand-in (its name and ARN resolve), logged.
 */
const metricAlarm: Handler = async ({ stack, logicalId, props, target, clients, log }) => {
  const name = str(props.AlarmName) ?? physicalName(stack.stackName, logicalId, 255);
  const metrics = props.Metrics as MetricDataQuery[] | undefined;
  const input: PutMetricAlarmCommandInput = {
    AlarmName: name,
    AlarmDescription: str(props.AlarmDescription),
    ActionsEnabled: bool(props.ActionsEnabled),
    AlarmActions: strings(props.AlarmActions),
    OKActions: strings(props.OKActions),
    InsufficientDataActions: strings(props.InsufficientDataActions),
    Namespace: str(props.Namespace),
    MetricName: str(props.MetricName),
    Dimensions: (props.Dimensions as { Name: unknown; Value: unknown }[] | undefined)?.map((d) => ({
      Name: String(d.Name),
      Value: String(d.Value),
    })),
    Statistic: str(props.Statistic) as PutMetricAlarmCommandInput['Statistic'],
    ExtendedStatistic: str(props.ExtendedStatistic),
    Period: num(props.Period),
    Unit: str(props.Unit) as PutMetricAlarmCommandInput['Unit'],
    Metrics: metrics?.map((m) => ({
      ...m,
      Period: num(m.Period),
      ReturnData: bool(m.ReturnData),
      MetricStat: m.MetricStat && { ...m.MetricStat, Period: num(m.MetricStat.Period) },
    })),
    EvaluationPeriods: num(props.EvaluationPeriods),
    DatapointsToAlarm: num(props.DatapointsToAlarm),
    Threshold: num(props.Threshold),
    ThresholdMetricId: str(props.ThresholdMetricId),
    ComparisonOperator: str(props.ComparisonOperator) as PutMetricAlarmCommandInput['ComparisonOperator'],
    TreatMissingData: str(props.TreatMissingData),
    EvaluateLowSampleCountPercentile: str(props.EvaluateLowSampleCountPercentile),
    Tags: props.Tags as PutMetricAlarmCommandInput['Tags'],
  };
  const arn = alarmArn(target, name);
  try {
    await clients.cloudwatch.send(new PutMetricAlarmCommand(input));
  } catch (e) {
    log(
      `${stack.stackName}/${logicalId} (AWS::CloudWatch::Alarm ${name}): the AWS emulator rejects it ` +
        `(${(e as Error).name}: ${(e as Error).message}); a stand-in, its state and actions are not emulated`,
    );
    return { type: 'AWS::CloudWatch::Alarm', ref: name, attrs: { Arn: arn, AlarmName: name } };
  }
  return {
    type: 'AWS::CloudWatch::Alarm',
    ref: name,
    attrs: { Arn: arn, AlarmName: name, [LOCAL_ALARM]: true },
  };
};

/** Whether the emulator answered that it does not implement an operation (moto: an HTML 404). */
const notImplemented = (e: unknown): boolean => {
  const err = e as Error & { $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  return (
    status === 404 ||
    status === 501 ||
    err.name === 'SyntaxError' ||
    /not (yet )?implemented|UnknownOperation|InvalidAction/i.test(`${err.name} ${err.message}`)
  );
};

/** Set once the emulator has answered that it has no PutCompositeAlarm: later ones go straight to stand-ins. */
let compositeUnsupported = false;

/**
 * `AWS::CloudWatch::CompositeAlarm`: PutCompositeAlarm. moto has none (its DescribeAlarms never
 * lists a composite), so the composite becomes a stand-in metric alarm of the same name, on a
 * metric nothing publishes, holding its description, state and actions; the runtime evaluates its
 * rule (see alarms/alarm-actions.ts) and shows it as a composite to functions (control-plane.ts).
 */
const compositeAlarm: Handler = async ({ stack, logicalId, props, target, clients, log }) => {
  const name = str(props.AlarmName) ?? physicalName(stack.stackName, logicalId, 255);
  const rule = String(props.AlarmRule ?? '');
  const actions = {
    AlarmDescription: str(props.AlarmDescription),
    ActionsEnabled: bool(props.ActionsEnabled),
    AlarmActions: strings(props.AlarmActions),
    OKActions: strings(props.OKActions),
    InsufficientDataActions: strings(props.InsufficientDataActions),
  };
  const state = (standIn: boolean): ResourceState => ({
    type: 'AWS::CloudWatch::CompositeAlarm',
    ref: name,
    attrs: {
      Arn: alarmArn(target, name),
      AlarmName: name,
      AlarmRule: rule,
      LocalCompositeStandIn: standIn,
      [LOCAL_ALARM]: true,
    },
  });
  if (!compositeUnsupported) {
    try {
      await clients.cloudwatch.send(
        new PutCompositeAlarmCommand({
          AlarmName: name,
          AlarmRule: rule,
          ...actions,
          ActionsSuppressor: str(props.ActionsSuppressor),
          ActionsSuppressorWaitPeriod: num(props.ActionsSuppressorWaitPeriod),
          ActionsSuppressorExtensionPeriod: num(props.ActionsSuppressorExtensionPeriod),
        }),
      );
      return state(false);
    } catch (e) {
      if (!notImplemented(e)) throw e;
      compositeUnsupported = true;
      log(
        'the AWS emulator has no PutCompositeAlarm: composite alarms are stand-in metric alarms of the same ' +
          'name (namespace LocalCloud/CompositeAlarm), their rules evaluated by the local cloud',
      );
    }
  }
  if (props.ActionsSuppressor !== undefined)
    log(`${stack.stackName}/${logicalId}: ActionsSuppressor is not emulated (actions are never suppressed)`);
  await clients.cloudwatch.send(
    new PutMetricAlarmCommand({
      AlarmName: name,
      ...actions,
      ...COMPOSITE_STAND_IN_METRIC,
      Statistic: 'Maximum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'ignore',
    }),
  );
  return state(true);
};

/** `AWS::CloudWatch::Dashboard`: PutDashboard. Ref is its name. */
const dashboard: Handler = async ({ stack, logicalId, props, clients, log }) => {
  const name = str(props.DashboardName) ?? physicalName(stack.stackName, logicalId, 255);
  const body = json(props.DashboardBody) ?? '{}';
  try {
    const out = await clients.cloudwatch.send(
      new PutDashboardCommand({ DashboardName: name, DashboardBody: body }),
    );
    for (const m of out.DashboardValidationMessages ?? [])
      log(`${stack.stackName}/${logicalId} (dashboard ${name}): ${m.DataPath ?? ''} ${m.Message ?? ''}`);
  } catch (e) {
    log(
      `${stack.stackName}/${logicalId} (dashboard ${name}): the AWS emulator rejects it ` +
        `(${(e as Error).name}: ${(e as Error).message}); a stand-in`,
    );
  }
  return { type: 'AWS::CloudWatch::Dashboard', ref: name, attrs: {} };
};

const HANDLERS: Record<string, Handler> = {
  'AWS::CloudWatch::Alarm': metricAlarm,
  'AWS::CloudWatch::CompositeAlarm': compositeAlarm,
  'AWS::CloudWatch::Dashboard': dashboard,
  'AWS::MSK::Cluster': mskCluster,
  'AWS::MSK::ServerlessCluster': mskCluster,
  'AWS::ElastiCache::CacheCluster': elastiCache('AWS::ElastiCache::CacheCluster'),
  'AWS::ElastiCache::ReplicationGroup': elastiCache('AWS::ElastiCache::ReplicationGroup'),
  'AWS::ElastiCache::ServerlessCache': elastiCache('AWS::ElastiCache::ServerlessCache'),
  'AWS::AmazonMQ::Broker': mqBroker,
  'AWS::SQS::Queue': queue,
  'AWS::SNS::Topic': topic,
  'AWS::SNS::Subscription': subscription,
  'AWS::DynamoDB::Table': table,
  'AWS::SecretsManager::Secret': secret,
  'AWS::S3::Bucket': bucket,
  'AWS::Lambda::Function': lambdaFunction,
  'AWS::SES::Template': emailTemplate,
};

/**
 * Types with no local effect: access control, encryption keys, networking and logging are the
 * cloud's business. They get a synthetic Ref and ARN so that templates referring to them resolve.
 */
const NO_LOCAL_EFFECT = new Set([
  'AWS::CDK::Metadata',
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::IAM::ManagedPolicy',
  'AWS::KMS::Key',
  'AWS::KMS::Alias',
  'AWS::Logs::LogGroup',
  'AWS::SQS::QueuePolicy',
  'AWS::SNS::TopicPolicy',
  'AWS::Lambda::Permission',
  'AWS::Lambda::EventInvokeConfig',
  'AWS::Lambda::EventSourceMapping',
  'AWS::Lambda::Version',
  'AWS::Lambda::Alias',
  'AWS::SecretsManager::SecretTargetAttachment',
  'AWS::S3::BucketPolicy',
  'AWS::ApiGateway::RestApi',
  'AWS::ApiGateway::Resource',
  'AWS::ApiGateway::Method',
  'AWS::ApiGateway::Deployment',
  'AWS::ApiGateway::Stage',
  'AWS::ApiGateway::Account',
  'AWS::ApiGateway::RequestValidator',
  'AWS::ApiGateway::Model',
  'AWS::ApiGateway::Authorizer',
  'AWS::ApiGateway::UsagePlan',
  'AWS::ApiGateway::GatewayResponse',
  'AWS::Events::Rule',
  'AWS::ElastiCache::SubnetGroup',
  'AWS::ElastiCache::User',
  'AWS::ElastiCache::UserGroup',
  'AWS::MSK::Configuration',
  'AWS::AmazonMQ::Configuration',
  'AWS::AmazonMQ::ConfigurationAssociation',
  'AWS::Cognito::UserPool',
  'AWS::Cognito::UserPoolClient',
]);

/** Marks the stand-in state of a resource with no local effect: any attribute of it resolves. */
export const SYNTHETIC = '__localStandIn';

/** An attribute of a provisioned resource, or a placeholder for one of a stand-in. */
export function attributeOf(state: ResourceState | undefined, attribute: string): unknown {
  if (!state) return undefined;
  const value = state.attrs[attribute];
  return value !== undefined ? value : state.attrs[SYNTHETIC] ? `${state.ref}.${attribute}` : undefined;
}

/** Networking: meaningful in a VPC only, so the local machine stands in for it. */
const NETWORK_PREFIX = 'AWS::EC2::';

function syntheticState(type: string, stack: StackArtifact, logicalId: string, props: Props, t: AwsTarget) {
  const name = physicalName(stack.stackName, logicalId);
  const service = type.split('::')[1]?.toLowerCase() ?? 'local';
  const attrs: Record<string, unknown> = {
    [SYNTHETIC]: true,
    Arn: `arn:aws:${service}:${t.region}:${t.accountId}:${type.split('::')[2]?.toLowerCase()}/${name}`,
  };
  if (type === 'AWS::Logs::LogGroup') {
    const groupName = str(props.LogGroupName) ?? `/local/${name}`;
    return {
      type,
      ref: groupName,
      attrs: { [SYNTHETIC]: true, Arn: `arn:aws:logs:${t.region}:${t.accountId}:log-group:${groupName}:*` },
    };
  }
  if (type === 'AWS::IAM::Role') {
    attrs.Arn = `arn:aws:iam::${t.accountId}:role/${name}`;
    attrs.RoleId = name;
  }
  if (type === 'AWS::KMS::Key') attrs.KeyId = name;
  if (type === 'AWS::ApiGateway::RestApi') attrs.RootResourceId = `${name}-root`;
  if (type === 'AWS::EC2::SecurityGroup') attrs.GroupId = `sg-${name.slice(-8).toLowerCase()}`;
  if (type === 'AWS::EC2::VPC') attrs.CidrBlock = str(props.CidrBlock) ?? '10.0.0.0/16';
  return { type, ref: name, attrs };
}

function dependsOn(resource: CfnResource): string[] {
  const d = resource.DependsOn;
  return d === undefined ? [] : Array.isArray(d) ? d : [d];
}

/** A custom resource whose properties resolved, handed to {@link ProvisionOptions.customResource}. */
export interface CustomResourceArgs {
  readonly stack: StackArtifact;
  readonly logicalId: string;
  readonly resource: CfnResource;
  readonly props: Props;
}

export interface ProvisionOptions {
  readonly clients?: Clients;
  readonly log?: (line: string) => void;
  readonly engines?: LocalEngines;
  /** Where to record the resources (a new registry by default). */
  readonly registry?: Registry;
  /**
   * Applies a custom resource (`Custom::*`, `AWS::CloudFormation::CustomResource`) and returns its
   * state; undefined leaves it a stand-in. Errors fail the provisioning, as a failed custom
   * resource fails a deployment.
   */
  readonly customResource?: (args: CustomResourceArgs) => Promise<ResourceState | undefined>;
  /** Runs once a stack's resources and outputs are provisioned (CloudFormation's cleanup phase). */
  readonly afterStack?: (stack: StackArtifact) => Promise<void>;
}

/**
 * Provisions every stack of the assembly on an AWS-compatible endpoint, in dependency order, and
 * returns what it made. Unresolvable references and unsupported types are findings, not crashes.
 */
export async function provision(
  stacks: readonly StackArtifact[],
  target: AwsTarget,
  options: ProvisionOptions = {},
): Promise<ProvisionResult> {
  const clients = options.clients ?? awsClients(target);
  const registry = options.registry ?? new Registry();
  const provisioned: Finding[] = [];
  const unsupported: Finding[] = [];

  for (const stack of stacks) {
    const ctx: ResolveContext = {
      stackName: stack.stackName,
      region: target.region,
      accountId: target.accountId,
      ref: (id) => registry.get(stack.stackName, id)?.ref ?? parameterDefault(stack, id),
      getAtt: (id, attr) => attributeOf(registry.get(stack.stackName, id), attr),
      importValue: (name) => registry.exports.get(name),
      stackOutput: (stack, output) => registry.outputs[stack]?.[output],
    };
    let pending = Object.entries(stack.template.Resources);
    /** Custom resources waiting for their properties (their ServiceToken's function, say). */
    const unresolvedCustom = new Set<string>();
    const standIn = (logicalId: string, resource: CfnResource, props: Props) =>
      registry.set(
        stack.stackName,
        logicalId,
        syntheticState(resource.Type, stack, logicalId, props, target),
      );
    while (pending.length > 0) {
      const next: typeof pending = [];
      const blocked = new Map<string, string>();
      for (const [logicalId, resource] of pending) {
        if (dependsOn(resource).some((d) => !registry.get(stack.stackName, d))) {
          next.push([logicalId, resource]);
          blocked.set(logicalId, `waits for ${dependsOn(resource).join(', ')}`);
          continue;
        }
        const handler = HANDLERS[resource.Type];
        const custom = isCustomResourceType(resource.Type);
        let props: Props;
        try {
          props = (resolve(resource.Properties ?? {}, ctx, `${logicalId}.Properties`) ?? {}) as Props;
        } catch (e) {
          if (!(e instanceof UnresolvableError)) throw e;
          if (handler || custom) {
            next.push([logicalId, resource]);
            blocked.set(logicalId, e.message);
            if (custom) unresolvedCustom.add(logicalId);
            continue;
          }
          // Resources with no local effect need no exact values; their stand-in is enough.
          props = (resource.Properties ?? {}) as Props;
        }
        unresolvedCustom.delete(logicalId);
        const finding = { stackName: stack.stackName, logicalId, type: resource.Type };
        const applied = custom
          ? await options.customResource?.({ stack, logicalId, resource, props })
          : undefined;
        if (applied) {
          registry.set(stack.stackName, logicalId, applied);
          provisioned.push({ ...finding, message: applied.ref });
        } else if (handler) {
          const state = await handler({
            stack,
            logicalId,
            props,
            target,
            clients,
            engines: options.engines ?? {},
            log: options.log ?? (() => undefined),
          });
          registry.set(stack.stackName, logicalId, state);
          provisioned.push({ ...finding, message: state.ref });
        } else {
          standIn(logicalId, resource, props);
          const known =
            NO_LOCAL_EFFECT.has(resource.Type) || resource.Type.startsWith(NETWORK_PREFIX) || custom;
          if (!known) {
            unsupported.push({
              ...finding,
              message: `resource type ${resource.Type} is not emulated locally`,
            });
          }
        }
      }
      const stuckCustom = next.find(([logicalId]) => unresolvedCustom.has(logicalId));
      if (next.length === pending.length && stuckCustom) {
        // A custom resource whose properties never resolve is not run: a stand-in, as before custom
        // resources were run, and what waits for it may go on.
        const [logicalId, resource] = stuckCustom;
        options.log?.(
          `${stack.stackName}/${logicalId} (${resource.Type}) is not run, its properties do not resolve: ${blocked.get(logicalId)}`,
        );
        unresolvedCustom.delete(logicalId);
        standIn(logicalId, resource, (resource.Properties ?? {}) as Props);
        pending = next.filter(([id]) => id !== logicalId);
        continue;
      }
      if (next.length === pending.length) {
        // No progress: what is left references something that will never exist.
        for (const [logicalId, resource] of next) {
          unsupported.push({
            stackName: stack.stackName,
            logicalId,
            type: resource.Type,
            message: blocked.get(logicalId) ?? 'unresolvable',
          });
        }
        break;
      }
      pending = next;
    }
    const outputs: Record<string, string> = {};
    for (const [outputId, output] of Object.entries(stack.template.Outputs ?? {})) {
      try {
        const value = String(resolve(output.Value, ctx));
        outputs[outputId] = value;
        if (output.Export) registry.exports.set(String(resolve(output.Export.Name, ctx)), value);
      } catch (e) {
        if (!(e instanceof UnresolvableError)) throw e;
      }
    }
    registry.outputs[stack.stackName] = outputs;
    await options.afterStack?.(stack);
    options.log?.(`provisioned ${stack.stackName}`);
  }
  return { registry, provisioned, unsupported };
}

function parameterDefault(stack: StackArtifact, id: string): string | undefined {
  const p = stack.template.Parameters?.[id];
  return p?.Default === undefined ? undefined : String(p.Default);
}

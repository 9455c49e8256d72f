import { CustomResource, Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as amazonmq from 'aws-cdk-lib/aws-amazonmq';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { type BrokerDefinitions, validateDefinitions } from '../../lambdas/broker/domain/definitions.js';
import { lambdaEntry } from '../lambda-entry.js';
import { PlatformFunction } from './platform-function.js';
import { acknowledgeOpenEgress, dataSubnets } from './vpc-placement.js';

/** AMQP over TLS, and the management API (HTTPS) of an Amazon MQ for RabbitMQ broker. */
export const AMQPS_PORT = 5671;
export const MANAGEMENT_PORT = 443;

export interface RabbitMqBrokerProps {
  readonly vpc: ec2.IVpc;
  /** @default - the VPC's isolated subnets, else its private ones (one for a single instance) */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** One broker, or a three-node cluster across AZs. @default 'SINGLE_INSTANCE' */
  readonly deploymentMode?: 'SINGLE_INSTANCE' | 'CLUSTER_MULTI_AZ';
  /** @default 'mq.t3.micro' for a single instance, 'mq.m5.large' for a cluster */
  readonly instanceType?: string;
  /** @default '3.13' */
  readonly engineVersion?: string;
  /** Exchanges, queues and bindings, applied at deploy and kept in step on every update. */
  readonly definitions: BrokerDefinitions;
  /** Where the definitions function runs (it needs Secrets Manager: NAT or an endpoint). @default - private subnets with egress, else isolated */
  readonly functionSubnets?: ec2.SubnetSelection;
  /** The application user's name (its password is generated in Secrets Manager). @default 'platform-app' */
  readonly appUsername?: string;
  /** Log retention of the definitions function. @default logs.RetentionDays.TWO_WEEKS */
  readonly logRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
}

export interface RabbitMqEventSourceOptions {
  readonly queue: string;
  /** @default 100 */
  readonly batchSize?: number;
  /** @default Duration.seconds(0) */
  readonly maxBatchingWindow?: Duration;
}

/**
 * Amazon MQ for RabbitMQ, first-class: a private broker (never publicly accessible) in the data
 * subnets, single instance or a Multi-AZ cluster, general logs in CloudWatch, encrypted at rest
 * (Amazon MQ for RabbitMQ uses AWS-owned keys) and reached over TLS only (AMQPS, HTTPS). The admin
 * and application credentials are generated in Secrets Manager and never appear in the template.
 * Its definitions (vhost, exchanges, queues with dead-letter exchanges, bindings) are validated at
 * synth and applied at deploy by a custom resource through the management API, which also
 * creates the application user with read/write rights on the vhost.
 *
 * aws-cdk-lib has no L2 for Amazon MQ and no event source for it; `addEventSource` is ours.
 */
export class RabbitMqBroker extends Construct {
  readonly broker: amazonmq.CfnBroker;
  readonly brokerArn: string;
  /** The broker's name (its CloudWatch `Broker` dimension). */
  readonly brokerName: string;
  readonly securityGroup: ec2.SecurityGroup;
  readonly connections: ec2.Connections;
  readonly adminSecret: secretsmanager.Secret;
  /** `{username, password}` of the application user (what functions and event sources use). */
  readonly appSecret: secretsmanager.Secret;
  /** `amqps://<host>:5671` (the first endpoint), once the definitions are applied. */
  readonly amqpEndpoint: string;
  /** `https://<host>` of the management API and console. */
  readonly managementUrl: string;
  readonly virtualHost: string;
  readonly definitions: BrokerDefinitions;
  readonly definitionsResource: CustomResource;
  readonly vpc: ec2.IVpc;

  constructor(scope: Construct, id: string, props: RabbitMqBrokerProps) {
    super(scope, id);
    const problems = validateDefinitions(props.definitions);
    if (problems.length > 0) {
      throw new Error(
        `${this.node.path}: RabbitMQ would refuse these definitions:\n- ${problems.join('\n- ')}`,
      );
    }
    this.definitions = props.definitions;
    this.virtualHost = props.definitions.vhost;
    this.vpc = props.vpc;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    const mode = props.deploymentMode ?? 'SINGLE_INSTANCE';
    const name = `${Stack.of(this).stackName}-${id}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 50);
    this.brokerName = name;
    const subnets = dataSubnets(props.vpc, props.vpcSubnets);
    const subnetIds = mode === 'SINGLE_INSTANCE' ? subnets.subnetIds.slice(0, 1) : subnets.subnetIds;

    const credentials = (description: string, username: string) =>
      new secretsmanager.Secret(this, `${username === 'admin' ? 'Admin' : 'App'}Secret`, {
        description,
        removalPolicy,
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ username }),
          generateStringKey: 'password',
          // Amazon MQ: 12-250 characters, no commas, colons or equal signs.
          excludePunctuation: true,
          passwordLength: 32,
        },
      });
    this.adminSecret = credentials(`Administrator of ${name}`, 'admin');
    this.appSecret = credentials(`Application user of ${name}`, props.appUsername ?? 'platform-app');
    Validations.of(this.adminSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        "An Amazon MQ broker user's password changes through UpdateUser and takes effect at the next reboot, which Secrets Manager rotation does not drive; rotation is an operator runbook step.",
    });
    Validations.of(this.appSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The application user is (re)created by the definitions custom resource from this secret on every deploy; rotating it is a deploy after a new secret value, not a rotation Lambda.',
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `${name}: AMQPS and HTTPS clients only`,
      allowAllOutbound: false,
    });
    // A retained broker keeps using its security group: retain it too, or a stack delete fails.
    this.securityGroup.applyRemovalPolicy(removalPolicy);
    this.connections = new ec2.Connections({
      securityGroups: [this.securityGroup],
      defaultPort: ec2.Port.tcp(AMQPS_PORT),
    });
    // Lambda's pollers for the event source run with the broker's security group: they reach the
    // broker through it, and Lambda, STS and Secrets Manager through the VPC's endpoints.
    this.connections.allowInternally(ec2.Port.tcp(AMQPS_PORT), 'Event source pollers to the broker');
    this.securityGroup.addEgressRule(this.securityGroup, ec2.Port.tcp(AMQPS_PORT), 'Pollers to the broker');
    this.securityGroup.addEgressRule(
      ec2.Peer.ipv4(props.vpc.vpcCidrBlock),
      ec2.Port.tcp(443),
      'Pollers to AWS endpoints',
    );

    this.broker = new amazonmq.CfnBroker(this, 'Broker', {
      brokerName: name,
      engineType: 'RABBITMQ',
      engineVersion: props.engineVersion ?? '3.13',
      deploymentMode: mode,
      hostInstanceType: props.instanceType ?? (mode === 'SINGLE_INSTANCE' ? 'mq.t3.micro' : 'mq.m5.large'),
      publiclyAccessible: false,
      subnetIds,
      securityGroups: [this.securityGroup.securityGroupId],
      autoMinorVersionUpgrade: true,
      logs: { general: true },
      encryptionOptions: { useAwsOwnedKey: true },
      users: [
        {
          username: 'admin',
          password: this.adminSecret.secretValueFromJson('password').unsafeUnwrap(),
        },
      ],
      maintenanceWindowStartTime: { dayOfWeek: 'SUNDAY', timeOfDay: '03:00', timeZone: 'UTC' },
    });
    this.broker.applyRemovalPolicy(removalPolicy);
    this.brokerArn = this.broker.attrArn;
    this.managementUrl = Fn.select(0, this.broker.attrConsoleUrLs);

    // General logs go to /aws/amazonmq/broker/<id>/general, a group Amazon MQ creates itself
    // (declaring it here would race with it).

    const definitionsFunction = new PlatformFunction(this, 'Definitions', {
      entry: lambdaEntry('broker/handlers/rabbitmq-definitions.ts'),
      serviceName: 'broker',
      description: `Custom resource: applies the RabbitMQ definitions of ${name}`,
      timeout: Duration.minutes(2),
      vpc: props.vpc,
      vpcSubnets:
        props.functionSubnets ??
        (props.vpc.privateSubnets.length > 0
          ? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }
          : { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }),
      logRetention: props.logRetention,
    });
    definitionsFunction.function.connections.allowTo(
      this.connections,
      ec2.Port.tcp(MANAGEMENT_PORT),
      'Management API',
    );
    acknowledgeOpenEgress(definitionsFunction.function);
    this.adminSecret.grantRead(definitionsFunction.function);
    this.appSecret.grantRead(definitionsFunction.function);
    this.definitionsResource = new CustomResource(this, 'DefinitionsResource', {
      serviceToken: definitionsFunction.function.functionArn,
      resourceType: 'Custom::RabbitMqDefinitions',
      // A retained broker keeps its definitions: deleting the stack must not empty it.
      removalPolicy,
      properties: {
        AmqpEndpoint: Fn.select(0, this.broker.attrAmqpEndpoints),
        ManagementUrl: this.managementUrl,
        AdminSecretArn: this.adminSecret.secretArn,
        AppUserSecretArn: this.appSecret.secretArn,
        Definitions: props.definitions,
      },
    });
    // A string attribute (the broker's own is a list, which cross-stack references cannot carry).
    this.amqpEndpoint = this.definitionsResource.getAttString('AmqpEndpoint');
  }

  /** Lets a function publish and consume as the application user: network path, secret, environment. */
  grantConnect(fn: lambda.Function): void {
    fn.connections.allowTo(this.connections, ec2.Port.tcp(AMQPS_PORT), 'AMQPS clients');
    acknowledgeOpenEgress(fn);
    this.appSecret.grantRead(fn);
    fn.addEnvironment('RABBITMQ_ENDPOINT', this.amqpEndpoint);
    fn.addEnvironment('RABBITMQ_VHOST', this.virtualHost);
    fn.addEnvironment('RABBITMQ_SECRET_ARN', this.appSecret.secretArn);
  }

  /**
   * A Lambda event source on one of the broker's queues: Lambda polls it as the application user
   * (BASIC_AUTH secret) in the broker's vhost, and acknowledges a batch when the function succeeds.
   */
  addEventSource(fn: lambda.Function, options: RabbitMqEventSourceOptions): lambda.CfnEventSourceMapping {
    if (!this.definitions.queues.some((q) => q.name === options.queue)) {
      throw new Error(`${this.node.path}: no queue "${options.queue}" in the broker's definitions`);
    }
    // In the function's scope (and stack): the broker's stack never depends on its consumers.
    const mapping = new lambda.CfnEventSourceMapping(fn, `RabbitMqSource-${options.queue}`, {
      functionName: fn.functionName,
      eventSourceArn: this.brokerArn,
      queues: [options.queue],
      batchSize: options.batchSize ?? 100,
      maximumBatchingWindowInSeconds: (options.maxBatchingWindow ?? Duration.seconds(0)).toSeconds(),
      sourceAccessConfigurations: [
        { type: 'BASIC_AUTH', uri: this.appSecret.secretArn },
        { type: 'VIRTUAL_HOST', uri: this.virtualHost },
      ],
    });
    Validations.of(mapping).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason:
        'Amazon MQ event sources take no on-failure destination: a failed batch goes back to the broker, and the queue’s dead-letter exchange and delivery limit (quorum queues) take what keeps failing.',
    });
    // The queue must exist before Lambda starts polling it.
    mapping.node.addDependency(this.definitionsResource);
    // What Lambda's RabbitMQ poller needs from the function's role.
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['mq:DescribeBroker'], resources: [this.brokerArn] }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:DeleteNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeVpcs',
          'ec2:DescribeSubnets',
          'ec2:DescribeSecurityGroups',
        ],
        resources: ['*'],
      }),
    );
    this.appSecret.grantRead(fn);
    return mapping;
  }

  /** Messages held by the broker (ready and unacknowledged, every queue). */
  metricMessageCount(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('MessageCount', { statistic: 'Maximum', ...props });
  }

  /** Memory in use as a percentage of RabbitMQ's memory limit (its high watermark). */
  metricMemoryPercent(props: cloudwatch.MetricOptions = {}): cloudwatch.IMetric {
    return new cloudwatch.MathExpression({
      expression: '100 * used / limit',
      usingMetrics: {
        used: this.metric('RabbitMQMemUsed', { statistic: 'Maximum', ...props }),
        limit: this.metric('RabbitMQMemLimit', { statistic: 'Minimum', ...props }),
      },
      label: 'RabbitMQ memory used (%)',
      ...(props.period ? { period: props.period } : {}),
    });
  }

  private metric(metricName: string, props: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/AmazonMQ',
      metricName,
      dimensionsMap: { Broker: this.brokerName },
      ...props,
    });
  }
}

import {
  CfnOutput,
  CustomResource,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ANALYTICS_TOPICS } from '../../lambdas/analytics/domain/activity.js';
import { windowSpecs } from '../../lambdas/analytics/domain/window-config.js';
import type { StageConfig } from '../config/stage-config.js';
import { KafkaCluster, MSK_IAM_PORT } from '../constructs/kafka-cluster.js';
import { PlatformFunction, type PlatformFunctionProps } from '../constructs/platform-function.js';
import { RedisCache } from '../constructs/redis-cache.js';
import { acknowledgeOpenEgress } from '../constructs/vpc-placement.js';
import { lambdaEntry } from '../lambda-entry.js';
import { SUBNET_GROUPS } from '../network/platform-network.js';

export interface AnalyticsStackProps extends StackProps {
  readonly config: StageConfig;
  readonly vpc: ec2.IVpc;
}

/**
 * Real-time analytics: the MSK cluster and its topics, the Redis cache that holds window state
 * (and, in issue 7, the task queue), and the windowing function on the `user_activity` stream.
 * Stateful brokers and caches live here, apart from the APIs that use them (Services stack).
 */
export class AnalyticsStack extends Stack {
  readonly kafka: KafkaCluster;
  readonly redis: RedisCache;
  /** The topics custom resource; its `BootstrapBrokers` attribute is the IAM bootstrap string. */
  readonly topics: CustomResource;
  readonly windowing: PlatformFunction;
  readonly vpc: ec2.IVpc;
  /** JSON of the window specs every analytics function reads (`WINDOW_SPECS`). */
  readonly windowSpecsJson: string;
  private readonly config: StageConfig;

  constructor(scope: Construct, id: string, props: AnalyticsStackProps) {
    super(scope, id, props);
    const { config, vpc } = props;
    const a = config.analytics;
    this.vpc = vpc;
    this.config = config;
    const removalPolicy = config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const dataSubnets = { subnetGroupName: SUBNET_GROUPS.data };

    this.kafka = new KafkaCluster(this, 'Kafka', {
      vpc,
      vpcSubnets: dataSubnets,
      mode: a.kafka.mode,
      provisioned: {
        instanceType: a.kafka.instanceType,
        brokerNodes: a.kafka.brokerNodes,
        volumeSizeGiB: a.kafka.volumeSizeGiB,
      },
      logRetention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy,
    });
    this.redis = new RedisCache(this, 'Redis', {
      vpc,
      vpcSubnets: dataSubnets,
      mode: a.redis.mode,
      nodeType: a.redis.nodeType,
      replicas: a.redis.replicas,
      maxDataStorageGb: a.redis.maxDataStorageGb,
      removalPolicy,
    });

    // Topics, created at deploy. Serverless clusters manage replication themselves.
    const retentionMs = String(a.topics.retentionHours * 3600 * 1000);
    const replication =
      a.kafka.mode === 'provisioned' ? { replicationFactor: a.topics.replicationFactor } : {};
    const topicSpecs = [
      {
        name: ANALYTICS_TOPICS.userActivity,
        partitions: a.topics.partitions,
        configs: { 'retention.ms': retentionMs },
      },
      {
        name: ANALYTICS_TOPICS.userMetrics,
        partitions: a.topics.partitions,
        configs: { 'retention.ms': retentionMs },
      },
      {
        name: ANALYTICS_TOPICS.lateEvents,
        partitions: a.topics.partitions,
        configs: { 'retention.ms': retentionMs },
      },
      // Dead letters are kept longer: someone has to look at them.
      {
        name: ANALYTICS_TOPICS.deadLetter,
        partitions: 1,
        configs: { 'retention.ms': String(Math.max(a.topics.retentionHours, 14 * 24) * 3600 * 1000) },
      },
    ].map((t) => ({ ...t, ...replication }));
    const topicsFunction = this.analyticsFunction('KafkaTopics', {
      entry: lambdaEntry('analytics/handlers/kafka-topics.ts'),
      serviceName: 'analytics',
      description: 'Custom resource: creates and configures the analytics Kafka topics',
      timeout: Duration.minutes(5),
    });
    topicsFunction.function.connections.allowToDefaultPort(this.kafka.connections, 'Topics custom resource');
    acknowledgeOpenEgress(topicsFunction.function);
    this.kafka.grantTopicAdmin(
      topicsFunction.function,
      topicSpecs.map((t) => t.name),
    );
    this.topics = new CustomResource(this, 'Topics', {
      serviceToken: topicsFunction.function.functionArn,
      resourceType: 'Custom::KafkaTopics',
      properties: { ClusterArn: this.kafka.clusterArn, Topics: topicSpecs },
    });

    this.windowSpecsJson = JSON.stringify(windowSpecs(a.windows));
    this.windowing = this.analyticsFunction('Windowing', {
      entry: lambdaEntry('analytics/handlers/window-activity.ts'),
      serviceName: 'analytics',
      description: 'Aggregates user activity by event time in tumbling and hopping windows',
      timeout: Duration.seconds(60),
      memorySize: 1024,
      environment: { WINDOW_SPECS: this.windowSpecsJson, RESULTS_PER_USER: String(a.resultsPerUser) },
    });
    this.grantProduce(this.windowing, [
      ANALYTICS_TOPICS.userMetrics,
      ANALYTICS_TOPICS.lateEvents,
      ANALYTICS_TOPICS.deadLetter,
    ]);
    this.redis.grantConnect(this.windowing.function);
    this.kafka.grantConsume(this.windowing.function, [ANALYTICS_TOPICS.userActivity], a.consumer.groupId);
    // What Lambda's MSK poller needs from the function's role (inline: no managed policy).
    this.windowing.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kafka:DescribeCluster', 'kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers'],
        resources: [this.kafka.clusterArn],
      }),
    );
    this.windowing.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ec2:DescribeVpcs', 'ec2:DescribeSecurityGroups'],
        resources: ['*'],
      }),
    );
    const mapping = new lambda.EventSourceMapping(this, 'UserActivityMapping', {
      target: this.windowing.function,
      eventSourceArn: this.kafka.clusterArn,
      kafkaTopic: ANALYTICS_TOPICS.userActivity,
      kafkaConsumerGroupId: a.consumer.groupId,
      startingPosition: lambda.StartingPosition[a.consumer.startingPosition],
      batchSize: a.consumer.batchSize,
      maxBatchingWindow: Duration.seconds(a.consumer.maxBatchingWindowSeconds),
    });
    mapping.node.addDependency(this.topics);
    Validations.of(mapping).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason:
        'The windowing function sends undecodable records to the user_activity_dlt topic itself and fails only on Redis or Kafka outages; those batches must be retried until they succeed (the store makes retries exact), never dropped to a destination.',
    });
    // Lambda's MSK pollers run in the cluster's subnets with the cluster's security group: they
    // reach the brokers through it, and Lambda and STS through the VPC's interface endpoints.
    this.kafka.connections.allowInternally(ec2.Port.tcp(MSK_IAM_PORT), 'Lambda MSK pollers to brokers');
    this.kafka.securityGroup.addEgressRule(
      this.kafka.securityGroup,
      ec2.Port.tcp(MSK_IAM_PORT),
      'Pollers to brokers',
    );
    this.kafka.securityGroup.addEgressRule(
      ec2.Peer.ipv4(vpc.vpcCidrBlock),
      ec2.Port.tcp(443),
      'Pollers to Lambda and STS endpoints',
    );

    new CfnOutput(this, 'KafkaClusterArn', { value: this.kafka.clusterArn });
    new CfnOutput(this, 'KafkaBootstrapBrokers', { value: this.bootstrapBrokers });
    new CfnOutput(this, 'RedisEndpoint', {
      value: `${this.redis.endpointAddress}:${this.redis.endpointPort}`,
    });
  }

  get bootstrapBrokers(): string {
    return this.topics.getAttString('BootstrapBrokers');
  }

  /** A function in the VPC's app subnets, as every analytics function is. */
  analyticsFunction(
    id: string,
    props: Omit<PlatformFunctionProps, 'vpc' | 'logRetention'>,
    scope: Construct = this,
  ) {
    return new PlatformFunction(scope, id, {
      ...props,
      vpc: this.vpc,
      vpcSubnets: { subnetGroupName: SUBNET_GROUPS.app },
      logRetention: this.config.logRetentionDays as logs.RetentionDays,
    });
  }

  /** Produce to these topics: IAM, network path to the brokers, and the brokers in the environment. */
  grantProduce(fn: PlatformFunction, topics: readonly string[]): void {
    this.kafka.grantProduce(fn.function, topics);
    // From the client's side: the rule lives in the client's stack, so no stack depends back on it.
    fn.function.connections.allowToDefaultPort(this.kafka.connections, 'Kafka clients (IAM)');
    acknowledgeOpenEgress(fn.function);
    fn.addEnvironment('KAFKA_BOOTSTRAP_BROKERS', this.bootstrapBrokers);
  }

  /** Read the analytics results in Redis. */
  grantReadResults(fn: PlatformFunction): void {
    this.redis.grantConnect(fn.function);
    fn.addEnvironment('WINDOW_SPECS', this.windowSpecsJson);
  }
}

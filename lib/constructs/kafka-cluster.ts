import { Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as msk from 'aws-cdk-lib/aws-msk';
import { Construct } from 'constructs';
import { dataSubnets } from './vpc-placement.js';

/** MSK's port for IAM-authenticated TLS clients (provisioned and serverless). */
export const MSK_IAM_PORT = 9098;

export interface ProvisionedKafkaProps {
  /** @default '3.8.x' */
  readonly kafkaVersion?: string;
  /** @default 'kafka.m7g.large' */
  readonly instanceType?: string;
  /** A multiple of the number of subnets. @default one per subnet */
  readonly brokerNodes?: number;
  /** EBS volume per broker. @default 100 */
  readonly volumeSizeGiB?: number;
}

export interface KafkaClusterProps {
  readonly vpc: ec2.IVpc;
  /** @default - the VPC's isolated subnets, else its private ones */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** MSK Serverless (no capacity to manage) or a provisioned cluster. @default 'serverless' */
  readonly mode?: 'serverless' | 'provisioned';
  /** Physical name; part of every topic and group ARN. @default - from the construct path */
  readonly clusterName?: string;
  /** Only for `provisioned`. */
  readonly provisioned?: ProvisionedKafkaProps;
  /** At-rest key of a provisioned cluster (serverless always encrypts with an AWS key). @default - a new key with rotation */
  readonly encryptionKey?: kms.IKey;
  /** Broker logs of a provisioned cluster. @default logs.RetentionDays.TWO_WEEKS */
  readonly logRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * An MSK cluster that only IAM-authenticated clients reach, over TLS, in the VPC's data subnets:
 * serverless, or provisioned with TLS between brokers, a customer-managed at-rest key, broker logs
 * in CloudWatch and per-partition monitoring. Clients are let in by `connections` and given IAM
 * rights topic by topic and group by group.
 */
export class KafkaCluster extends Construct {
  readonly clusterArn: string;
  readonly clusterName: string;
  readonly mode: 'serverless' | 'provisioned';
  readonly securityGroup: ec2.SecurityGroup;
  readonly connections: ec2.Connections;
  readonly encryptionKey?: kms.IKey;
  readonly brokerLogGroup?: logs.LogGroup;
  /** The `<cluster name>/<uuid>` part of topic and group ARNs. */
  private readonly resourcePath: string;

  constructor(scope: Construct, id: string, props: KafkaClusterProps) {
    super(scope, id);
    this.mode = props.mode ?? 'serverless';
    this.clusterName =
      props.clusterName ??
      `${Stack.of(this).stackName}-${id}`
        .replace(/[^A-Za-z0-9-]/g, '-')
        .slice(0, 64)
        .toLowerCase();
    const subnets = dataSubnets(props.vpc, props.vpcSubnets);
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `Brokers of ${this.clusterName}: IAM/TLS clients only`,
      allowAllOutbound: false,
    });
    this.connections = new ec2.Connections({
      securityGroups: [this.securityGroup],
      defaultPort: ec2.Port.tcp(MSK_IAM_PORT),
    });
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    // A retained cluster keeps using its security group: retain it too, or a stack delete fails.
    this.securityGroup.applyRemovalPolicy(removalPolicy);

    if (this.mode === 'serverless') {
      const cluster = new msk.CfnServerlessCluster(this, 'Cluster', {
        clusterName: this.clusterName,
        clientAuthentication: { sasl: { iam: { enabled: true } } },
        vpcConfigs: [{ subnetIds: subnets.subnetIds, securityGroups: [this.securityGroup.securityGroupId] }],
      });
      cluster.applyRemovalPolicy(removalPolicy);
      this.clusterArn = cluster.attrArn;
    } else {
      const p = props.provisioned ?? {};
      const brokerNodes = p.brokerNodes ?? subnets.subnetIds.length;
      if (!Number.isInteger(brokerNodes) || brokerNodes < 1 || brokerNodes % subnets.subnetIds.length !== 0) {
        throw new Error(
          `${this.node.path}: brokerNodes (${brokerNodes}) must be a multiple of the subnets (${subnets.subnetIds.length})`,
        );
      }
      this.encryptionKey =
        props.encryptionKey ??
        new kms.Key(this, 'Key', {
          enableKeyRotation: true,
          description: `Encrypts ${this.node.path}`,
          removalPolicy,
        });
      this.brokerLogGroup = new logs.LogGroup(this, 'BrokerLogs', {
        retention: props.logRetention ?? logs.RetentionDays.TWO_WEEKS,
        removalPolicy,
      });
      // Brokers replicate to each other on the same group.
      this.securityGroup.connections.allowInternally(ec2.Port.allTcp(), 'Broker to broker');
      this.securityGroup.addEgressRule(this.securityGroup, ec2.Port.allTcp(), 'Broker to broker');
      const cluster = new msk.CfnCluster(this, 'Cluster', {
        clusterName: this.clusterName,
        kafkaVersion: p.kafkaVersion ?? '3.8.x',
        numberOfBrokerNodes: brokerNodes,
        brokerNodeGroupInfo: {
          instanceType: p.instanceType ?? 'kafka.m7g.large',
          clientSubnets: subnets.subnetIds,
          securityGroups: [this.securityGroup.securityGroupId],
          storageInfo: { ebsStorageInfo: { volumeSize: p.volumeSizeGiB ?? 100 } },
        },
        clientAuthentication: { sasl: { iam: { enabled: true } }, unauthenticated: { enabled: false } },
        encryptionInfo: {
          encryptionAtRest: { dataVolumeKmsKeyId: this.encryptionKey.keyArn },
          encryptionInTransit: { clientBroker: 'TLS', inCluster: true },
        },
        enhancedMonitoring: 'PER_TOPIC_PER_PARTITION',
        loggingInfo: {
          brokerLogs: { cloudWatchLogs: { enabled: true, logGroup: this.brokerLogGroup.logGroupName } },
        },
      });
      cluster.applyRemovalPolicy(removalPolicy);
      this.clusterArn = cluster.attrArn;
    }
    // arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>
    const parts = Fn.split('/', this.clusterArn, 3);
    this.resourcePath = `${Fn.select(1, parts)}/${Fn.select(2, parts)}`;
  }

  private arn(kind: 'topic' | 'group' | 'transactional-id', name: string): string {
    return Stack.of(this).formatArn({
      service: 'kafka',
      resource: kind,
      resourceName: `${this.resourcePath}/${name}`,
    });
  }

  topicArn(topic: string): string {
    return this.arn('topic', topic);
  }

  groupArn(group: string): string {
    return this.arn('group', group);
  }

  /** Connect (IAM) and describe the cluster. */
  grantConnect(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'],
      resourceArns: [this.clusterArn],
    });
  }

  /** Write to these topics, as an idempotent producer. */
  grantProduce(grantee: iam.IGrantable, topics: readonly string[]): void {
    this.grantConnect(grantee);
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kafka-cluster:WriteDataIdempotently'],
      resourceArns: [this.clusterArn],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
      resourceArns: topics.map((t) => this.topicArn(t)),
    });
  }

  /** Read these topics in this consumer group (what an MSK event source mapping needs). */
  grantConsume(grantee: iam.IGrantable, topics: readonly string[], group: string): void {
    this.grantConnect(grantee);
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kafka-cluster:DescribeClusterDynamicConfiguration'],
      resourceArns: [this.clusterArn],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
      resourceArns: topics.map((t) => this.topicArn(t)),
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'],
      resourceArns: [this.groupArn(group)],
    });
  }

  /** Create, describe and configure these topics (the topics custom resource). */
  grantTopicAdmin(grantee: iam.IGrantable, topics: readonly string[]): void {
    this.grantConnect(grantee);
    iam.Grant.addToPrincipal({
      grantee,
      actions: [
        'kafka-cluster:CreateTopic',
        'kafka-cluster:DescribeTopic',
        'kafka-cluster:AlterTopic',
        'kafka-cluster:DescribeTopicDynamicConfiguration',
        'kafka-cluster:AlterTopicDynamicConfiguration',
        'kafka-cluster:DeleteTopic',
      ],
      resourceArns: topics.map((t) => this.topicArn(t)),
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kafka:GetBootstrapBrokers', 'kafka:DescribeClusterV2'],
      resourceArns: [this.clusterArn],
    });
  }

  /**
   * How far a consumer group is behind on a topic, in seconds: MSK's `EstimatedMaxTimeLag` (the
   * age of the oldest record it has not consumed, over the topic's partitions).
   */
  metricEstimatedMaxTimeLag(
    consumerGroup: string,
    topic: string,
    props: cloudwatch.MetricOptions = {},
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/Kafka',
      metricName: 'EstimatedMaxTimeLag',
      dimensionsMap: { 'Cluster Name': this.clusterName, 'Consumer Group': consumerGroup, Topic: topic },
      statistic: 'Maximum',
      ...props,
    });
  }
}

import { Annotations, type CfnElement, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as msk from 'aws-cdk-lib/aws-msk';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { KafkaCluster, type KafkaClusterProps, MSK_IAM_PORT } from '../../../lib/constructs/kafka-cluster.js';
import { PlatformFunction } from '../../../lib/constructs/platform-function.js';
import {
  acknowledgedIds,
  actionsOf,
  evaluate,
  getAttId,
  NOOP_HANDLER,
  nagFindings,
  newStack,
  refId,
  resourcesOf,
  type Statement,
  TEST_ACCOUNT,
  TEST_REGION,
  tieredVpc,
} from '../helpers.js';

type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] };
type Resources = Record<string, Resource>;

/** What CloudFormation would return for the cluster's ARN, to evaluate the ARNs derived from it. */
const CLUSTER_UUID = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-s1';
const CLUSTER_ARN = `arn:aws:kafka:${TEST_REGION}:${TEST_ACCOUNT}:cluster/teststack-kafka/${CLUSTER_UUID}`;
const topicArn = (topic: string) =>
  `arn:aws:kafka:${TEST_REGION}:${TEST_ACCOUNT}:topic/teststack-kafka/${CLUSTER_UUID}/${topic}`;
const groupArn = (group: string) =>
  `arn:aws:kafka:${TEST_REGION}:${TEST_ACCOUNT}:group/teststack-kafka/${CLUSTER_UUID}/${group}`;

/**
 * A stack with a VPC of public, private (with NAT) and isolated subnets in two AZs, with flow logs
 * (so the stack's cdk-nag findings are the cluster's), and a cluster in it.
 */
function fixture(props: Partial<KafkaClusterProps> = {}) {
  const stack = newStack();
  const vpc = tieredVpc(stack);
  const cluster = new KafkaCluster(stack, 'Kafka', { vpc, ...props });
  return { stack, vpc, cluster };
}

/** A function in the app subnets, as the cluster's clients are. */
function clientIn({ stack, vpc }: { stack: Stack; vpc: ec2.IVpc }, id: string): PlatformFunction {
  const fn = new PlatformFunction(stack, id, {
    entry: NOOP_HANDLER,
    serviceName: 's',
    vpc,
    vpcSubnets: { subnetGroupName: 'app' },
  });
  for (const sg of fn.function.connections.securityGroups) {
    Annotations.of(sg).acknowledgeWarning(
      '@aws-cdk/aws-ec2:ipv4IgnoreEgressRule',
      'Function security groups allow all outbound traffic.',
    );
  }
  return fn;
}

function synth({ stack, vpc, cluster }: { stack: Stack; vpc: ec2.IVpc; cluster: KafkaCluster }) {
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Resources;
  const idOf = (construct: IConstruct): string => stack.getLogicalId(construct as CfnElement);
  const clusterId = idOf(cluster.node.findChild('Cluster'));
  const sgId = idOf(cluster.securityGroup.node.defaultChild as CfnElement);
  const subnetRefs = (selection: ec2.SubnetSelection) =>
    vpc.selectSubnets(selection).subnets.map((s) => ({ Ref: idOf(s.node.defaultChild as CfnElement) }));
  const ofType = (type: string): [string, Resource][] =>
    Object.entries(resources).filter(([, r]) => r.Type === type);
  /** Ingress and egress rules of the cluster's security group, inline or standalone. */
  const rulesOfSg = (direction: 'Ingress' | 'Egress'): Record<string, unknown>[] => [
    ...((resources[sgId]?.Properties[`SecurityGroup${direction}`] ?? []) as Record<string, unknown>[]),
    ...ofType(`AWS::EC2::SecurityGroup${direction}`)
      .filter(([, r]) => getAttId(r.Properties.GroupId) === sgId)
      .map(([, r]) => r.Properties),
  ];
  /** The cluster ARN is the only leaf of the ARNs the grants build. */
  const leaf = (v: unknown) => (getAttId(v) === clusterId ? CLUSTER_ARN : undefined);
  /** Kafka permissions of a function: action -> the ARNs it is allowed on, evaluated. */
  const kafkaPermissionsOf = (fn: PlatformFunction): Record<string, string[]> => {
    const roleId = idOf(fn.role.node.defaultChild as CfnElement);
    const statements = ofType('AWS::IAM::Policy')
      .filter(([, p]) => (p.Properties.Roles as unknown[]).some((r) => refId(r) === roleId))
      .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    const out: Record<string, string[]> = {};
    for (const s of statements) {
      expect(s.Effect).toBe('Allow');
      for (const action of actionsOf(s).filter((a) => a.startsWith('kafka'))) {
        const arns = resourcesOf(s).map((r) => (r === '*' ? '*' : evaluate(r, leaf)));
        out[action] = [...new Set([...(out[action] ?? []), ...arns])].sort();
      }
    }
    return out;
  };
  return { template, resources, clusterId, sgId, subnetRefs, ofType, rulesOfSg, kafkaPermissionsOf };
}

const noOpenEgress = (rules: Record<string, unknown>[]) => {
  for (const rule of rules) {
    expect(rule.CidrIp).not.toBe('0.0.0.0/0');
    expect(rule.CidrIpv6).not.toBe('::/0');
    expect(rule.IpProtocol).not.toBe('-1');
  }
};

describe('KafkaCluster', () => {
  describe('serverless', () => {
    it('is an MSK Serverless cluster that only IAM clients reach, in the given subnets, behind its own group', () => {
      // GIVEN
      const f = fixture({ vpcSubnets: { subnetGroupName: 'app' } });
      // WHEN
      const { template, resources, clusterId, sgId, subnetRefs } = synth(f);
      const cluster = f.cluster;
      // THEN
      template.resourceCountIs('AWS::MSK::ServerlessCluster', 1);
      template.resourceCountIs('AWS::MSK::Cluster', 0);
      expect(cluster.mode).toBe('serverless');
      expect(resources[clusterId]?.Properties).toEqual({
        ClusterName: 'teststack-kafka',
        ClientAuthentication: { Sasl: { Iam: { Enabled: true } } },
        VpcConfigs: [
          {
            SubnetIds: subnetRefs({ subnetGroupName: 'app' }),
            SecurityGroups: [{ 'Fn::GetAtt': [sgId, 'GroupId'] }],
          },
        ],
      });
      expect(subnetRefs({ subnetGroupName: 'app' })).toHaveLength(2);
    });

    it("defaults to the VPC's isolated subnets", () => {
      const { resources, clusterId, subnetRefs } = synth(fixture());
      const [config] = (resources[clusterId]?.Properties.VpcConfigs ?? []) as { SubnetIds: unknown[] }[];
      expect(config?.SubnetIds).toEqual(subnetRefs({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED }));
      expect(config?.SubnetIds).not.toEqual(subnetRefs({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }));
    });

    it('has a security group that lets nothing in and nothing out by default', () => {
      const { rulesOfSg } = synth(fixture());
      expect(rulesOfSg('Ingress')).toEqual([]);
      const egress = rulesOfSg('Egress');
      // aws-cdk-lib's placeholder for "no egress" (a rule that matches no traffic)
      expect(egress).toEqual([expect.objectContaining({ CidrIp: '255.255.255.255/32', IpProtocol: 'icmp' })]);
      noOpenEgress(egress);
    });

    it('lets clients in on the IAM/TLS port only, from their own security group', () => {
      // GIVEN
      const { stack, vpc, cluster } = fixture();
      const client = clientIn({ stack, vpc }, 'Client');
      // WHEN
      client.function.connections.allowToDefaultPort(cluster.connections);
      // THEN
      const { rulesOfSg } = synth({ stack, vpc, cluster });
      const clientSg = stack.getLogicalId(
        client.function.connections.securityGroups[0]?.node.defaultChild as CfnElement,
      );
      expect(rulesOfSg('Ingress')).toEqual([
        expect.objectContaining({
          IpProtocol: 'tcp',
          FromPort: MSK_IAM_PORT,
          ToPort: MSK_IAM_PORT,
          SourceSecurityGroupId: { 'Fn::GetAtt': [clientSg, 'GroupId'] },
        }),
      ]);
      expect(MSK_IAM_PORT).toBe(9098);
    });
  });

  describe('provisioned', () => {
    const provisioned = (props: Partial<KafkaClusterProps> = {}) => {
      const f = fixture({ mode: 'provisioned', ...props });
      return { ...f, ...synth(f) };
    };

    it('admits IAM-authenticated clients only, over TLS, with TLS between brokers', () => {
      const { template, resources, clusterId, sgId, subnetRefs } = provisioned();
      template.resourceCountIs('AWS::MSK::Cluster', 1);
      template.resourceCountIs('AWS::MSK::ServerlessCluster', 0);
      const props = resources[clusterId]?.Properties ?? {};
      expect(props.ClientAuthentication).toEqual({
        Sasl: { Iam: { Enabled: true } },
        Unauthenticated: { Enabled: false },
      });
      expect((props.EncryptionInfo as Record<string, unknown>).EncryptionInTransit).toEqual({
        ClientBroker: 'TLS',
        InCluster: true,
      });
      expect(props.BrokerNodeGroupInfo).toMatchObject({
        ClientSubnets: subnetRefs({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED }),
        SecurityGroups: [{ 'Fn::GetAtt': [sgId, 'GroupId'] }],
      });
    });

    it('encrypts at rest with a customer-managed key that rotates', () => {
      const { resources, clusterId } = provisioned();
      const encryption = resources[clusterId]?.Properties.EncryptionInfo as
        | { EncryptionAtRest?: { DataVolumeKMSKeyId?: unknown } }
        | undefined;
      const keyId = getAttId(encryption?.EncryptionAtRest?.DataVolumeKMSKeyId);
      expect(resources[keyId ?? '']).toMatchObject({
        Type: 'AWS::KMS::Key',
        Properties: { EnableKeyRotation: true },
      });
    });

    it('encrypts at rest with a given key instead of creating one', () => {
      // GIVEN
      const stack = newStack();
      const vpc = new ec2.Vpc(stack, 'Vpc', {
        maxAzs: 2,
        natGateways: 0,
        restrictDefaultSecurityGroup: false,
      });
      const key = new kms.Key(stack, 'Shared', { enableKeyRotation: true });
      // WHEN
      const cluster = new KafkaCluster(stack, 'Kafka', { vpc, mode: 'provisioned', encryptionKey: key });
      // THEN
      const { template, resources, clusterId } = synth({ stack, vpc, cluster });
      template.resourceCountIs('AWS::KMS::Key', 1);
      expect(resources[clusterId]?.Properties.EncryptionInfo).toMatchObject({
        EncryptionAtRest: {
          DataVolumeKMSKeyId: {
            'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as CfnElement), 'Arn'],
          },
        },
      });
    });

    it('sends broker logs to a CloudWatch log group with a retention, and monitors per topic and partition', () => {
      const { resources, clusterId } = provisioned({ logRetention: logs.RetentionDays.ONE_MONTH });
      const props = resources[clusterId]?.Properties ?? {};
      const cloudWatch = (
        props.LoggingInfo as { BrokerLogs: { CloudWatchLogs: { Enabled: boolean; LogGroup: unknown } } }
      ).BrokerLogs.CloudWatchLogs;
      expect(cloudWatch.Enabled).toBe(true);
      expect(resources[refId(cloudWatch.LogGroup) ?? '']).toMatchObject({
        Type: 'AWS::Logs::LogGroup',
        Properties: { RetentionInDays: 30 },
      });
      expect(props.EnhancedMonitoring).toBe('PER_TOPIC_PER_PARTITION');
    });

    it('places one broker per subnet by default, and any multiple of the subnets', () => {
      const one = provisioned();
      expect(one.resources[one.clusterId]?.Properties.NumberOfBrokerNodes).toBe(2);
      const two = provisioned({ provisioned: { brokerNodes: 4 } });
      expect(two.resources[two.clusterId]?.Properties.NumberOfBrokerNodes).toBe(4);
    });

    it('refuses, at synth, a broker count that is not a multiple of the subnets', () => {
      expect(() => fixture({ mode: 'provisioned', provisioned: { brokerNodes: 3 } })).toThrow(
        /TestStack\/Kafka: brokerNodes \(3\) must be a multiple of the subnets \(2\)/,
      );
    });

    it('lets brokers talk to each other, and nothing else in or out by default', () => {
      const { sgId, rulesOfSg } = provisioned();
      const self = { 'Fn::GetAtt': [sgId, 'GroupId'] };
      const ingress = rulesOfSg('Ingress');
      expect(ingress.length).toBeGreaterThan(0);
      for (const rule of ingress) {
        expect(rule.SourceSecurityGroupId).toEqual(self);
        expect(rule.CidrIp).toBeUndefined();
      }
      const egress = rulesOfSg('Egress');
      expect(egress.length).toBeGreaterThan(0);
      for (const rule of egress) expect(rule.DestinationSecurityGroupId).toEqual(self);
      noOpenEgress(egress);
    });
  });

  describe.each(['serverless', 'provisioned'] as const)('grants on a %s cluster', (mode) => {
    // GIVEN one function per grant
    const { stack, vpc, cluster } = fixture({ mode });
    const fn = (id: string) => clientIn({ stack, vpc }, id);
    const producer = fn('Producer');
    const consumer = fn('Consumer');
    const admin = fn('Admin');
    // WHEN
    cluster.grantProduce(producer.function, ['orders', 'payments']);
    cluster.grantConsume(consumer.function, ['orders'], 'billing');
    cluster.grantTopicAdmin(admin.function, ['orders', 'payments']);
    const { kafkaPermissionsOf } = synth({ stack, vpc, cluster });

    it('lets a producer write, idempotently, to the named topics only', () => {
      expect(kafkaPermissionsOf(producer)).toEqual({
        'kafka-cluster:Connect': [CLUSTER_ARN],
        'kafka-cluster:DescribeCluster': [CLUSTER_ARN],
        'kafka-cluster:WriteDataIdempotently': [CLUSTER_ARN],
        'kafka-cluster:DescribeTopic': [topicArn('orders'), topicArn('payments')],
        'kafka-cluster:WriteData': [topicArn('orders'), topicArn('payments')],
      });
    });

    it('lets a consumer read the named topics, in the named group only', () => {
      expect(kafkaPermissionsOf(consumer)).toEqual({
        'kafka-cluster:Connect': [CLUSTER_ARN],
        'kafka-cluster:DescribeCluster': [CLUSTER_ARN],
        'kafka-cluster:DescribeClusterDynamicConfiguration': [CLUSTER_ARN],
        'kafka-cluster:DescribeTopic': [topicArn('orders')],
        'kafka-cluster:ReadData': [topicArn('orders')],
        'kafka-cluster:DescribeGroup': [groupArn('billing')],
        'kafka-cluster:AlterGroup': [groupArn('billing')],
      });
    });

    it('lets the topic admin manage the named topics only, and look up the brokers', () => {
      const topics = [topicArn('orders'), topicArn('payments')];
      expect(kafkaPermissionsOf(admin)).toEqual({
        'kafka-cluster:Connect': [CLUSTER_ARN],
        'kafka-cluster:DescribeCluster': [CLUSTER_ARN],
        'kafka-cluster:CreateTopic': topics,
        'kafka-cluster:DescribeTopic': topics,
        'kafka-cluster:AlterTopic': topics,
        'kafka-cluster:DescribeTopicDynamicConfiguration': topics,
        'kafka-cluster:AlterTopicDynamicConfiguration': topics,
        'kafka-cluster:DeleteTopic': topics,
        'kafka:GetBootstrapBrokers': [CLUSTER_ARN],
        'kafka:DescribeClusterV2': [CLUSTER_ARN],
      });
    });

    it('never grants a Kafka action on a wildcard', () => {
      for (const grantee of [producer, consumer, admin]) {
        for (const [action, arns] of Object.entries(kafkaPermissionsOf(grantee))) {
          expect(arns, action).not.toContain('*');
          for (const arn of arns) expect(arn, action).not.toContain('*');
        }
      }
    });
  });

  describe('cdk-nag', () => {
    it.each(['serverless', 'provisioned'] as const)(
      'finds nothing on a %s cluster, with nothing acknowledged',
      (mode) => {
        // GIVEN a cluster with a producer
        const { stack, vpc, cluster } = fixture({ mode });
        const client = clientIn({ stack, vpc }, 'Client');
        cluster.grantProduce(client.function, ['orders']);
        client.function.connections.allowToDefaultPort(cluster.connections);
        // THEN
        expect(nagFindings(stack)).toEqual([]);
        expect(acknowledgedIds(cluster)).toEqual({});
      },
    );

    it('reports a cluster without TLS or broker logs (the check can fail)', () => {
      // GIVEN a provisioned cluster weakened by an escape hatch
      const { stack, cluster } = fixture({ mode: 'provisioned' });
      const cfn = cluster.node.findChild('Cluster') as msk.CfnCluster;
      cfn.encryptionInfo = { encryptionInTransit: { clientBroker: 'TLS_PLAINTEXT', inCluster: false } };
      cfn.loggingInfo = undefined;
      // THEN
      expect(nagFindings(stack).map((f) => f.rule)).toEqual([
        'AwsSolutions-MSK2',
        'AwsSolutions-MSK3',
        'AwsSolutions-MSK6',
      ]);
    });
  });
});

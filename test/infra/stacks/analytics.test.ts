import type { CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { loadStageConfig, STAGE_NAMES, type StageName } from '../../../lib/config/stage-config.js';
import type { PlatformFunction } from '../../../lib/constructs/platform-function.js';
import { buildPlatform, type Platform } from '../../../lib/platform.js';
import {
  actionsOf,
  evaluate,
  methodsByRoute,
  nagFindings,
  newApp,
  refId,
  resourcesOf,
  type Statement,
  TEST_ACCOUNT,
  TEST_REGION,
} from '../helpers.js';

type Resource = {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string[];
  DeletionPolicy?: string;
};
type Resources = Record<string, Resource>;

const CLUSTER_UUID = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-3';
const TOPICS = {
  activity: 'user_activity',
  metrics: 'user_metrics',
  late: 'user_activity_late',
  deadLetter: 'user_activity_dlt',
} as const;
const KAFKA_WRITE = /^kafka(-cluster)?:(\*|Write|Create|Alter|Delete|Update|Reboot)/;

const getAtt = (value: unknown): [string, string] | undefined =>
  (value as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];

/**
 * Whether a template value of `from` refers to a resource of `owner` (its Ref, or an attribute),
 * directly in the same stack or through the output another stack reads (`Fn::GetStackOutput`).
 */
function refersTo(value: unknown, from: Stack, owner: Stack, logicalId: string, attribute?: string): boolean {
  if (from === owner) {
    return attribute
      ? JSON.stringify(getAtt(value)) === JSON.stringify([logicalId, attribute])
      : refId(value) === logicalId;
  }
  const output = (
    value as { 'Fn::GetStackOutput'?: { StackName: string; OutputName: string } } | undefined
  )?.['Fn::GetStackOutput'];
  if (output?.StackName !== owner.stackName) return false;
  const name = attribute ? `FnGetAtt${logicalId}${attribute.replace(/\./g, '')}` : `Ref${logicalId}`;
  return new RegExp(`^PublishOutput${name}[0-9A-F]{8}$`).test(output.OutputName);
}

/** The analytics functions, where they live, and what they use. */
const FUNCTIONS: readonly {
  readonly name: string;
  readonly of: (p: Platform) => PlatformFunction;
  /** Reaches the brokers (network path). */
  readonly brokers: boolean;
  /** Is told the bootstrap brokers (produces). */
  readonly bootstrap: boolean;
  /** Reaches Redis and is told where it is. */
  readonly redis: boolean;
  /** Reads window results (WINDOW_SPECS). */
  readonly windows: boolean;
}[] = [
  {
    name: 'KafkaTopics',
    of: (p) => p.analytics.node.findChild('KafkaTopics') as PlatformFunction,
    brokers: true,
    bootstrap: false,
    redis: false,
    windows: false,
  },
  {
    name: 'Windowing',
    of: (p) => p.analytics.windowing,
    brokers: true,
    bootstrap: true,
    redis: true,
    windows: true,
  },
  {
    name: 'IngestEvents',
    of: (p) => p.services.routeFunctions.IngestEvents as PlatformFunction,
    brokers: true,
    bootstrap: true,
    redis: false,
    windows: false,
  },
  {
    name: 'GetUserAnalytics',
    of: (p) => p.services.routeFunctions.GetUserAnalytics as PlatformFunction,
    brokers: false,
    bootstrap: false,
    redis: true,
    windows: true,
  },
  {
    name: 'AnalyticsConsumer',
    of: (p) => p.fulfilment.consumers.analytics,
    brokers: true,
    bootstrap: true,
    redis: false,
    windows: false,
  },
];

function synthStage(stage: StageName) {
  const app = newApp();
  const config = loadStageConfig(stage);
  const platform = buildPlatform(app, config);
  const analytics = platform.analytics;
  const templates = new Map<Stack, Template>(
    [platform.analytics, platform.services, platform.fulfilment].map((s) => [s, Template.fromStack(s)]),
  );
  const templateOf = (stack: Stack): Template => templates.get(stack) as Template;
  const resourcesIn = (stack: Stack): Resources => templateOf(stack).toJSON().Resources as Resources;
  const resources = resourcesIn(analytics);
  const idOf = (construct: IConstruct | undefined): string => {
    const element = construct as CfnElement;
    return element.stack.getLogicalId(element);
  };
  const ofType = (stack: Stack, type: string): [string, Resource][] =>
    Object.entries(resourcesIn(stack)).filter(([, r]) => r.Type === type);

  const ids = {
    cluster: idOf(analytics.kafka.node.findChild('Cluster')),
    kafkaSg: idOf(analytics.kafka.securityGroup.node.defaultChild),
    cache: idOf(analytics.redis.node.findChild('Cache')),
    redisSg: idOf(analytics.redis.securityGroup.node.defaultChild),
    secret: idOf(analytics.redis.authSecret.node.defaultChild),
    topics: idOf(analytics.topics.node.defaultChild),
  };
  const clusterName = `platform-${stage}-analytics-kafka`;
  const clusterArn = `arn:aws:kafka:${TEST_REGION}:${TEST_ACCOUNT}:cluster/${clusterName}/${CLUSTER_UUID}`;
  const topicArn = (t: string) =>
    `arn:aws:kafka:${TEST_REGION}:${TEST_ACCOUNT}:topic/${clusterName}/${CLUSTER_UUID}/${t}`;
  const groupArn = (g: string) =>
    `arn:aws:kafka:${TEST_REGION}:${TEST_ACCOUNT}:group/${clusterName}/${CLUSTER_UUID}/${g}`;

  /** A function's resource, stack and logical ids. */
  const fnOf = (pf: PlatformFunction) => {
    const stack = pf.function.stack;
    const id = idOf(pf.function.node.defaultChild);
    return {
      stack,
      id,
      sgId: idOf(pf.function.connections.securityGroups[0]?.node.defaultChild),
      roleId: idOf(pf.role.node.defaultChild),
      resource: resourcesIn(stack)[id] as Resource,
      env: ((resourcesIn(stack)[id]?.Properties.Environment as { Variables?: Record<string, unknown> })
        ?.Variables ?? {}) as Record<string, unknown>,
    };
  };

  /** Kafka permissions of a function: action -> the ARNs it is allowed on, evaluated. */
  const kafkaPermissionsOf = (pf: PlatformFunction): Record<string, string[]> => {
    const { stack, roleId } = fnOf(pf);
    const inline = (
      (resourcesIn(stack)[roleId]?.Properties.Policies ?? []) as { PolicyDocument: unknown }[]
    ).map((p) => p.PolicyDocument);
    const attached = ofType(stack, 'AWS::IAM::Policy')
      .filter(([, p]) => (p.Properties.Roles as unknown[]).some((r) => refId(r) === roleId))
      .map(([, p]) => p.Properties.PolicyDocument);
    const statements = [...inline, ...attached].flatMap((d) => (d as { Statement: Statement[] }).Statement);
    const leaf = (v: unknown) => (refersTo(v, stack, analytics, ids.cluster, 'Arn') ? clusterArn : undefined);
    const out: Record<string, string[]> = {};
    for (const s of statements) {
      for (const action of actionsOf(s).filter((a) => a.startsWith('kafka') || a === '*')) {
        expect(s.Effect).toBe('Allow');
        const arns = resourcesOf(s).map((r) => (r === '*' ? '*' : evaluate(r, leaf)));
        out[action] = [...new Set([...(out[action] ?? []), ...arns])].sort();
      }
    }
    return out;
  };

  /** Ingress rules on a security group of the analytics stack, wherever they are declared. */
  const ingressInto = (sgId: string): { stack: Stack; rule: Record<string, unknown> }[] =>
    [...templates.keys()].flatMap((stack) => [
      ...(stack === analytics
        ? ((resources[sgId]?.Properties.SecurityGroupIngress ?? []) as Record<string, unknown>[])
        : []
      ).map((rule) => ({ stack, rule })),
      ...ofType(stack, 'AWS::EC2::SecurityGroupIngress')
        .filter(([, r]) => refersTo(r.Properties.GroupId, stack, analytics, sgId, 'GroupId'))
        .map(([, r]) => ({ stack, rule: r.Properties })),
    ]);

  return {
    app,
    config,
    platform,
    analytics,
    template: templateOf(analytics),
    services: templateOf(platform.services),
    resources,
    ids,
    ofType,
    fnOf,
    kafkaPermissionsOf,
    ingressInto,
    topicArn,
    groupArn,
    clusterArn,
  };
}

describe.each(STAGE_NAMES)('the analytics stack of the %s stage', (stage) => {
  const {
    config,
    platform,
    analytics,
    template,
    services,
    resources,
    ids,
    ofType,
    fnOf,
    kafkaPermissionsOf,
    ingressInto,
    topicArn,
    groupArn,
    clusterArn,
  } = synthStage(stage);
  const a = config.analytics;
  const provisioned = a.kafka.mode === 'provisioned';
  const redisPort = a.redis.mode === 'serverless' ? 6379 : 6380;
  const endpoint = a.redis.mode === 'serverless' ? 'Endpoint' : 'PrimaryEndPoint';

  it('has no unacknowledged cdk-nag finding (AwsSolutions and Serverless)', () => {
    expect(nagFindings(analytics)).toEqual([]);
  });

  it("runs the stage's kind of Kafka cluster and Redis cache", () => {
    template.resourceCountIs('AWS::MSK::Cluster', provisioned ? 1 : 0);
    template.resourceCountIs('AWS::MSK::ServerlessCluster', provisioned ? 0 : 1);
    template.resourceCountIs(
      'AWS::ElastiCache::ReplicationGroup',
      a.redis.mode === 'replicationGroup' ? 1 : 0,
    );
    template.resourceCountIs('AWS::ElastiCache::ServerlessCache', a.redis.mode === 'serverless' ? 1 : 0);
    if (provisioned) {
      expect(resources[ids.cluster]?.Properties).toMatchObject({
        NumberOfBrokerNodes: a.kafka.brokerNodes,
        BrokerNodeGroupInfo: {
          InstanceType: a.kafka.instanceType,
          StorageInfo: { EBSStorageInfo: { VolumeSize: a.kafka.volumeSizeGiB } },
        },
      });
    }
    if (a.redis.mode === 'replicationGroup') {
      expect(resources[ids.cache]?.Properties).toMatchObject({
        CacheNodeType: a.redis.nodeType,
        ReplicasPerNodeGroup: a.redis.replicas,
      });
    }
  });

  it(`${config.retainData ? 'keeps' : 'deletes'} the cluster, cache, keys and secret with the stack (retainData)`, () => {
    const stateful = [
      ids.cluster,
      ids.cache,
      ids.secret,
      ...ofType(analytics, 'AWS::KMS::Key').map(([id]) => id),
    ];
    expect(stateful.length).toBeGreaterThanOrEqual(provisioned ? 5 : 4);
    for (const id of stateful) {
      expect(resources[id]?.DeletionPolicy, id).toBe(config.retainData ? 'Retain' : 'Delete');
    }
  });

  describe('the topics custom resource', () => {
    const customs = ofType(analytics, 'Custom::KafkaTopics');
    const props = customs[0]?.[1].Properties ?? {};
    const topics = (props.Topics ?? []) as Record<string, unknown>[];

    it('is served by the KafkaTopics function, on this cluster', () => {
      expect(customs.map(([id]) => id)).toEqual([ids.topics]);
      const kafkaTopics = fnOf(analytics.node.findChild('KafkaTopics') as PlatformFunction);
      expect(props.ServiceToken).toEqual({ 'Fn::GetAtt': [kafkaTopics.id, 'Arn'] });
      expect(props.ClusterArn).toEqual({ 'Fn::GetAtt': [ids.cluster, 'Arn'] });
    });

    it("creates the four analytics topics with the stage's partitions and retention; dead letters kept 14 days or more on one partition", () => {
      const retentionMs = String(a.topics.retentionHours * 3600 * 1000);
      const replication = provisioned ? { replicationFactor: a.topics.replicationFactor } : {};
      const byName = (x: Record<string, unknown>, y: Record<string, unknown>) =>
        String(x.name).localeCompare(String(y.name));
      expect([...topics].sort(byName)).toEqual(
        [
          {
            name: TOPICS.activity,
            partitions: a.topics.partitions,
            configs: { 'retention.ms': retentionMs },
          },
          { name: TOPICS.metrics, partitions: a.topics.partitions, configs: { 'retention.ms': retentionMs } },
          { name: TOPICS.late, partitions: a.topics.partitions, configs: { 'retention.ms': retentionMs } },
          {
            name: TOPICS.deadLetter,
            partitions: 1,
            configs: { 'retention.ms': String(Math.max(a.topics.retentionHours, 14 * 24) * 3600 * 1000) },
          },
        ]
          .map((t) => ({ ...t, ...replication }))
          .sort(byName),
      );
    });

    it(`${provisioned ? 'sets' : 'leaves out'} the replication factor (${a.kafka.mode} cluster)`, () => {
      expect(topics).toHaveLength(4);
      for (const t of topics) {
        if (provisioned) expect(t.replicationFactor, String(t.name)).toBe(a.topics.replicationFactor);
        else expect(Object.keys(t), String(t.name)).not.toContain('replicationFactor');
      }
    });
  });

  it("feeds the windowing function from user_activity with the stage's consumer settings, once the topics exist", () => {
    const mappings = ofType(analytics, 'AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(1);
    const [, mapping] = mappings[0] as [string, Resource];
    expect(mapping.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [ids.cluster, 'Arn'] },
      FunctionName: { Ref: fnOf(analytics.windowing).id },
      Topics: [TOPICS.activity],
      AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: a.consumer.groupId },
      StartingPosition: a.consumer.startingPosition,
      BatchSize: a.consumer.batchSize,
      MaximumBatchingWindowInSeconds: a.consumer.maxBatchingWindowSeconds,
    });
    expect(mapping.DependsOn).toContain(ids.topics);
  });

  describe.each(FUNCTIONS)('the $name function', (spec) => {
    const pf = spec.of(platform);
    const fn = fnOf(pf);

    it('runs in the app subnets of the VPC, with its own security group', () => {
      const network = platform.network;
      const appSubnets = network.vpc
        .selectSubnets({ subnetGroupName: 'app' })
        .subnets.map((s) => network.getLogicalId(s.node.defaultChild as CfnElement));
      expect(appSubnets).toHaveLength(config.network.maxAzs);
      const vpcConfig = fn.resource.Properties.VpcConfig as {
        SubnetIds: unknown[];
        SecurityGroupIds: unknown[];
      };
      expect(vpcConfig.SubnetIds).toHaveLength(appSubnets.length);
      vpcConfig.SubnetIds.forEach((subnet, i) => {
        expect(refersTo(subnet, fn.stack, network, appSubnets[i] as string), JSON.stringify(subnet)).toBe(
          true,
        );
      });
      expect(vpcConfig.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [fn.sgId, 'GroupId'] }]);
    });

    it(`${spec.bootstrap ? 'is' : 'is not'} told the bootstrap brokers`, () => {
      if (spec.bootstrap) {
        expect(
          refersTo(fn.env.KAFKA_BOOTSTRAP_BROKERS, fn.stack, analytics, ids.topics, 'BootstrapBrokers'),
          JSON.stringify(fn.env.KAFKA_BOOTSTRAP_BROKERS),
        ).toBe(true);
      } else {
        expect(fn.env.KAFKA_BOOTSTRAP_BROKERS).toBeUndefined();
      }
    });

    it(`${spec.redis ? 'is' : 'is not'} told where Redis and its password are`, () => {
      if (spec.redis) {
        expect(refersTo(fn.env.REDIS_HOST, fn.stack, analytics, ids.cache, `${endpoint}.Address`)).toBe(true);
        expect(refersTo(fn.env.REDIS_PORT, fn.stack, analytics, ids.cache, `${endpoint}.Port`)).toBe(true);
        expect(refersTo(fn.env.REDIS_AUTH_SECRET_ARN, fn.stack, analytics, ids.secret)).toBe(true);
      } else {
        expect(Object.keys(fn.env).filter((k) => k.startsWith('REDIS_'))).toEqual([]);
      }
    });

    it(`${spec.brokers ? 'reaches' : 'does not reach'} the brokers, and ${spec.redis ? 'reaches' : 'does not reach'} Redis, from its own security group`, () => {
      const fromFn = (rules: { stack: Stack; rule: Record<string, unknown> }[]) =>
        rules
          .filter(
            ({ stack, rule }) => stack === fn.stack && getAtt(rule.SourceSecurityGroupId)?.[0] === fn.sgId,
          )
          .map(({ rule }) => ({ IpProtocol: rule.IpProtocol, FromPort: rule.FromPort, ToPort: rule.ToPort }));
      expect(fromFn(ingressInto(ids.kafkaSg))).toEqual(
        spec.brokers ? [{ IpProtocol: 'tcp', FromPort: 9098, ToPort: 9098 }] : [],
      );
      expect(fromFn(ingressInto(ids.redisSg))).toEqual(
        spec.redis ? [{ IpProtocol: 'tcp', FromPort: redisPort, ToPort: redisPort }] : [],
      );
    });

    it(`${spec.windows ? 'is' : 'is not'} told the window specs`, () => {
      if (!spec.windows) {
        expect(fn.env.WINDOW_SPECS).toBeUndefined();
        return;
      }
      const w = a.windows;
      expect(JSON.parse(fn.env.WINDOW_SPECS as string)).toEqual([
        {
          name: `tumbling-${w.tumblingSeconds}s`,
          sizeMs: w.tumblingSeconds * 1000,
          advanceMs: w.tumblingSeconds * 1000,
          graceMs: w.graceSeconds * 1000,
        },
        {
          name: `hopping-${w.hoppingSizeSeconds}s-every-${w.hoppingAdvanceSeconds}s`,
          sizeMs: w.hoppingSizeSeconds * 1000,
          advanceMs: w.hoppingAdvanceSeconds * 1000,
          graceMs: w.graceSeconds * 1000,
        },
      ]);
    });

    it('is granted no Kafka action on a wildcard, and no action "*"', () => {
      for (const [action, arns] of Object.entries(kafkaPermissionsOf(pf))) {
        expect(action).not.toBe('*');
        expect(action).not.toMatch(/\*$/);
        for (const arn of arns) expect(arn, action).not.toContain('*');
      }
    });
  });

  describe('Kafka permissions', () => {
    const cluster = [clusterArn];

    it('let POST /events write to user_activity only', () => {
      expect(kafkaPermissionsOf(platform.services.routeFunctions.IngestEvents as PlatformFunction)).toEqual({
        'kafka-cluster:Connect': cluster,
        'kafka-cluster:DescribeCluster': cluster,
        'kafka-cluster:WriteDataIdempotently': cluster,
        'kafka-cluster:DescribeTopic': [topicArn(TOPICS.activity)],
        'kafka-cluster:WriteData': [topicArn(TOPICS.activity)],
      });
    });

    it('let the fulfilment analytics consumer write to user_activity only', () => {
      expect(kafkaPermissionsOf(platform.fulfilment.consumers.analytics)).toEqual({
        'kafka-cluster:Connect': cluster,
        'kafka-cluster:DescribeCluster': cluster,
        'kafka-cluster:WriteDataIdempotently': cluster,
        'kafka-cluster:DescribeTopic': [topicArn(TOPICS.activity)],
        'kafka-cluster:WriteData': [topicArn(TOPICS.activity)],
      });
    });

    it('let the windowing function read user_activity in its group, and write results, late events and dead letters', () => {
      const written = [TOPICS.metrics, TOPICS.late, TOPICS.deadLetter].map(topicArn).sort();
      expect(kafkaPermissionsOf(analytics.windowing)).toEqual({
        'kafka-cluster:Connect': cluster,
        'kafka-cluster:DescribeCluster': cluster,
        'kafka-cluster:DescribeClusterDynamicConfiguration': cluster,
        'kafka-cluster:WriteDataIdempotently': cluster,
        // What Lambda's MSK poller needs of the cluster
        'kafka:DescribeCluster': cluster,
        'kafka:DescribeClusterV2': cluster,
        'kafka:GetBootstrapBrokers': cluster,
        'kafka-cluster:DescribeTopic': [...written, topicArn(TOPICS.activity)].sort(),
        'kafka-cluster:ReadData': [topicArn(TOPICS.activity)],
        'kafka-cluster:WriteData': written,
        'kafka-cluster:DescribeGroup': [groupArn(a.consumer.groupId)],
        'kafka-cluster:AlterGroup': [groupArn(a.consumer.groupId)],
      });
    });

    it('let the topics custom resource manage the four analytics topics only', () => {
      const topics = Object.values(TOPICS).map(topicArn).sort();
      expect(kafkaPermissionsOf(analytics.node.findChild('KafkaTopics') as PlatformFunction)).toEqual({
        'kafka-cluster:Connect': cluster,
        'kafka-cluster:DescribeCluster': cluster,
        'kafka:GetBootstrapBrokers': cluster,
        'kafka:DescribeClusterV2': cluster,
        'kafka-cluster:CreateTopic': topics,
        'kafka-cluster:DescribeTopic': topics,
        'kafka-cluster:AlterTopic': topics,
        'kafka-cluster:DescribeTopicDynamicConfiguration': topics,
        'kafka-cluster:AlterTopicDynamicConfiguration': topics,
        'kafka-cluster:DeleteTopic': topics,
      });
    });

    it('give GET /analytics/users/{userId} no Kafka write action at all', () => {
      const actions = Object.keys(
        kafkaPermissionsOf(platform.services.routeFunctions.GetUserAnalytics as PlatformFunction),
      );
      expect(actions.filter((action) => KAFKA_WRITE.test(action) || action === '*')).toEqual([]);
      // (the check matches what a producer has)
      expect(
        Object.keys(kafkaPermissionsOf(platform.services.routeFunctions.IngestEvents as PlatformFunction))
          .filter((action) => KAFKA_WRITE.test(action))
          .sort(),
      ).toEqual(['kafka-cluster:WriteData', 'kafka-cluster:WriteDataIdempotently']);
    });
  });

  it('serves POST /events and GET /analytics/users/{userId} behind the Cognito authorizer', () => {
    const methods = methodsByRoute(services);
    const authorizerId = platform.services.getLogicalId(
      platform.services.api.authorizer.node.defaultChild as CfnElement,
    );
    for (const [route, name] of [
      ['POST /events', 'IngestEvents'],
      ['GET /analytics/users/{userId}', 'GetUserAnalytics'],
    ] as const) {
      const method = methods.get(route);
      expect(method, route).toMatchObject({
        AuthorizationType: 'COGNITO_USER_POOLS',
        AuthorizerId: { Ref: authorizerId },
      });
      const fnId = fnOf(platform.services.routeFunctions[name] as PlatformFunction).id;
      expect(JSON.stringify(method?.Integration), route).toContain(
        JSON.stringify({ 'Fn::GetAtt': [fnId, 'Arn'] }),
      );
    }
  });

  it("lets Lambda's MSK pollers, in the cluster's security group, reach the brokers and the VPC endpoints only", () => {
    const sg = { 'Fn::GetAtt': [ids.kafkaSg, 'GroupId'] };
    const egress = [
      ...((resources[ids.kafkaSg]?.Properties.SecurityGroupEgress ?? []) as Record<string, unknown>[]),
      ...ofType(analytics, 'AWS::EC2::SecurityGroupEgress')
        .filter(([, r]) => JSON.stringify(r.Properties.GroupId) === JSON.stringify(sg))
        .map(([, r]) => r.Properties),
    ];
    for (const rule of egress) {
      if (rule.DestinationSecurityGroupId) {
        expect(rule.DestinationSecurityGroupId).toEqual(sg);
      } else {
        expect(rule).toMatchObject({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 });
        expect(
          refersTo(rule.CidrIp, analytics, platform.network, logicalIdOf(platform.network.vpc), 'CidrBlock'),
          JSON.stringify(rule.CidrIp),
        ).toBe(true);
      }
    }
    expect(egress).toContainEqual(
      expect.objectContaining({ DestinationSecurityGroupId: sg, FromPort: 9098, ToPort: 9098 }),
    );
    expect(ingressInto(ids.kafkaSg).map(({ rule }) => rule)).toContainEqual(
      expect.objectContaining({ SourceSecurityGroupId: sg, FromPort: 9098, ToPort: 9098 }),
    );
  });

  it('matches the snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });
});

function logicalIdOf(construct: IConstruct): string {
  const element = construct.node.defaultChild as CfnElement;
  return element.stack.getLogicalId(element);
}

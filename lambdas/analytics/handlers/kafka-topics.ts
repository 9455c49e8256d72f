/**
 * Custom resource `Custom::KafkaTopics`: creates the analytics topics on the MSK cluster at deploy
 * (partitions, replication and retention from configuration), raises partition counts and applies
 * configuration on update, and returns the cluster's IAM bootstrap brokers as the attribute
 * `BootstrapBrokers` for the functions that connect to it. Topics are kept on delete: their data
 * outlives a stack update, and deleting the cluster removes them anyway.
 */
import { GetBootstrapBrokersCommand, KafkaClient } from '@aws-sdk/client-kafka';
import { Admin, ConfigResourceTypes, IncrementalAlterConfigOperationTypes } from '@platformatic/kafka';
import { customResource } from '../../commons/custom-resource.js';
import { clientOptions, connectionFor } from '../../commons/kafka/connection.js';
import { tracer } from '../../commons/powertools.js';
import { planTopics, type TopicSpec } from '../domain/topic-plan.js';

interface Properties {
  readonly ClusterArn: string;
  readonly Topics: readonly {
    readonly name: string;
    readonly partitions: string | number;
    readonly replicationFactor?: string | number;
    readonly configs?: Readonly<Record<string, string>>;
  }[];
}

const kafka = tracer.captureAWSv3Client(new KafkaClient({}));

/** CloudFormation passes every property as a string. */
const toSpecs = (topics: Properties['Topics']): TopicSpec[] =>
  topics.map((t) => ({
    name: t.name,
    partitions: Number(t.partitions),
    ...(t.replicationFactor === undefined ? {} : { replicationFactor: Number(t.replicationFactor) }),
    ...(t.configs ? { configs: t.configs } : {}),
  }));

export const handler = customResource<Properties>(async (request) => {
  const props = request.ResourceProperties;
  const physicalResourceId = request.PhysicalResourceId ?? `${props.ClusterArn}/topics`;
  const brokers = await kafka.send(new GetBootstrapBrokersCommand({ ClusterArn: props.ClusterArn }));
  const bootstrap = brokers.BootstrapBrokerStringSaslIam ?? brokers.BootstrapBrokerString;
  if (!bootstrap) throw new Error(`cluster ${props.ClusterArn} has no bootstrap brokers yet`);
  const data = { BootstrapBrokers: bootstrap };
  if (request.RequestType === 'Delete') return { physicalResourceId, data };

  const admin = new Admin(clientOptions(connectionFor(bootstrap), 'kafka-topics-resource'));
  try {
    const wanted = toSpecs(props.Topics);
    const names = new Set(await admin.listTopics());
    const present = wanted.map((t) => t.name).filter((name) => names.has(name));
    const metadata = present.length > 0 ? await admin.metadata({ topics: present }) : undefined;
    const existing = [...(metadata?.topics.entries() ?? [])].map(([name, t]) => ({
      name,
      partitions: t.partitionsCount,
    }));
    const plan = planTopics(wanted, existing);
    for (const spec of plan.create) {
      await admin.createTopics({
        topics: [spec.name],
        partitions: spec.partitions,
        replicas: spec.replicationFactor ?? -1,
        configs: Object.entries(spec.configs ?? {}).map(([name, value]) => ({ name, value })),
      });
    }
    if (plan.addPartitions.length > 0) await admin.createPartitions({ topics: plan.addPartitions });
    if (plan.configure.length > 0) {
      await admin.incrementalAlterConfigs({
        resources: plan.configure.map((c) => ({
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: c.name,
          configs: Object.entries(c.configs).map(([name, value]) => ({
            name,
            value,
            configOperation: IncrementalAlterConfigOperationTypes.SET,
          })),
        })),
      });
    }
    return { physicalResourceId, data };
  } finally {
    await admin.close();
  }
});

/**
 * What the topics custom resource does to a cluster: from the topics wanted and those that exist,
 * the creations, the partition increases and the configuration changes. Pure. Kafka can add
 * partitions but never remove them, so a smaller count is refused rather than ignored.
 */
export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  /** @default - the broker's default (MSK Serverless manages replication itself) */
  readonly replicationFactor?: number;
  /** Topic-level configuration, e.g. `retention.ms`. */
  readonly configs?: Readonly<Record<string, string>>;
}

export interface ExistingTopic {
  readonly name: string;
  readonly partitions: number;
}

export interface TopicPlan {
  readonly create: TopicSpec[];
  readonly addPartitions: { readonly name: string; readonly count: number }[];
  /** Configuration of existing topics, set to the wanted values (idempotent). */
  readonly configure: { readonly name: string; readonly configs: Readonly<Record<string, string>> }[];
}

export function planTopics(wanted: readonly TopicSpec[], existing: readonly ExistingTopic[]): TopicPlan {
  const byName = new Map(existing.map((t) => [t.name, t]));
  const plan: TopicPlan = { create: [], addPartitions: [], configure: [] };
  const seen = new Set<string>();
  for (const spec of wanted) {
    if (!/^[A-Za-z0-9._-]{1,249}$/.test(spec.name)) throw new Error(`invalid topic name "${spec.name}"`);
    if (seen.has(spec.name)) throw new Error(`topic "${spec.name}" is listed twice`);
    seen.add(spec.name);
    if (!Number.isInteger(spec.partitions) || spec.partitions < 1) {
      throw new Error(`topic "${spec.name}": partitions must be a positive integer`);
    }
    const current = byName.get(spec.name);
    if (!current) {
      plan.create.push(spec);
      continue;
    }
    if (spec.partitions < current.partitions) {
      throw new Error(
        `topic "${spec.name}" has ${current.partitions} partitions; Kafka cannot reduce them to ${spec.partitions}`,
      );
    }
    if (spec.partitions > current.partitions)
      plan.addPartitions.push({ name: spec.name, count: spec.partitions });
    if (spec.configs && Object.keys(spec.configs).length > 0)
      plan.configure.push({ name: spec.name, configs: spec.configs });
  }
  return plan;
}

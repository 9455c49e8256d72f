import { describe, expect, it } from 'vitest';
import {
  type ExistingTopic,
  planTopics,
  type TopicSpec,
} from '../../../lambdas/analytics/domain/topic-plan.js';

describe('planTopics', () => {
  it('creates the topics that do not exist, with their full spec', () => {
    // GIVEN two wanted topics and a cluster without them
    const wanted: TopicSpec[] = [
      { name: 'user_activity', partitions: 6, configs: { 'retention.ms': '604800000' } },
      { name: 'user_metrics', partitions: 3, replicationFactor: 2 },
    ];
    // WHEN the plan is made
    const plan = planTopics(wanted, [{ name: 'unrelated', partitions: 1 }]);
    // THEN both are created as specified, and nothing else is changed
    expect(plan).toEqual({ create: wanted, addPartitions: [], configure: [] });
  });

  it('plans nothing for existing topics with the wanted partitions and no configs', () => {
    const plan = planTopics(
      [{ name: 'user_activity', partitions: 6 }],
      [{ name: 'user_activity', partitions: 6 }],
    );
    expect(plan).toEqual({ create: [], addPartitions: [], configure: [] });
  });

  it('adds partitions when more are wanted, giving the new total', () => {
    const plan = planTopics(
      [{ name: 'user_activity', partitions: 12 }],
      [{ name: 'user_activity', partitions: 6 }],
    );
    expect(plan).toEqual({
      create: [],
      addPartitions: [{ name: 'user_activity', count: 12 }],
      configure: [],
    });
  });

  it('refuses fewer partitions than exist, since Kafka cannot remove them', () => {
    // GIVEN a topic with 6 partitions and a spec asking for 3
    const wanted = [{ name: 'user_activity', partitions: 3 }];
    const existing = [{ name: 'user_activity', partitions: 6 }];
    // WHEN the plan is made
    // THEN it is refused with a message giving both counts
    expect(() => planTopics(wanted, existing)).toThrow(
      'topic "user_activity" has 6 partitions; Kafka cannot reduce them to 3',
    );
  });

  it('configures existing topics that have configs, to the wanted values', () => {
    const configs = { 'retention.ms': '86400000', 'cleanup.policy': 'delete' };
    const plan = planTopics(
      [
        { name: 'user_activity', partitions: 6, configs },
        { name: 'user_metrics', partitions: 3, configs: {} },
        { name: 'user_activity_dlt', partitions: 1 },
      ],
      [
        { name: 'user_activity', partitions: 6 },
        { name: 'user_metrics', partitions: 3 },
        { name: 'user_activity_dlt', partitions: 1 },
      ],
    );
    expect(plan).toEqual({ create: [], addPartitions: [], configure: [{ name: 'user_activity', configs }] });
  });

  it('both adds partitions to and configures an existing topic', () => {
    const configs = { 'retention.ms': '1000' };
    const plan = planTopics([{ name: 't', partitions: 4, configs }], [{ name: 't', partitions: 2 }]);
    expect(plan).toEqual({
      create: [],
      addPartitions: [{ name: 't', count: 4 }],
      configure: [{ name: 't', configs }],
    });
  });

  it('mixes creations, partition increases and configurations in the order wanted', () => {
    const existing: ExistingTopic[] = [
      { name: 'b', partitions: 1 },
      { name: 'd', partitions: 2 },
    ];
    const plan = planTopics(
      [
        { name: 'a', partitions: 1 },
        { name: 'b', partitions: 3 },
        { name: 'c', partitions: 2 },
        { name: 'd', partitions: 2, configs: { x: 'y' } },
      ],
      existing,
    );
    expect(plan.create.map((t) => t.name)).toEqual(['a', 'c']);
    expect(plan.addPartitions).toEqual([{ name: 'b', count: 3 }]);
    expect(plan.configure).toEqual([{ name: 'd', configs: { x: 'y' } }]);
  });

  it('plans nothing when nothing is wanted', () => {
    expect(planTopics([], [{ name: 'a', partitions: 1 }])).toEqual({
      create: [],
      addPartitions: [],
      configure: [],
    });
  });

  it.each(['', 'has space', 'slash/name', 'ünïcode', 'a'.repeat(250), 'colon:name'])(
    'refuses the invalid topic name %j',
    (name) => {
      expect(() => planTopics([{ name, partitions: 1 }], [])).toThrow(`invalid topic name "${name}"`);
    },
  );

  it.each(['user_activity', 'user.activity-v2', 'A_b.c-9', 'a'.repeat(249)])(
    'accepts the topic name %j',
    (name) => {
      expect(planTopics([{ name, partitions: 1 }], []).create).toHaveLength(1);
    },
  );

  it('refuses a topic listed twice', () => {
    const wanted = [
      { name: 'user_activity', partitions: 1 },
      { name: 'user_activity', partitions: 2 },
    ];
    expect(() => planTopics(wanted, [])).toThrow('topic "user_activity" is listed twice');
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses %d partitions', (partitions) => {
    expect(() => planTopics([{ name: 't', partitions }], [])).toThrow(
      'topic "t": partitions must be a positive integer',
    );
  });
});

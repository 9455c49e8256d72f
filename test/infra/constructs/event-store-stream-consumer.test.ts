import type { CfnElement, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  EventStoreStreamConsumer,
  type EventStoreStreamConsumerProps,
} from '../../../lib/constructs/event-store-stream-consumer.js';
import { EventStoreTable } from '../../../lib/constructs/event-store-table.js';
import { QueueWithDlq } from '../../../lib/constructs/queue-with-dlq.js';
import { NOOP_HANDLER, nagFindings, newStack, templateOf } from '../helpers.js';

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}

const idOf = (stack: Stack, construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as CfnElement);

function projector(props: Partial<Omit<EventStoreStreamConsumerProps, 'table'>> = {}) {
  const stack = newStack();
  const events = new EventStoreTable(stack, 'Events');
  const consumer = new EventStoreStreamConsumer(stack, 'Projector', {
    table: events.table,
    functionProps: { entry: NOOP_HANDLER, serviceName: 'read-models' },
    ...props,
  });
  return { stack, events, consumer };
}

function statementsOfRole(t: Template, roleId: string): Statement[] {
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as { Ref?: string }[]).some((r) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('EventStoreStreamConsumer', () => {
  it('reads the stream from the oldest record, bisects failing batches and reports item failures', () => {
    // GIVEN
    const { stack, events, consumer } = projector({
      batchSize: 17,
      retryAttempts: 4,
      parallelizationFactor: 3,
    });
    // WHEN
    const t = templateOf(stack);
    // THEN
    t.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [idOf(stack, events.table), 'StreamArn'] },
      FunctionName: { Ref: idOf(stack, consumer.handler.function) },
      StartingPosition: 'TRIM_HORIZON',
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 17,
      MaximumRetryAttempts: 4,
      ParallelizationFactor: 3,
    });
  });

  it('defaults to batches of 100, 20 retries, one batch per shard and no batching window', () => {
    const { stack } = projector();
    templateOf(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 100,
      MaximumRetryAttempts: 20,
      ParallelizationFactor: 1,
      MaximumBatchingWindowInSeconds: 0,
    });
  });

  it('sends exhausted batches to the failure queue', () => {
    const { stack, consumer } = projector();
    templateOf(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [idOf(stack, consumer.failureQueue), 'Arn'] } },
      },
    });
  });

  it('sees only inserted events: snapshots and other writes are filtered out by the mapping', () => {
    // GIVEN
    const { stack } = projector();
    // WHEN
    const [mapping] = Object.values(templateOf(stack).findResources('AWS::Lambda::EventSourceMapping'));
    // THEN
    const filters = mapping?.Properties.FilterCriteria.Filters as { Pattern: string }[];
    expect(filters).toHaveLength(1);
    expect(JSON.parse(filters[0]?.Pattern as string)).toEqual({
      eventName: ['INSERT'],
      dynamodb: { NewImage: { recordType: { S: ['event'] } } },
    });
  });

  it('gives the function the failure queue URL and the right to send to it', () => {
    // GIVEN
    const { stack, consumer } = projector();
    // WHEN
    const t = templateOf(stack);
    // THEN
    const queueId = idOf(stack, consumer.failureQueue);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ DEAD_LETTER_QUEUE_URL: { Ref: queueId } }) },
    });
    const statements = statementsOfRole(t, idOf(stack, consumer.handler.role));
    const send = statements.filter((s) => actionsOf(s).includes('sqs:SendMessage'));
    expect(send).toEqual([
      expect.objectContaining({ Effect: 'Allow', Resource: { 'Fn::GetAtt': [queueId, 'Arn'] } }),
    ]);
    // The queue is KMS-encrypted: sending needs its key.
    const [queue] = Object.values(t.findResources('AWS::SQS::Queue'));
    const keyArn = queue?.Properties.KmsMasterKeyId;
    expect(
      statements.some(
        (s) =>
          actionsOf(s).includes('kms:GenerateDataKey*') &&
          JSON.stringify(s.Resource) === JSON.stringify(keyArn),
      ),
    ).toBe(true);
  });

  it('creates a KMS-encrypted failure queue that keeps messages 14 days', () => {
    // GIVEN
    const { stack } = projector();
    // WHEN
    const t = templateOf(stack);
    // THEN
    t.resourceCountIs('AWS::SQS::Queue', 1);
    t.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ProjectorFailuresKey'), 'Arn'] },
      MessageRetentionPeriod: 1209600,
    });
    t.hasResourceProperties('AWS::KMS::Key', {
      Description: Match.stringLikeRegexp('Projector/Failures'),
      EnableKeyRotation: true,
    });
  });

  it('uses a given failure queue instead of creating one', () => {
    // GIVEN
    const stack = newStack();
    const events = new EventStoreTable(stack, 'Events');
    const shared = new QueueWithDlq(stack, 'Shared', { deadLetterOnly: true });
    // WHEN
    new EventStoreStreamConsumer(stack, 'Projector', {
      table: events.table,
      existingFailureQueue: shared.queue,
      functionProps: { entry: NOOP_HANDLER, serviceName: 'read-models' },
    });
    // THEN
    const t = templateOf(stack);
    t.resourceCountIs('AWS::SQS::Queue', 1);
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [idOf(stack, shared.queue), 'Arn'] } } },
    });
  });

  it('refuses a table without a stream', () => {
    // GIVEN
    const stack = newStack();
    const table = new dynamodb.Table(stack, 'NoStream', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
    });
    // WHEN / THEN
    expect(
      () =>
        new EventStoreStreamConsumer(stack, 'Projector', {
          table,
          functionProps: { entry: NOOP_HANDLER, serviceName: 'read-models' },
        }),
    ).toThrow(/Projector: the event store table has no stream/);
  });

  it('has no unacknowledged cdk-nag finding', () => {
    const { stack } = projector();
    expect(nagFindings(stack)).toEqual([]);
  });
});

import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { PlatformFunction } from '../../../lib/constructs/platform-function.js';
import { QueueWithDlq } from '../../../lib/constructs/queue-with-dlq.js';
import { NOOP_HANDLER, nagFindings, newStack, templateOf } from '../helpers.js';

const TLS_ONLY = Match.objectLike({
  Effect: 'Deny',
  Principal: { AWS: '*' },
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
});

describe('QueueWithDlq', () => {
  it('encrypts both queues with a rotating KMS key and enforces TLS on both', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new QueueWithDlq(stack, 'Work');
    // THEN
    const t = templateOf(stack);
    t.resourceCountIs('AWS::SQS::Queue', 2);
    t.resourceCountIs('AWS::SQS::QueuePolicy', 2);
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    for (const queue of Object.values(t.findResources('AWS::SQS::Queue'))) {
      expect(queue.Properties.KmsMasterKeyId).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^WorkKey/), 'Arn'],
      });
    }
    for (const policy of Object.values(t.findResources('AWS::SQS::QueuePolicy'))) {
      expect(policy.Properties.PolicyDocument.Statement).toEqual(
        expect.arrayContaining([expect.objectContaining({ Effect: 'Deny', Action: 'sqs:*' })]),
      );
    }
    t.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([TLS_ONLY]) },
    });
  });

  it('keeps dead letters 14 days and redrives after maxReceiveCount', () => {
    const stack = newStack();
    new QueueWithDlq(stack, 'Work', { maxReceiveCount: 7 });
    const t = templateOf(stack);
    t.hasResourceProperties('AWS::SQS::Queue', {
      MessageRetentionPeriod: 1209600,
      RedrivePolicy: Match.absent(),
    });
    t.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WorkDeadLetterQueue'), 'Arn'] },
        maxReceiveCount: 7,
      },
    });
  });

  it('sets the visibility timeout to six times the consumer timeout', () => {
    const stack = newStack();
    new QueueWithDlq(stack, 'Work', { consumerTimeout: Duration.seconds(25) });
    templateOf(stack).hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 150,
      RedrivePolicy: Match.anyValue(),
    });
  });

  it('refuses a visibility timeout shorter than six consumer timeouts', () => {
    const stack = newStack();
    expect(
      () =>
        new QueueWithDlq(stack, 'Work', {
          consumerTimeout: Duration.seconds(30),
          queueProps: { visibilityTimeout: Duration.seconds(60) },
        }),
    ).toThrow(/visibilityTimeout 60s is less than 6x the consumer timeout \(30s\)/);
  });

  it('refuses a maxReceiveCount outside 1..1000', () => {
    expect(() => new QueueWithDlq(newStack(), 'Work', { maxReceiveCount: 0 })).toThrow(/maxReceiveCount/);
  });

  it('attaches consumers with ReportBatchItemFailures', () => {
    const stack = newStack();
    const queue = new QueueWithDlq(stack, 'Work', { consumerTimeout: Duration.seconds(10) });
    const fn = new PlatformFunction(stack, 'Consumer', { entry: NOOP_HANDLER, serviceName: 's' });
    queue.addConsumer(fn.function, {
      batchSize: 10,
      maxBatchingWindow: Duration.seconds(1),
      maxConcurrency: 5,
    });
    templateOf(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 1,
      ScalingConfig: { MaximumConcurrency: 5 },
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WorkQueue'), 'Arn'] },
    });
  });

  it('refuses a consumer whose timeout is too long for the queue', () => {
    const stack = newStack();
    const queue = new QueueWithDlq(stack, 'Work', { consumerTimeout: Duration.seconds(10) });
    const fn = new PlatformFunction(stack, 'Slow', {
      entry: NOOP_HANDLER,
      serviceName: 's',
      timeout: Duration.seconds(30),
    });
    expect(() => queue.addConsumer(fn.function)).toThrow(/less than 6x the timeout of .*Slow/);
  });

  it('uses a given key and dead-letter queue', () => {
    const stack = newStack();
    const shared = new QueueWithDlq(stack, 'Shared', { deadLetterOnly: true });
    new QueueWithDlq(stack, 'Work', {
      encryptionKey: shared.encryptionKey,
      existingDeadLetterQueue: shared.queue,
    });
    const t = templateOf(stack);
    t.resourceCountIs('AWS::KMS::Key', 1);
    t.resourceCountIs('AWS::SQS::Queue', 2);
  });

  it('has no unacknowledged cdk-nag finding', () => {
    const stack = newStack();
    const queue = new QueueWithDlq(stack, 'Work');
    new QueueWithDlq(stack, 'Failures', { deadLetterOnly: true });
    const fn = new PlatformFunction(stack, 'Consumer', { entry: NOOP_HANDLER, serviceName: 's' });
    queue.addConsumer(fn.function);
    expect(nagFindings(stack)).toEqual([]);
  });
});

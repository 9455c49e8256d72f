import { Match } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { FanoutTopic } from '../../../lib/constructs/fanout-topic.js';
import { QueueWithDlq } from '../../../lib/constructs/queue-with-dlq.js';
import { nagFindings, newStack, templateOf } from '../helpers.js';

describe('FanoutTopic', () => {
  it('encrypts the topic with KMS and denies publishing without TLS', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new FanoutTopic(stack, 'Events', { topicName: 'order-events' });
    // THEN
    const t = templateOf(stack);
    t.hasResourceProperties('AWS::SNS::Topic', {
      TopicName: 'order-events',
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EventsKey'), 'Arn'] },
    });
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('subscribes queues with raw delivery, an attribute filter, and the queue DLQ as redrive target', () => {
    const stack = newStack();
    const topic = new FanoutTopic(stack, 'Events');
    const payments = new QueueWithDlq(stack, 'Payments');
    topic.subscribeQueue(payments, {
      filterPolicy: { eventType: sns.SubscriptionFilter.stringFilter({ allowlist: ['OrderPlaced'] }) },
    });
    const t = templateOf(stack);
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      RawMessageDelivery: true,
      FilterPolicy: { eventType: ['OrderPlaced'] },
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PaymentsDeadLetterQueue'), 'Arn'] },
      },
    });
    // SNS may use the queue's key: without this grant an encrypted queue silently drops deliveries.
    t.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'sns.amazonaws.com' },
            Action: Match.arrayWith(['kms:Decrypt', 'kms:GenerateDataKey']),
          }),
        ]),
      },
    });
  });

  it('filters on the message body when asked', () => {
    const stack = newStack();
    const topic = new FanoutTopic(stack, 'Events');
    topic.subscribeQueue(new QueueWithDlq(stack, 'Analytics'), {
      filterPolicyWithMessageBody: {
        type: sns.FilterOrPolicy.filter(sns.SubscriptionFilter.stringFilter({ matchPrefixes: ['Order'] })),
      },
    });
    templateOf(stack).hasResourceProperties('AWS::SNS::Subscription', {
      FilterPolicyScope: 'MessageBody',
      FilterPolicy: { type: [{ prefix: 'Order' }] },
    });
  });

  it('refuses both filter scopes on one subscription', () => {
    const stack = newStack();
    const topic = new FanoutTopic(stack, 'Events');
    expect(() =>
      topic.subscribeQueue(new QueueWithDlq(stack, 'Q'), {
        filterPolicy: { a: sns.SubscriptionFilter.existsFilter() },
        filterPolicyWithMessageBody: { b: sns.FilterOrPolicy.filter(sns.SubscriptionFilter.existsFilter()) },
      }),
    ).toThrow(/not both/);
  });

  it('has no unacknowledged cdk-nag finding', () => {
    const stack = newStack();
    const topic = new FanoutTopic(stack, 'Events');
    topic.subscribeQueue(new QueueWithDlq(stack, 'Q'));
    expect(nagFindings(stack)).toEqual([]);
  });
});

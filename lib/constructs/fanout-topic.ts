import { RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { SqsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { messageKey } from './message-key.js';
import type { QueueWithDlq } from './queue-with-dlq.js';

export interface FanoutTopicProps {
  /** @default - a generated name */
  readonly topicName?: string;
  /** @default - a new customer-managed key with rotation */
  readonly encryptionKey?: kms.IKey;
  /** Overrides merged over the defaults; encryption and TLS enforcement stay on. */
  readonly topicProps?: Omit<sns.TopicProps, 'masterKey' | 'enforceSSL'>;
  /** @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
}

export interface QueueSubscriptionOptions {
  /** Filter on message attributes (the SNS form of a topic-exchange routing key). */
  readonly filterPolicy?: Record<string, sns.SubscriptionFilter>;
  /** Filter on the message body instead of its attributes (FilterPolicyScope MessageBody). */
  readonly filterPolicyWithMessageBody?: Record<string, sns.FilterOrPolicy>;
  /** Deliver the message as published, without the SNS envelope. @default true */
  readonly rawMessageDelivery?: boolean;
}

/**
 * A publish-subscribe topic with the platform's defaults: KMS encryption, a TLS-only topic
 * policy, and queue subscriptions with filter policies, raw delivery, and the subscriber's DLQ as
 * the subscription's redrive target (so a message SNS cannot deliver is kept, not dropped).
 */
export class FanoutTopic extends Construct {
  readonly topic: sns.Topic;
  readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: FanoutTopicProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    this.encryptionKey = messageKey(this, props.encryptionKey, removalPolicy);
    this.topic = new sns.Topic(this, 'Topic', {
      topicName: props.topicName,
      ...props.topicProps,
      masterKey: this.encryptionKey,
      enforceSSL: true,
    });
    this.topic.applyRemovalPolicy(removalPolicy);
  }

  /** Subscribes a queue (with its DLQ as the subscription's redrive target). */
  subscribeQueue(subscriber: QueueWithDlq, options: QueueSubscriptionOptions = {}): sns.Subscription {
    if (options.filterPolicy && options.filterPolicyWithMessageBody) {
      throw new Error(
        `${this.node.path}: a subscription filters on attributes or on the body, not both (SNS has one FilterPolicyScope)`,
      );
    }
    const subscription = new SqsSubscription(subscriber.queue, {
      rawMessageDelivery: options.rawMessageDelivery ?? true,
      filterPolicy: options.filterPolicy,
      filterPolicyWithMessageBody: options.filterPolicyWithMessageBody,
      deadLetterQueue: subscriber.deadLetterQueue,
    });
    return this.topic.addSubscription(subscription);
  }
}

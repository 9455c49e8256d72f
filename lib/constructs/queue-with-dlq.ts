import { Duration, Names, RemovalPolicy, Token, Validations } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource, type SqsEventSourceProps } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { messageKey } from './message-key.js';

/** AWS's guidance: a queue's visibility timeout is at least six times its consumer's timeout. */
export const VISIBILITY_TO_TIMEOUT_RATIO = 6;

export interface QueueWithDlqProps {
  /**
   * Key for both queues. SNS and EventBridge producers are granted use of it by the constructs
   * that subscribe the queue.
   * @default - a new customer-managed key with rotation
   */
  readonly encryptionKey?: kms.IKey;
  /** How many receives before a message moves to the DLQ. @default 3 */
  readonly maxReceiveCount?: number;
  /**
   * Timeout of the function that consumes the queue; the visibility timeout is set to six times it.
   * @default Duration.seconds(30) (so a visibility timeout of 3 minutes)
   */
  readonly consumerTimeout?: Duration;
  /** FIFO queues (names get the `.fifo` suffix). @default false */
  readonly fifo?: boolean;
  /**
   * Overrides for the work queue, merged over the secure defaults. Encryption, TLS enforcement and
   * the dead-letter queue cannot be turned off through them.
   */
  readonly queueProps?: Omit<
    sqs.QueueProps,
    'encryption' | 'encryptionMasterKey' | 'enforceSSL' | 'deadLetterQueue'
  >;
  /** Overrides for the dead-letter queue. @default - retention 14 days */
  readonly deadLetterQueueProps?: Omit<sqs.QueueProps, 'encryption' | 'encryptionMasterKey' | 'enforceSSL'>;
  /** Use this queue as the dead-letter queue instead of creating one. */
  readonly existingDeadLetterQueue?: sqs.IQueue;
  /**
   * Create only the dead-letter-style queue (no work queue in front): for on-failure destinations.
   * @default false
   */
  readonly deadLetterOnly?: boolean;
  /** @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
}

export interface QueueConsumerOptions
  extends Omit<SqsEventSourceProps, 'reportBatchItemFailures' | 'enabled'> {}

/**
 * A work queue and its dead-letter queue with the platform's defaults: KMS encryption, TLS-only
 * policies on both, DLQ retention of 14 days, a redrive after `maxReceiveCount` receives, and a
 * visibility timeout of at least six times the consumer's timeout (checked again when a consumer
 * is attached).
 */
export class QueueWithDlq extends Construct {
  /** The work queue (the DLQ itself when `deadLetterOnly`). */
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly encryptionKey: kms.IKey;
  readonly maxReceiveCount: number;

  constructor(scope: Construct, id: string, props: QueueWithDlqProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    this.maxReceiveCount = props.maxReceiveCount ?? 3;
    if (this.maxReceiveCount < 1 || this.maxReceiveCount > 1000) {
      throw new Error(
        `${this.node.path}: maxReceiveCount must be between 1 and 1000, got ${this.maxReceiveCount}`,
      );
    }
    this.encryptionKey = messageKey(this, props.encryptionKey, removalPolicy);

    const deadLetterQueue =
      props.existingDeadLetterQueue ??
      new sqs.Queue(this, props.deadLetterOnly ? 'Queue' : 'DeadLetterQueue', {
        retentionPeriod: Duration.days(14),
        fifo: props.fifo,
        ...props.deadLetterQueueProps,
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: this.encryptionKey,
        enforceSSL: true,
        removalPolicy,
      });
    this.deadLetterQueue = deadLetterQueue;

    if (props.deadLetterOnly) {
      if (!(deadLetterQueue instanceof sqs.Queue)) {
        throw new Error(`${this.node.path}: deadLetterOnly cannot be combined with existingDeadLetterQueue`);
      }
      this.queue = deadLetterQueue;
      Validations.of(deadLetterQueue).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason:
          'This queue is itself a dead-letter target (failed events land here for inspection and redrive).',
      });
      Validations.of(deadLetterQueue).acknowledge({
        id: 'Serverless-SQSRedrivePolicy',
        reason: 'This queue is itself a dead-letter target; a redrive policy on it would loop.',
      });
      return;
    }

    const consumerTimeout = props.consumerTimeout ?? Duration.seconds(30);
    const minimumVisibility = Duration.seconds(consumerTimeout.toSeconds() * VISIBILITY_TO_TIMEOUT_RATIO);
    const visibilityTimeout = props.queueProps?.visibilityTimeout ?? minimumVisibility;
    if (
      !Token.isUnresolved(visibilityTimeout.toSeconds()) &&
      visibilityTimeout.toSeconds() < minimumVisibility.toSeconds()
    ) {
      throw new Error(
        `${this.node.path}: visibilityTimeout ${visibilityTimeout.toSeconds()}s is less than ${VISIBILITY_TO_TIMEOUT_RATIO}x the consumer timeout (${consumerTimeout.toSeconds()}s)`,
      );
    }

    this.queue = new sqs.Queue(this, 'Queue', {
      fifo: props.fifo,
      ...props.queueProps,
      visibilityTimeout,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.encryptionKey,
      enforceSSL: true,
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: this.maxReceiveCount },
      removalPolicy,
    });
    if (deadLetterQueue instanceof sqs.Queue) {
      Validations.of(deadLetterQueue).acknowledge({
        id: 'Serverless-SQSRedrivePolicy',
        reason:
          'This is the dead-letter queue of the work queue beside it; a redrive policy on it would loop.',
      });
    }
  }

  /**
   * Attaches a consumer through an SQS event source mapping that reports batch item failures, after
   * checking that the visibility timeout is at least six times the function's timeout.
   */
  addConsumer(fn: lambda.Function, options: QueueConsumerOptions = {}): SqsEventSource {
    const fnTimeout = fn.timeout?.toSeconds() ?? 3;
    const visibility = this.queue.node.defaultChild as sqs.CfnQueue;
    const visibilitySeconds = Number(visibility.visibilityTimeout);
    if (
      !Token.isUnresolved(fnTimeout) &&
      Number.isFinite(visibilitySeconds) &&
      visibilitySeconds < fnTimeout * VISIBILITY_TO_TIMEOUT_RATIO
    ) {
      throw new Error(
        `${this.node.path}: visibility timeout ${visibilitySeconds}s is less than ${VISIBILITY_TO_TIMEOUT_RATIO}x the timeout of ${fn.node.path} (${fnTimeout}s); set consumerTimeout on the queue`,
      );
    }
    const source = new SqsEventSource(this.queue, { ...options, reportBatchItemFailures: true });
    fn.addEventSource(source);
    const mapping = fn.node.tryFindChild(`SqsEventSource:${Names.nodeUniqueId(this.queue.node)}`);
    if (mapping) {
      Validations.of(mapping).acknowledge({
        id: 'Serverless-LambdaEventSourceMappingDestination',
        reason: `SQS mappings take no on-failure destination: a record that keeps failing moves to the queue's own DLQ after ${this.maxReceiveCount} receives.`,
      });
    }
    return source;
  }
}

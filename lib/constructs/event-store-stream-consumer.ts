import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PlatformFunction, type PlatformFunctionProps } from './platform-function.js';
import { QueueWithDlq } from './queue-with-dlq.js';

export interface EventStoreStreamConsumerProps {
  /** The event store table; its stream must carry new images. */
  readonly table: dynamodb.ITable;
  /** The consuming function; `invokedAsynchronously` is not applicable to a stream consumer. */
  readonly functionProps: Omit<PlatformFunctionProps, 'invokedAsynchronously'>;
  /** @default 100 */
  readonly batchSize?: number;
  /** @default Duration.seconds(0) */
  readonly maxBatchingWindow?: Duration;
  /** Retries of a failing batch (bisected each time) before it goes to the failure queue. @default 20 */
  readonly retryAttempts?: number;
  /** Concurrent batches per shard; order per aggregate is kept whatever the value. @default 1 */
  readonly parallelizationFactor?: number;
  /**
   * Receives what the consumer cannot process: records it dead-letters itself (with the reason)
   * and the coordinates of batches whose retries ran out.
   * @default - a new encrypted queue with 14 days of retention
   */
  readonly existingFailureQueue?: sqs.IQueue;
  /** Key of the failure queue the construct creates. @default - a new KMS key */
  readonly failureQueueKey?: kms.IKey;
}

/**
 * A function on the event store's stream: starts at the oldest record, sees only inserted events
 * (snapshots and other writes are filtered out by the mapping), reports partial batch failures,
 * bisects failing batches, and sends what cannot be processed to a failure queue (whose URL the
 * function gets as DEAD_LETTER_QUEUE_URL).
 */
export class EventStoreStreamConsumer extends Construct {
  readonly handler: PlatformFunction;
  readonly failureQueue: sqs.IQueue;

  constructor(scope: Construct, id: string, props: EventStoreStreamConsumerProps) {
    super(scope, id);
    if (!props.table.tableStreamArn) {
      throw new Error(`${this.node.path}: the event store table has no stream`);
    }
    this.failureQueue =
      props.existingFailureQueue ??
      new QueueWithDlq(this, 'Failures', { encryptionKey: props.failureQueueKey, deadLetterOnly: true })
        .queue;
    this.handler = new PlatformFunction(this, 'Handler', props.functionProps);
    this.handler.addEnvironment('DEAD_LETTER_QUEUE_URL', this.failureQueue.queueUrl);
    this.failureQueue.grantSendMessages(this.handler.function);
    this.handler.function.addEventSource(
      new DynamoEventSource(props.table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: props.batchSize ?? 100,
        maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(0),
        retryAttempts: props.retryAttempts ?? 20,
        parallelizationFactor: props.parallelizationFactor ?? 1,
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(this.failureQueue),
        filters: [
          lambda.FilterCriteria.filter({
            eventName: lambda.FilterRule.isEqual('INSERT'),
            dynamodb: { NewImage: { recordType: { S: lambda.FilterRule.isEqual('event') } } },
          }),
        ],
      }),
    );
  }
}

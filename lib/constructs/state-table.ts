import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface StateTableProps {
  /** String partition key. */
  readonly partitionKey: string;
  /** @default - no TTL */
  readonly timeToLiveAttribute?: string;
  /** @default - a new customer-managed key with rotation */
  readonly encryptionKey?: kms.IKey;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A key-value table of service state (stock levels and reservations, circuit breakers, e-mail
 * markers): on-demand, KMS, point-in-time recovery.
 */
export class StateTable extends Construct {
  readonly table: dynamodb.Table;
  readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: StateTableProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.encryptionKey =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        enableKeyRotation: true,
        description: `Encrypts ${this.node.path}`,
        removalPolicy,
      });
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: props.partitionKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: props.timeToLiveAttribute,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.encryptionKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy,
    });
  }
}

import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** Attribute names Powertools' DynamoDBPersistenceLayer uses by default. */
export const IDEMPOTENCY_KEY_ATTRIBUTE = 'id';
export const IDEMPOTENCY_EXPIRY_ATTRIBUTE = 'expiration';

export interface IdempotencyTableProps {
  /** @default - a new customer-managed key with rotation (records hold responses) */
  readonly encryptionKey?: kms.IKey;
  /** @default RemovalPolicy.DESTROY: records expire within a day anyway */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The persistence store of Powertools idempotency: key `id`, TTL on `expiration` so records of
 * expired keys disappear by themselves, KMS encryption, point-in-time recovery.
 */
export class IdempotencyTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: IdempotencyTableProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: IDEMPOTENCY_KEY_ATTRIBUTE, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: IDEMPOTENCY_EXPIRY_ATTRIBUTE,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey:
        props.encryptionKey ??
        new kms.Key(this, 'Key', {
          enableKeyRotation: true,
          description: `Encrypts idempotency records of ${this.node.path}`,
          removalPolicy,
        }),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy,
    });
  }
}

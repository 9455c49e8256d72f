import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import {
  EVENT_STORE_PARTITION_KEY,
  EVENT_STORE_SORT_KEY,
} from '../../lambdas/commons/event-store/table-schema.js';

export interface EventStoreTableProps {
  /** @default - a new customer-managed key with rotation */
  readonly encryptionKey?: kms.IKey;
  /** @default RemovalPolicy.RETAIN: an event store is the system of record */
  readonly removalPolicy?: RemovalPolicy;
  /** Overrides merged over the defaults; keys, encryption, PITR and the stream stay as set here. */
  readonly tableProps?: Omit<
    dynamodb.TableProps,
    | 'partitionKey'
    | 'sortKey'
    | 'encryption'
    | 'encryptionKey'
    | 'pointInTimeRecovery'
    | 'pointInTimeRecoverySpecification'
    | 'stream'
  >;
}

/**
 * The table behind `lambdas/commons/event-store/dynamodb-event-store.ts`: partition key
 * `aggregateId`, sort key `version` (so a conditional put on `attribute_not_exists(version)` is
 * optimistic concurrency), snapshots under `snapshot#<id>` in the same table, point-in-time
 * recovery, KMS encryption, and a stream of new images that feeds projections and the outbox.
 */
export class EventStoreTable extends Construct {
  readonly table: dynamodb.Table;
  readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: EventStoreTableProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.encryptionKey =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        enableKeyRotation: true,
        description: `Encrypts the events of ${this.node.path}`,
        removalPolicy,
      });
    this.table = new dynamodb.Table(this, 'Table', {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      ...props.tableProps,
      partitionKey: { name: EVENT_STORE_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      sortKey: { name: EVENT_STORE_SORT_KEY, type: dynamodb.AttributeType.NUMBER },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.encryptionKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      stream: dynamodb.StreamViewType.NEW_IMAGE,
      removalPolicy,
    });
  }

  /**
   * What a command handler needs: load (Query), append (conditional Put, also inside
   * TransactWriteItems) and snapshots, with the key to encrypt and decrypt. No delete, no update:
   * the store is append-only.
   */
  grantAppend(grantee: iam.IGrantable): iam.Grant {
    this.encryptionKey.grantEncryptDecrypt(grantee);
    return this.table.grant(grantee, 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:ConditionCheckItem');
  }

  /** Loading aggregates only (Query, and the key to decrypt): for services that read state. */
  grantLoad(grantee: iam.IGrantable): iam.Grant {
    this.encryptionKey.grantDecrypt(grantee);
    return this.table.grant(grantee, 'dynamodb:Query');
  }
}

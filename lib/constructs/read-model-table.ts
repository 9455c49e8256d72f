import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface ReadModelIndex {
  readonly indexName: string;
  readonly partitionKey: string;
  /** @default - no sort key */
  readonly sortKey?: string;
}

export interface ReadModelTableProps {
  /** String partition key: the id of the aggregate the view folds, e.g. `orderId`. */
  readonly partitionKey: string;
  /** Global secondary indexes (string keys, all attributes projected) for the model's queries. */
  readonly indexes?: readonly ReadModelIndex[];
  /** @default - a new customer-managed key with rotation */
  readonly encryptionKey?: kms.IKey;
  /**
   * @default RemovalPolicy.DESTROY: a read model is rebuilt from the event store, never the only
   * copy of anything
   */
  readonly removalPolicy?: RemovalPolicy;
  /** Overrides merged over the defaults; keys and encryption stay as set here. */
  readonly tableProps?: Omit<
    dynamodb.TableProps,
    'partitionKey' | 'sortKey' | 'encryption' | 'encryptionKey' | 'removalPolicy'
  >;
}

/**
 * A CQRS read-model table: one item per view keyed by aggregate id, the projection's conditional
 * writes on its `version`, GSIs for the queries, KMS encryption and point-in-time recovery (a
 * restore is faster than a rebuild from a long event history).
 */
export class ReadModelTable extends Construct {
  readonly table: dynamodb.Table;
  readonly encryptionKey: kms.IKey;
  readonly indexNames: readonly string[];

  constructor(scope: Construct, id: string, props: ReadModelTableProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    this.encryptionKey =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        enableKeyRotation: true,
        description: `Encrypts the read model ${this.node.path}`,
        removalPolicy,
      });
    this.table = new dynamodb.Table(this, 'Table', {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      ...props.tableProps,
      partitionKey: { name: props.partitionKey, type: dynamodb.AttributeType.STRING },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.encryptionKey,
      removalPolicy,
    });
    this.indexNames = (props.indexes ?? []).map((index) => index.indexName);
    for (const index of props.indexes ?? []) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        ...(index.sortKey ? { sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING } } : {}),
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
  }

  /** What a projector needs: read a view and write it conditionally; no delete, no scan. */
  grantProject(grantee: iam.IGrantable): iam.Grant {
    this.encryptionKey.grantEncryptDecrypt(grantee);
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      resourceArns: [this.table.tableArn],
    });
  }

  /** What the query API needs: GetItem on the table, Query on the table and each named index. */
  grantQuery(grantee: iam.IGrantable): iam.Grant {
    this.encryptionKey.grantDecrypt(grantee);
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:GetItem', 'dynamodb:Query'],
      resourceArns: [
        this.table.tableArn,
        ...this.indexNames.map((name) => `${this.table.tableArn}/index/${name}`),
      ],
    });
  }
}

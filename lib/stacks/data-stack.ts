import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { OPERATIONAL_STATE_KEY } from '../../lambdas/commons/resilience/table-schema.js';
import {
  CUSTOMERS_BY_EMAIL_DOMAIN_INDEX,
  CUSTOMERS_BY_EMAIL_DOMAIN_PARTITION_KEY,
  CUSTOMERS_BY_EMAIL_DOMAIN_SORT_KEY,
  CUSTOMERS_VIEW_KEY,
} from '../../lambdas/customers/read-model/table-schema.js';
import { INVENTORY_KEY } from '../../lambdas/inventory/domain/table-schema.js';
import {
  ORDERS_BY_CUSTOMER_INDEX,
  ORDERS_BY_CUSTOMER_PARTITION_KEY,
  ORDERS_BY_CUSTOMER_SORT_KEY,
  ORDERS_VIEW_KEY,
} from '../../lambdas/orders/read-model/table-schema.js';
import type { StageConfig } from '../config/stage-config.js';
import { ClaimCheckBucket, claimCheckBucketName } from '../constructs/claim-check-bucket.js';
import { EventStoreTable } from '../constructs/event-store-table.js';
import { IdempotencyTable } from '../constructs/idempotency-table.js';
import { PlatformUserPool } from '../constructs/platform-user-pool.js';
import { ReadModelTable } from '../constructs/read-model-table.js';
import { StateTable } from '../constructs/state-table.js';

export interface DataStackProps extends StackProps {
  readonly config: StageConfig;
}

/** Stateful stores and identities: they outlive every deployment of the compute that uses them. */
export class DataStack extends Stack {
  readonly eventStore: EventStoreTable;
  readonly ordersView: ReadModelTable;
  readonly customersView: ReadModelTable;
  readonly idempotency: IdempotencyTable;
  readonly users: PlatformUserPool;
  /** Stock levels and reservations (`sku`). */
  readonly inventory: StateTable;
  /** Oversized messages in flight (claim check). */
  readonly claimChecks: ClaimCheckBucket;
  /** Circuit breakers and e-mail markers (`pk`), shared by every instance of the services. */
  readonly operationalState: StateTable;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const removalPolicy = props.config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    this.eventStore = new EventStoreTable(this, 'EventStore', { removalPolicy });

    // One key for the derived state (read models, idempotency records): all of it can be rebuilt.
    const derivedStateKey = new kms.Key(this, 'DerivedStateKey', {
      enableKeyRotation: true,
      description: 'Encrypts the read models and idempotency records',
      removalPolicy,
    });
    this.ordersView = new ReadModelTable(this, 'OrdersView', {
      partitionKey: ORDERS_VIEW_KEY,
      indexes: [
        {
          indexName: ORDERS_BY_CUSTOMER_INDEX,
          partitionKey: ORDERS_BY_CUSTOMER_PARTITION_KEY,
          sortKey: ORDERS_BY_CUSTOMER_SORT_KEY,
        },
      ],
      encryptionKey: derivedStateKey,
    });
    this.customersView = new ReadModelTable(this, 'CustomersView', {
      partitionKey: CUSTOMERS_VIEW_KEY,
      indexes: [
        {
          indexName: CUSTOMERS_BY_EMAIL_DOMAIN_INDEX,
          partitionKey: CUSTOMERS_BY_EMAIL_DOMAIN_PARTITION_KEY,
          sortKey: CUSTOMERS_BY_EMAIL_DOMAIN_SORT_KEY,
        },
      ],
      encryptionKey: derivedStateKey,
    });
    this.idempotency = new IdempotencyTable(this, 'Idempotency', { encryptionKey: derivedStateKey });
    this.users = new PlatformUserPool(this, 'Users', { removalPolicy });
    this.inventory = new StateTable(this, 'Inventory', { partitionKey: INVENTORY_KEY, removalPolicy });
    this.claimChecks = new ClaimCheckBucket(this, 'ClaimChecks', {
      bucketName: claimCheckBucketName(props.config.stage),
    });
    this.operationalState = new StateTable(this, 'OperationalState', {
      partitionKey: OPERATIONAL_STATE_KEY,
      timeToLiveAttribute: 'expiresAt',
      encryptionKey: derivedStateKey,
      removalPolicy,
    });
  }
}

/**
 * The event store table's keys, in one place for the DynamoDB adapter, the CDK construct that
 * deploys the table, and the tests and benchmarks that create one on the local emulator.
 */
export const EVENT_STORE_PARTITION_KEY = 'aggregateId';
export const EVENT_STORE_SORT_KEY = 'version';

/** CreateTable input for a local or test table shaped like the deployed one. */
export function eventStoreTableInput(tableName: string) {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [
      { AttributeName: EVENT_STORE_PARTITION_KEY, AttributeType: 'S' as const },
      { AttributeName: EVENT_STORE_SORT_KEY, AttributeType: 'N' as const },
    ],
    KeySchema: [
      { AttributeName: EVENT_STORE_PARTITION_KEY, KeyType: 'HASH' as const },
      { AttributeName: EVENT_STORE_SORT_KEY, KeyType: 'RANGE' as const },
    ],
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' as const },
  };
}

/**
 * DynamoDB adapter of `ViewStore`: one item per view, keyed by the aggregate id under `keyName`,
 * with the folded aggregate version in `version`. Writes are conditional on that version, so two
 * projector instances (or a live projector and a rebuild) can never overwrite each other's work.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import { type StoredView, ViewConflictError, type ViewStore } from './projection.js';

export interface DynamoDbViewStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Partition key attribute, e.g. `orderId`. */
  readonly keyName: string;
}

export const VIEW_VERSION_ATTRIBUTE = 'version';

export class DynamoDbViewStore<V extends object> implements ViewStore<V> {
  constructor(private readonly options: DynamoDbViewStoreOptions) {}

  async get(id: string): Promise<StoredView<V> | undefined> {
    const { Item } = await this.options.client.send(
      new GetCommand({
        TableName: this.options.tableName,
        Key: { [this.options.keyName]: id },
        ConsistentRead: true,
      }),
    );
    if (!Item) return undefined;
    const { [VIEW_VERSION_ATTRIBUTE]: version, ...view } = Item;
    return { view: view as V, version: Number(version) };
  }

  async put(id: string, view: V, version: number, expectedVersion: number): Promise<void> {
    const { keyName, tableName } = this.options;
    try {
      await this.options.client.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...view, [keyName]: id, [VIEW_VERSION_ATTRIBUTE]: version },
          ...(expectedVersion === 0
            ? {
                ConditionExpression: 'attribute_not_exists(#key)',
                ExpressionAttributeNames: { '#key': keyName },
              }
            : {
                ConditionExpression: '#version = :expected',
                ExpressionAttributeNames: { '#version': VIEW_VERSION_ATTRIBUTE },
                ExpressionAttributeValues: { ':expected': expectedVersion },
              }),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new ViewConflictError(id, expectedVersion);
      throw error;
    }
  }

  /** Deletes every view (before a rebuild into the same table); returns how many. */
  async clear(): Promise<number> {
    const { client, keyName, tableName } = this.options;
    let deleted = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await client.send(
        new ScanCommand({
          TableName: tableName,
          ProjectionExpression: '#key',
          ExpressionAttributeNames: { '#key': keyName },
          ExclusiveStartKey: startKey,
        }),
      );
      const keys = (page.Items ?? []).map((item) => ({ [keyName]: item[keyName] }));
      for (let i = 0; i < keys.length; i += 25) {
        let requests: Record<string, unknown[]> | undefined = {
          [tableName]: keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } })),
        };
        for (let attempt = 0; requests && Object.keys(requests).length > 0; attempt++) {
          if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
          const out = await client.send(new BatchWriteCommand({ RequestItems: requests as never }));
          requests = out.UnprocessedItems as Record<string, unknown[]> | undefined;
        }
      }
      deleted += keys.length;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return deleted;
  }
}

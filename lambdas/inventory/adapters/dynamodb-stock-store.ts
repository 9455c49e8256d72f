/**
 * DynamoDB adapter of `StockStore`. One table keyed by `sku`: stock items `{sku, available}` and
 * reservations under `reservation#<id>` with the reserved items. A reservation is one transaction:
 * the reservation item (condition: absent) plus one conditional decrement per SKU (condition:
 * `available >= quantity`), so stock never goes below zero and a redelivery takes nothing twice.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ReleaseOutcome, ReserveOutcome, StockStore } from '../domain/stock.js';

import { INVENTORY_KEY } from '../domain/table-schema.js';

export { INVENTORY_KEY };

const RESERVATION_PREFIX = 'reservation#';

export class DynamoDbStockStore implements StockStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async reserve(
    reservationId: string,
    items: readonly { sku: string; quantity: number }[],
  ): Promise<ReserveOutcome> {
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  [INVENTORY_KEY]: `${RESERVATION_PREFIX}${reservationId}`,
                  items: items.map(({ sku, quantity }) => ({ sku, quantity })),
                  reservedAt: new Date().toISOString(),
                },
                ConditionExpression: 'attribute_not_exists(#key)',
                ExpressionAttributeNames: { '#key': INVENTORY_KEY },
              },
            },
            ...items.map(({ sku, quantity }) => ({
              Update: {
                TableName: this.tableName,
                Key: { [INVENTORY_KEY]: sku },
                UpdateExpression: 'SET available = available - :q',
                ConditionExpression: 'available >= :q',
                ExpressionAttributeValues: { ':q': quantity },
              },
            })),
          ],
        }),
      );
      return { kind: 'reserved' };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      if (reasons[0]?.Code === 'ConditionalCheckFailed') return { kind: 'already-reserved' };
      const short = reasons.findIndex((r, i) => i > 0 && r.Code === 'ConditionalCheckFailed');
      if (short > 0) return { kind: 'insufficient', sku: items[short - 1]?.sku ?? 'unknown' };
      throw error; // a conflict with a concurrent writer: retried by the queue
    }
  }

  async release(reservationId: string): Promise<ReleaseOutcome> {
    const key = `${RESERVATION_PREFIX}${reservationId}`;
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { [INVENTORY_KEY]: key }, ConsistentRead: true }),
    );
    if (!Item) return 'nothing-reserved';
    const items = (Item.items ?? []) as { sku: string; quantity: number }[];
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Delete: {
                TableName: this.tableName,
                Key: { [INVENTORY_KEY]: key },
                ConditionExpression: 'attribute_exists(#key)',
                ExpressionAttributeNames: { '#key': INVENTORY_KEY },
              },
            },
            ...items.map(({ sku, quantity }) => ({
              Update: {
                TableName: this.tableName,
                Key: { [INVENTORY_KEY]: sku },
                UpdateExpression: 'ADD available :q',
                ExpressionAttributeValues: { ':q': quantity },
              },
            })),
          ],
        }),
      );
      return 'released';
    } catch (error) {
      if (
        error instanceof TransactionCanceledException &&
        error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed'
      ) {
        return 'nothing-reserved'; // released meanwhile by a concurrent delivery
      }
      throw error;
    }
  }

  async setAvailable(sku: string, available: number): Promise<void> {
    await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { [INVENTORY_KEY]: sku, available } }),
    );
  }
}

/**
 * DynamoDB adapter of `StockStore`. One table keyed by `sku`: stock items `{sku, available}` and
 * reservations under `reservation#<id>`: `{status: RESERVED | RELEASED, items}`, never deleted
 * (a deleted reservation would let a redelivered OrderPlaced reserve again).
 *
 * Each transition is one transaction, conditional on the reservation's state it was decided on:
 * - reserve: the reservation item (condition: absent) plus one conditional decrement per SKU
 *   (condition: `available >= quantity`), so stock never goes below zero and nothing is taken twice;
 * - release of a RESERVED one: the item to RELEASED (condition: still RESERVED) plus one increment
 *   per SKU it took, so stock comes back once;
 * - release of NONE: a RELEASED item that took nothing (condition: absent), which closes the
 *   reservation against a late reserve.
 * Items written before reservations had a status (they were deleted on release) read as RESERVED.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ReservationState, StockLine } from '../domain/reservation.js';
import type { ReleaseOutcome, ReserveOutcome, StockStore } from '../domain/stock.js';
import { INVENTORY_KEY } from '../domain/table-schema.js';

export { INVENTORY_KEY };

const RESERVATION_PREFIX = 'reservation#';

const isConditionFailure = (error: unknown, index: number): boolean =>
  error instanceof TransactionCanceledException &&
  error.CancellationReasons?.[index]?.Code === 'ConditionalCheckFailed';

export class DynamoDbStockStore implements StockStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private key(reservationId: string) {
    return { [INVENTORY_KEY]: `${RESERVATION_PREFIX}${reservationId}` };
  }

  async reservation(reservationId: string): Promise<ReservationState> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: this.key(reservationId), ConsistentRead: true }),
    );
    if (!Item) return { status: 'NONE', items: [] };
    const items = ((Item.items ?? []) as StockLine[]).map(({ sku, quantity }) => ({
      sku: String(sku),
      quantity: Number(quantity),
    }));
    return { status: Item.status === 'RELEASED' ? 'RELEASED' : 'RESERVED', items };
  }

  async reserve(reservationId: string, items: readonly StockLine[]): Promise<ReserveOutcome> {
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...this.key(reservationId),
                  status: 'RESERVED',
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
      if (reasons[0]?.Code === 'ConditionalCheckFailed') return { kind: 'conflict' };
      const short = reasons.findIndex((r, i) => i > 0 && r.Code === 'ConditionalCheckFailed');
      if (short > 0) return { kind: 'insufficient', sku: items[short - 1]?.sku ?? 'unknown' };
      throw error; // a conflict with a concurrent writer of a stock item: retried by the queue
    }
  }

  async release(reservationId: string, from: ReservationState): Promise<ReleaseOutcome> {
    const releasedAt = new Date().toISOString();
    try {
      if (from.status === 'NONE') {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...this.key(reservationId), status: 'RELEASED', items: [], releasedAt },
            ConditionExpression: 'attribute_not_exists(#key)',
            ExpressionAttributeNames: { '#key': INVENTORY_KEY },
          }),
        );
        return 'released';
      }
      if (from.status !== 'RESERVED') return 'conflict';
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: this.key(reservationId),
                UpdateExpression: 'SET #status = :released, releasedAt = :at',
                ConditionExpression:
                  'attribute_exists(#key) AND (attribute_not_exists(#status) OR #status = :reserved)',
                ExpressionAttributeNames: { '#key': INVENTORY_KEY, '#status': 'status' },
                ExpressionAttributeValues: {
                  ':released': 'RELEASED',
                  ':reserved': 'RESERVED',
                  ':at': releasedAt,
                },
              },
            },
            ...from.items.map(({ sku, quantity }) => ({
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
      if (isConditionFailure(error, 0) || (error as Error).name === 'ConditionalCheckFailedException') {
        return 'conflict';
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

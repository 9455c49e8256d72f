/**
 * DynamoDB adapter of the EventStore port.
 *
 * Table design (one table, `aggregateId` S partition key, `version` N sort key):
 * - event:    aggregateId = <aggregateId>,          version = 1, 2, … ; recordType = 'event'
 *             and every envelope field as a top-level attribute (`data` a map), so a stream
 *             record's NewImage carries the whole envelope;
 * - snapshot: aggregateId = `snapshot#<aggregateId>`, version = version of the last folded event;
 *             recordType = 'snapshot', `state` a map. Stream consumers skip recordType 'snapshot'.
 * Appends are conditional Puts (`attribute_not_exists(version)`), several events in one
 * TransactWriteItems, so a command's events are all written or none and a version is never
 * written twice. Loading = 1 Query (latest snapshot, Limit 1) + 1 Query (events after it).
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import type { EventEnvelope } from './envelope.js';
import {
  type AppendResult,
  assertAppendable,
  ConcurrencyError,
  CorruptRecordError,
  type EventStore,
  type LoadedEvents,
  type LoadedSnapshot,
  type LoadOptions,
  type Snapshot,
} from './event-store.js';

/** DynamoDB's limit of actions in one TransactWriteItems. */
export const MAX_EVENTS_PER_APPEND = 100;
export const SNAPSHOT_KEY_PREFIX = 'snapshot#';

export interface DynamoDbEventStoreOptions {
  /** A client built once per container; a plain DynamoDBClient is wrapped in a DocumentClient. */
  readonly client: DynamoDBClient | DynamoDBDocumentClient;
  readonly tableName: string;
}

export class DynamoDbEventStore implements EventStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(options: DynamoDbEventStoreOptions) {
    this.#doc =
      options.client instanceof DynamoDBDocumentClient
        ? options.client
        : DynamoDBDocumentClient.from(options.client, {
            marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
          });
    this.#tableName = options.tableName;
  }

  async load(aggregateId: string, options: LoadOptions = {}): Promise<LoadedEvents> {
    const fromVersion = options.fromVersion ?? 1;
    const events: EventEnvelope[] = [];
    let itemsRead = 0;
    let exclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.#doc.send(
        new QueryCommand({
          TableName: this.#tableName,
          KeyConditionExpression: 'aggregateId = :id AND version >= :from',
          ExpressionAttributeValues: { ':id': aggregateId, ':from': fromVersion },
          ConsistentRead: true,
          ExclusiveStartKey: exclusiveStartKey,
        }),
      );
      itemsRead += page.ScannedCount ?? page.Items?.length ?? 0;
      for (const item of page.Items ?? []) events.push(toEnvelope(item));
      exclusiveStartKey = page.LastEvaluatedKey;
    } while (exclusiveStartKey);
    return { events, itemsRead };
  }

  async append(
    aggregateId: string,
    expectedVersion: number,
    envelopes: readonly EventEnvelope[],
  ): Promise<AppendResult> {
    assertAppendable(aggregateId, expectedVersion, envelopes, MAX_EVENTS_PER_APPEND);
    const puts = envelopes.map((envelope) => ({
      TableName: this.#tableName,
      Item: { ...envelope, recordType: 'event' },
      ConditionExpression: 'attribute_not_exists(version)',
    }));
    try {
      const [single] = puts;
      if (single && puts.length === 1) {
        // One event: a plain conditional Put costs half a transactional write.
        await this.#doc.send(new PutCommand(single));
      } else {
        await this.#doc.send(new TransactWriteCommand({ TransactItems: puts.map((Put) => ({ Put })) }));
      }
    } catch (error) {
      if (isConflict(error)) throw new ConcurrencyError(aggregateId, expectedVersion, { cause: error });
      throw error;
    }
    return { version: expectedVersion + envelopes.length };
  }

  /**
   * Every aggregate id in the table, each once (its first event), for replays such as read-model
   * rebuilds. A full scan: an operations tool, never on a request path.
   */
  async *scanAggregateIds(): AsyncGenerator<string> {
    let exclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.#doc.send(
        new ScanCommand({
          TableName: this.#tableName,
          ProjectionExpression: 'aggregateId',
          FilterExpression: 'version = :first AND recordType = :event',
          ExpressionAttributeValues: { ':first': 1, ':event': 'event' },
          ExclusiveStartKey: exclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) yield str(item, 'aggregateId');
      exclusiveStartKey = page.LastEvaluatedKey;
    } while (exclusiveStartKey);
  }

  async getSnapshot<S>(aggregateId: string): Promise<LoadedSnapshot<S>> {
    const page = await this.#doc.send(
      new QueryCommand({
        TableName: this.#tableName,
        KeyConditionExpression: 'aggregateId = :id',
        ExpressionAttributeValues: { ':id': `${SNAPSHOT_KEY_PREFIX}${aggregateId}` },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const item = page.Items?.[0];
    return {
      snapshot: item ? toSnapshot<S>(aggregateId, item) : undefined,
      itemsRead: page.ScannedCount ?? page.Items?.length ?? 0,
    };
  }

  async putSnapshot<S>(snapshot: Snapshot<S>): Promise<void> {
    await this.#doc.send(
      new PutCommand({
        TableName: this.#tableName,
        Item: {
          aggregateId: `${SNAPSHOT_KEY_PREFIX}${snapshot.aggregateId}`,
          version: snapshot.version,
          recordType: 'snapshot',
          aggregateType: snapshot.aggregateType,
          schemaVersion: snapshot.schemaVersion,
          takenAt: snapshot.takenAt,
          state: snapshot.state,
        },
      }),
    );
  }
}

/** A conditional-check failure or a transaction that lost against another writer. */
function isConflict(error: unknown): boolean {
  if (error instanceof ConditionalCheckFailedException) return true;
  if (error instanceof TransactionCanceledException) {
    return (error.CancellationReasons ?? []).some(
      (reason) => reason.Code === 'ConditionalCheckFailed' || reason.Code === 'TransactionConflict',
    );
  }
  return false;
}

function toEnvelope(item: Record<string, unknown>): EventEnvelope {
  return {
    eventId: str(item, 'eventId'),
    type: str(item, 'type'),
    schemaVersion: num(item, 'schemaVersion'),
    aggregateType: str(item, 'aggregateType'),
    aggregateId: str(item, 'aggregateId'),
    version: num(item, 'version'),
    occurredAt: str(item, 'occurredAt'),
    correlationId: str(item, 'correlationId'),
    causationId: str(item, 'causationId'),
    data: item.data,
  };
}

function toSnapshot<S>(aggregateId: string, item: Record<string, unknown>): Snapshot<S> {
  return {
    aggregateId,
    aggregateType: str(item, 'aggregateType'),
    version: num(item, 'version'),
    schemaVersion: num(item, 'schemaVersion'),
    takenAt: str(item, 'takenAt'),
    state: item.state as S,
  };
}

function str(item: Record<string, unknown>, name: string): string {
  const value = item[name];
  if (typeof value !== 'string') throw corrupt(item, `${name} is not a string`);
  return value;
}

function num(item: Record<string, unknown>, name: string): number {
  const value = item[name];
  if (typeof value !== 'number') throw corrupt(item, `${name} is not a number`);
  return value;
}

function corrupt(item: Record<string, unknown>, problem: string): CorruptRecordError {
  const id = String(item.aggregateId);
  return new CorruptRecordError(id, `Stored record ${id} v${String(item.version)}: ${problem}`);
}

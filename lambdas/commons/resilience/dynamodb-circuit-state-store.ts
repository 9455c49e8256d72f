/**
 * DynamoDB adapter of `CircuitStateStore`: one item per circuit (`pk = circuit#<name>`) in the
 * operational-state table, changed only by atomic updates, so every instance of every function
 * sees and moves the same breaker.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type CircuitState, type CircuitStateStore, CLOSED } from './circuit-breaker.js';

import { OPERATIONAL_STATE_KEY } from './table-schema.js';

export { OPERATIONAL_STATE_KEY };

export class DynamoDbCircuitStateStore implements CircuitStateStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  #key(name: string) {
    return { [OPERATIONAL_STATE_KEY]: `circuit#${name}` };
  }

  async get(name: string): Promise<CircuitState> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: this.#key(name), ConsistentRead: true }),
    );
    return Item ? toState(Item) : CLOSED;
  }

  async recordFailure(name: string, threshold: number, openUntil: number): Promise<CircuitState> {
    const { Attributes } = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.#key(name),
        UpdateExpression: 'ADD failures :one',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const state = toState(Attributes ?? {});
    if (state.failures < threshold) return state;
    try {
      // Open it (or re-open after a failed probe); only once per rest period.
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.#key(name),
          UpdateExpression: 'SET openUntil = :until, probeUntil = :zero',
          ConditionExpression: 'attribute_not_exists(openUntil) OR openUntil < :until',
          ExpressionAttributeValues: { ':until': openUntil, ':zero': 0 },
        }),
      );
      return { ...state, openUntil, probeUntil: 0 };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return this.get(name);
      throw error;
    }
  }

  async recordSuccess(name: string): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...this.#key(name), failures: 0, openUntil: 0, probeUntil: 0 },
      }),
    );
  }

  async claimProbe(name: string, now: number, probeUntil: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.#key(name),
          UpdateExpression: 'SET probeUntil = :probeUntil',
          ConditionExpression: 'openUntil > :zero AND openUntil <= :now AND probeUntil <= :now',
          ExpressionAttributeValues: { ':probeUntil': probeUntil, ':now': now, ':zero': 0 },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

function toState(item: Record<string, unknown>): CircuitState {
  return {
    failures: Number(item.failures ?? 0),
    openUntil: Number(item.openUntil ?? 0),
    probeUntil: Number(item.probeUntil ?? 0),
  };
}

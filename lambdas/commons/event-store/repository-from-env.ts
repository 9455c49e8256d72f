/**
 * An AggregateRepository over the DynamoDB event store named by the function's environment
 * (EVENT_STORE_TABLE_NAME, SNAPSHOT_EVERY), built once per container. The events a command
 * appends count as `EventsProduced` of the function.
 */

import { documentClient } from '../clients/dynamodb.js';
import type { Decider, DomainEvent } from '../domain/decider.js';
import { requiredEnv } from '../env.js';
import { countEvents } from '../observability/invocation.js';
import { logger } from '../powertools.js';
import { DynamoDbEventStore } from './dynamodb-event-store.js';
import { AggregateRepository } from './repository.js';

/** Concurrent writers on one aggregate retry this often before the request gets a 409. */
export const API_RETRY = { attempts: 8, baseDelayMs: 15, maxDelayMs: 500 } as const;

export function repositoryFromEnv<S, C, E extends DomainEvent>(
  decider: Decider<S, C, E>,
): AggregateRepository<S, C, E> {
  const snapshotEvery = Number(process.env.SNAPSHOT_EVERY ?? '50');
  return new AggregateRepository({
    decider,
    store: new DynamoDbEventStore({
      client: documentClient(),
      tableName: requiredEnv('EVENT_STORE_TABLE_NAME'),
    }),
    snapshotEvery,
    retry: {
      ...API_RETRY,
      onRetry: (error, attempt, delayMs) =>
        logger.warn('Concurrent append, retrying', { aggregateId: error.aggregateId, attempt, delayMs }),
    },
    onSnapshotError: (error, aggregateId, version) =>
      logger.warn('Snapshot not written', { aggregateId, version, error: error as Error }),
    onAppended: (events) => countEvents('EventsProduced', events.length),
  });
}

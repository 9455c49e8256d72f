/**
 * Loads event-sourced aggregates (snapshot + later events, folded with the decider) and handles
 * commands on them: load → decide → append at the loaded version, retried on concurrent writes.
 */
import type { Decider, DomainEvent } from '../domain/decider.js';
import { createEnvelope, type EventEnvelope, toDomainEvent, Upcasters } from './envelope.js';
import { type EventStore, type RetryOptions, withOptimisticRetry } from './event-store.js';

export const DEFAULT_SNAPSHOT_EVERY = 50;

export interface AggregateRepositoryOptions<S, C, E extends DomainEvent> {
  readonly decider: Decider<S, C, E>;
  readonly store: EventStore;
  /** Take a snapshot whenever an append crosses a multiple of N; default 50, 0 disables. */
  readonly snapshotEvery?: number;
  /** Version of the state's shape; bump it when `S` changes so older snapshots are ignored. */
  readonly stateSchemaVersion?: number;
  readonly upcasters?: Upcasters;
  /** Retry of concurrent writes; defaults to `DEFAULT_RETRY` (5 attempts, 10 ms base, full jitter). */
  readonly retry?: RetryOptions;
  readonly now?: () => Date;
  /** Told about a failed snapshot write (the command itself succeeded); default: ignored. */
  readonly onSnapshotError?: (error: unknown, aggregateId: string, version: number) => void;
  /** Told about the envelopes a command appended (committed; never called for none). */
  readonly onAppended?: (events: readonly EventEnvelope<E>[]) => void;
}

export interface LoadStats {
  /** Items read from the store: the snapshot (if any) plus the events after it. */
  readonly itemsRead: number;
  readonly snapshotVersion: number | undefined;
  readonly eventsReplayed: number;
}

/** Who an event of the stream is: enough to tell a genuine redelivery from a forged event. */
export interface StoredEventIdentity {
  readonly eventId: string;
  readonly type: string;
  readonly version: number;
}

export interface LoadedAggregate<S> {
  readonly state: S;
  readonly version: number;
  readonly stats: LoadStats;
  /**
   * The identities of the events replayed by this load (those after the snapshot, if any), in
   * version order: a consumer checks an event it received against them at no extra read.
   */
  readonly replayed: readonly StoredEventIdentity[];
}

export interface CommandMetadata {
  readonly correlationId: string;
  readonly causationId: string;
}

export interface HandleResult<E extends DomainEvent> {
  /** The envelopes appended (empty when the command caused no event). */
  readonly events: readonly EventEnvelope<E>[];
  /** Version of the stream after the command. */
  readonly version: number;
  /** Attempts it took (1 without conflict). */
  readonly attempts: number;
}

export class AggregateRepository<S, C, E extends DomainEvent> {
  readonly #decider: Decider<S, C, E>;
  readonly #store: EventStore;
  readonly #snapshotEvery: number;
  readonly #stateSchemaVersion: number;
  readonly #upcasters: Upcasters;
  readonly #retry: RetryOptions;
  readonly #now: () => Date;
  readonly #onSnapshotError: AggregateRepositoryOptions<S, C, E>['onSnapshotError'];
  readonly #onAppended: AggregateRepositoryOptions<S, C, E>['onAppended'];

  constructor(options: AggregateRepositoryOptions<S, C, E>) {
    const snapshotEvery = options.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY;
    if (!Number.isInteger(snapshotEvery) || snapshotEvery < 0) {
      throw new RangeError(`snapshotEvery must be an integer >= 0, got ${snapshotEvery}`);
    }
    this.#decider = options.decider;
    this.#store = options.store;
    this.#snapshotEvery = snapshotEvery;
    this.#stateSchemaVersion = options.stateSchemaVersion ?? 1;
    this.#upcasters = options.upcasters ?? new Upcasters();
    this.#retry = options.retry ?? {};
    this.#now = options.now ?? (() => new Date());
    this.#onSnapshotError = options.onSnapshotError;
    this.#onAppended = options.onAppended;
  }

  async load(aggregateId: string): Promise<LoadedAggregate<S>> {
    let state = this.#decider.initialState;
    let version = 0;
    let itemsRead = 0;
    let snapshotVersion: number | undefined;
    if (this.#snapshotEvery > 0) {
      const loaded = await this.#store.getSnapshot<S>(aggregateId);
      itemsRead += loaded.itemsRead;
      const snapshot = loaded.snapshot;
      if (
        snapshot &&
        snapshot.schemaVersion === this.#stateSchemaVersion &&
        snapshot.aggregateType === this.#decider.aggregateType
      ) {
        state = snapshot.state;
        version = snapshot.version;
        snapshotVersion = snapshot.version;
      }
    }
    const { events, itemsRead: eventsRead } = await this.#store.load(aggregateId, {
      fromVersion: version + 1,
    });
    itemsRead += eventsRead;
    const replayed: StoredEventIdentity[] = [];
    for (const stored of events) {
      if (stored.version !== version + 1) {
        throw new Error(
          `Stream ${aggregateId} has a gap: expected version ${version + 1}, got ${stored.version}`,
        );
      }
      state = this.#decider.evolve(state, toDomainEvent(this.#upcasters.upcast<E>(stored)));
      version = stored.version;
      replayed.push({ eventId: stored.eventId, type: stored.type, version: stored.version });
    }
    return {
      state,
      version,
      stats: { itemsRead, snapshotVersion, eventsReplayed: events.length },
      replayed,
    };
  }

  async handle(aggregateId: string, command: C, metadata: CommandMetadata): Promise<HandleResult<E>> {
    const outcome = await withOptimisticRetry(async (attempt) => {
      const { state, version } = await this.load(aggregateId);
      const decided = this.#decider.decide(state, command);
      if (decided.length === 0)
        return { events: [], version, attempts: attempt, state, fromVersion: version };
      const occurredAt = this.#now().toISOString();
      const envelopes = decided.map((event, index) =>
        createEnvelope(event, {
          aggregateType: this.#decider.aggregateType,
          aggregateId,
          version: version + index + 1,
          schemaVersion: this.#upcasters.currentVersion(event.type),
          occurredAt,
          correlationId: metadata.correlationId,
          causationId: metadata.causationId,
        }),
      );
      const appended = await this.#store.append(aggregateId, version, envelopes);
      const newState = decided.reduce((s, event) => this.#decider.evolve(s, event), state);
      return {
        events: envelopes,
        version: appended.version,
        attempts: attempt,
        state: newState,
        fromVersion: version,
      };
    }, this.#retry);

    if (outcome.events.length > 0) this.#onAppended?.(outcome.events);
    // Outside the retry: the events are committed, so a failed snapshot must not rerun the command.
    if (this.#crossesSnapshotBoundary(outcome.fromVersion, outcome.version)) {
      try {
        await this.#store.putSnapshot({
          aggregateId,
          aggregateType: this.#decider.aggregateType,
          version: outcome.version,
          schemaVersion: this.#stateSchemaVersion,
          state: outcome.state,
          takenAt: this.#now().toISOString(),
        });
      } catch (error) {
        this.#onSnapshotError?.(error, aggregateId, outcome.version);
      }
    }
    return { events: outcome.events, version: outcome.version, attempts: outcome.attempts };
  }

  #crossesSnapshotBoundary(from: number, to: number): boolean {
    const n = this.#snapshotEvery;
    return n > 0 && to > from && Math.floor(to / n) > Math.floor(from / n);
  }
}

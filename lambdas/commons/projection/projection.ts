/**
 * Projections: read models folded from the event store's streams, one view per aggregate.
 *
 * Delivery from a stream is at least once, and a replay or a retry can hand events over late, so
 * applying is guarded by the view's version (the aggregate version it has folded so far):
 * - version v is applied only on top of v-1 (a conditional write on the stored version);
 * - v at or below the stored version is a duplicate and is ignored;
 * - v above the stored version + 1 is a gap: a retryable error, so the event comes again after
 *   the missing ones.
 * Pure of AWS and Lambda: a `ViewStore` adapter does the reads and conditional writes.
 */
import type { DomainEvent } from '../domain/decider.js';
import type { EventEnvelope } from '../event-store/envelope.js';

/** A view as stored: the projection's document plus the version it reflects. */
export interface StoredView<V> {
  readonly view: V;
  /** Aggregate version of the last event folded into `view`. */
  readonly version: number;
}

export interface ViewProjection<V, E extends DomainEvent = DomainEvent> {
  /** Name of the read model, e.g. `orders`. */
  readonly name: string;
  /** Only envelopes of this aggregate type reach `project`. */
  readonly aggregateType: string;
  /**
   * The view after one event. `current` is undefined before the first event. Throws
   * `InvalidEventError` for an event it cannot fold (bad data): that event is dead-lettered.
   */
  project(current: V | undefined, event: EventEnvelope<E>): V;
}

/** Reads and conditionally writes views; adapters: DynamoDB, in-memory (tests). */
export interface ViewStore<V> {
  get(id: string): Promise<StoredView<V> | undefined>;
  /**
   * Writes `view` at `version` if the stored version is still `expectedVersion` (0: no view yet);
   * otherwise throws `ViewConflictError`.
   */
  put(id: string, view: V, version: number, expectedVersion: number): Promise<void>;
}

/** Events are missing between the view and this event: retry once they have been applied. */
export class ProjectionGapError extends Error {
  readonly retryable = true;
  constructor(
    readonly projection: string,
    readonly aggregateId: string,
    readonly viewVersion: number,
    readonly eventVersion: number,
  ) {
    super(
      `${projection}: view ${aggregateId} is at version ${viewVersion}; event version ${eventVersion} must wait for ${viewVersion + 1}`,
    );
    this.name = 'ProjectionGapError';
  }
}

/** Another writer changed the view between our read and our write. */
export class ViewConflictError extends Error {
  readonly retryable = true;
  constructor(
    readonly aggregateId: string,
    readonly expectedVersion: number,
  ) {
    super(`View ${aggregateId} is no longer at version ${expectedVersion}`);
    this.name = 'ViewConflictError';
  }
}

/** An event whose data the projection cannot fold: retrying cannot help, it is dead-lettered. */
export class InvalidEventError extends Error {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventError';
  }
}

export type ApplyOutcome = 'applied' | 'duplicate';

/** Reads tried after a conflicting write before giving up (the event is then retried whole). */
const CONFLICT_ATTEMPTS = 3;

/** Applies one event to its view under the version guard described above. */
export async function applyToView<V, E extends DomainEvent>(
  projection: ViewProjection<V, E>,
  store: ViewStore<V>,
  event: EventEnvelope<E>,
): Promise<ApplyOutcome> {
  for (let attempt = 1; ; attempt++) {
    const current = await store.get(event.aggregateId);
    const have = current?.version ?? 0;
    if (event.version <= have) return 'duplicate';
    if (event.version > have + 1) {
      throw new ProjectionGapError(projection.name, event.aggregateId, have, event.version);
    }
    const next = projection.project(current?.view, event);
    try {
      await store.put(event.aggregateId, next, event.version, have);
      return 'applied';
    } catch (error) {
      if (!(error instanceof ViewConflictError) || attempt >= CONFLICT_ATTEMPTS) throw error;
    }
  }
}

/** Whether an error thrown while applying should make the event come again. */
export function isRetryable(error: unknown): boolean {
  return !(error instanceof InvalidEventError);
}

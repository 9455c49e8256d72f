/**
 * Routes event store items (as a stream delivers them) to the projections of their aggregate
 * type. Snapshots and other aggregate types are skipped; items that are not envelopes and events
 * a projection cannot fold raise `InvalidEventError` (dead-letter them); gaps and conflicts raise
 * retryable errors. Pure of AWS and Lambda.
 */

import type { Upcasters } from '../event-store/envelope.js';
import { readStoredRecord } from '../event-store/stored-record.js';
import {
  type ApplyOutcome,
  applyToView,
  InvalidEventError,
  type ViewProjection,
  type ViewStore,
} from './projection.js';

export interface ProjectionTarget<V = unknown> {
  readonly projection: ViewProjection<V>;
  readonly store: ViewStore<V>;
}

export type ProjectOutcome = ApplyOutcome | 'skipped';

export interface StreamProjectorOptions {
  readonly targets: readonly ProjectionTarget[];
  /** Brings older event payloads to their current schema before projecting. */
  readonly upcasters?: Upcasters;
}

export class StreamProjector {
  readonly #byType = new Map<string, ProjectionTarget[]>();

  constructor(private readonly options: StreamProjectorOptions) {
    for (const target of options.targets) {
      const list = this.#byType.get(target.projection.aggregateType) ?? [];
      list.push(target);
      this.#byType.set(target.projection.aggregateType, list);
    }
  }

  /** Projects one item of the event store table; the outcome of the first target wins. */
  async project(item: unknown): Promise<ProjectOutcome> {
    const record = readStoredRecord(item);
    if (record.kind === 'snapshot') return 'skipped';
    if (record.kind === 'invalid') throw new InvalidEventError(record.reason);
    const targets = this.#byType.get(record.envelope.aggregateType);
    if (!targets) return 'skipped';
    let envelope = record.envelope;
    if (this.options.upcasters) {
      try {
        envelope = this.options.upcasters.upcast(envelope);
      } catch (error) {
        throw new InvalidEventError((error as Error).message);
      }
    }
    const outcomes: ApplyOutcome[] = [];
    for (const { projection, store } of targets)
      outcomes.push(await applyToView(projection, store, envelope));
    return outcomes.includes('applied') ? 'applied' : 'duplicate';
  }
}

/**
 * Rebuilds read models by replaying the event store: every aggregate's stream, in version order,
 * through the same projections and version guard as the live projector. Run it into empty views
 * (a new table, or one cleared first); a live projector may keep running meanwhile, because each
 * version is applied exactly once whoever gets there first. Memory is bounded by `concurrency`
 * streams, not by the size of the store.
 */
import type { EventEnvelope } from '../event-store/envelope.js';
import { CorruptRecordError } from '../event-store/event-store.js';
import { InvalidEventError } from './projection.js';
import type { ProjectionTarget } from './stream-projector.js';
import { StreamProjector } from './stream-projector.js';

export interface RebuildOptions {
  /** Every aggregate id in the store (each once). */
  readonly aggregateIds: AsyncIterable<string>;
  /** The aggregate's events in version order. */
  readonly loadEvents: (aggregateId: string) => Promise<readonly EventEnvelope[]>;
  readonly targets: readonly ProjectionTarget[];
  /** Streams replayed at once. @default 8 */
  readonly concurrency?: number;
  readonly onProgress?: (progress: RebuildReport) => void;
}

export interface RebuildReport {
  aggregates: number;
  events: number;
  applied: number;
  /**
   * Events no projection could fold, or streams with an unreadable item (version 0): the rest of
   * that aggregate's stream is not replayed.
   */
  invalid: { aggregateId: string; version: number; reason: string }[];
}

export async function rebuildViews(options: RebuildOptions): Promise<RebuildReport> {
  const projector = new StreamProjector({ targets: options.targets });
  const report: RebuildReport = { aggregates: 0, events: 0, applied: 0, invalid: [] };
  const concurrency = options.concurrency ?? 8;
  const running = new Set<Promise<void>>();

  const replay = async (aggregateId: string): Promise<void> => {
    let events: readonly EventEnvelope[];
    try {
      events = await options.loadEvents(aggregateId);
    } catch (error) {
      if (!(error instanceof CorruptRecordError)) throw error;
      report.invalid.push({ aggregateId, version: 0, reason: error.message });
      return;
    }
    for (const event of events) {
      report.events++;
      try {
        if ((await projector.project({ ...event, recordType: 'event' })) === 'applied') report.applied++;
      } catch (error) {
        if (!(error instanceof InvalidEventError)) throw error;
        report.invalid.push({ aggregateId, version: event.version, reason: error.message });
        return;
      }
    }
    report.aggregates++;
    options.onProgress?.(report);
  };

  // Every task's failure is caught where it is created, so none goes unobserved; the first one
  // ends the rebuild once the tasks in flight have settled.
  let failure: { error: unknown } | undefined;
  for await (const aggregateId of options.aggregateIds) {
    if (failure) break;
    const task: Promise<void> = replay(aggregateId)
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => running.delete(task));
    running.add(task);
    if (running.size >= concurrency) await Promise.race(running);
  }
  await Promise.all(running);
  if (failure) throw failure.error;
  return report;
}

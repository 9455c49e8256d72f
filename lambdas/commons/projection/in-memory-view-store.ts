import { type StoredView, ViewConflictError, type ViewStore } from './projection.js';

/** A `ViewStore` in a Map: for tests and for rebuilding into memory. */
export class InMemoryViewStore<V> implements ViewStore<V> {
  readonly views = new Map<string, StoredView<V>>();

  async get(id: string): Promise<StoredView<V> | undefined> {
    return this.views.get(id);
  }

  async put(id: string, view: V, version: number, expectedVersion: number): Promise<void> {
    if ((this.views.get(id)?.version ?? 0) !== expectedVersion)
      throw new ViewConflictError(id, expectedVersion);
    this.views.set(id, { view, version });
  }
}

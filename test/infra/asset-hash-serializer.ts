import type { SnapshotSerializer } from 'vitest';

/**
 * Replaces asset hashes (64 hex characters) with a placeholder so that snapshots change with the
 * template, not with every edit of a handler's code or a dependency bump.
 */
const ASSET_HASH = /[0-9a-f]{64}/g;
const MARK = '[ASSET-HASH]';

function hasHash(value: unknown): value is string {
  return typeof value === 'string' && /[0-9a-f]{64}/.test(value);
}

const serializer: SnapshotSerializer = {
  test: (value) => hasHash(value),
  serialize: (value: string, config, indentation, depth, refs, printer) =>
    printer(value.replace(ASSET_HASH, MARK), config, indentation, depth, refs),
};

export default serializer;

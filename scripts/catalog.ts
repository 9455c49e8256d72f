/**
 * Writes the event schema catalog to docs/events/ (see scripts/lib/catalog.ts), or checks it.
 *
 *   npm run catalog                # (re)generate: writes what changed, removes what no longer exists
 *   npm run catalog -- --check     # exit 1, listing stale, missing and extra files; writes nothing
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { buildCatalog, CATALOG_DIR, REPO_ROOT } from './lib/catalog.js';

const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });

/** Every file under the catalog directory, as repository-relative POSIX paths. */
function filesOnDisk(dir = join(REPO_ROOT, CATALOG_DIR)): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory()
        ? filesOnDisk(join(dir, entry.name))
        : [relative(REPO_ROOT, join(dir, entry.name)).split(sep).join('/')],
    )
    .sort();
}

const catalog = buildCatalog();
const onDisk = filesOnDisk();
const missing = [...catalog.keys()].filter((path) => !onDisk.includes(path));
const stale = [...catalog].filter(
  ([path, content]) => onDisk.includes(path) && readFileSync(join(REPO_ROOT, path), 'utf8') !== content,
);
const extra = onDisk.filter((path) => !catalog.has(path));

if (values.check) {
  const problems = [
    ...stale.map(([path]) => `stale:   ${path}`),
    ...missing.map((path) => `missing: ${path}`),
    ...extra.map((path) => `extra:   ${path}`),
  ];
  if (problems.length > 0) {
    process.stderr.write(
      `${CATALOG_DIR} is not what the code says:\n${problems.map((p) => `  ${p}`).join('\n')}\n` +
        'run `npm run catalog` and commit the result\n',
    );
    process.exit(1);
  }
  process.stdout.write(`${CATALOG_DIR} is current (${catalog.size} files)\n`);
} else {
  for (const path of [...missing, ...stale.map(([p]) => p)]) {
    const target = join(REPO_ROOT, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, catalog.get(path) as string);
  }
  for (const path of extra) {
    rmSync(join(REPO_ROOT, path));
    // Directories the removal emptied go too (the catalog's own stays).
    let dir = dirname(join(REPO_ROOT, path));
    while (dir !== join(REPO_ROOT, CATALOG_DIR) && readdirSync(dir).length === 0) {
      rmdirSync(dir);
      dir = dirname(dir);
    }
  }
  const changes = [
    ...missing.map((path) => `  added   ${path}`),
    ...stale.map(([path]) => `  updated ${path}`),
    ...extra.map((path) => `  removed ${path}`),
  ];
  process.stdout.write(
    changes.length > 0
      ? `${changes.join('\n')}\n${CATALOG_DIR}: ${catalog.size} files\n`
      : `${CATALOG_DIR} was already current (${catalog.size} files)\n`,
  );
}

import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Task roots: each function runs from a copy of its asset in a directory of its own outside the
 * repository, as Lambda runs it from /var/task, next to a `node_modules/@aws-sdk` that links to the
 * SDK installed in this repository (the runtime-provided SDK).
 *
 * Why a copy rather than loader hooks: Node's own resolution then does the work, the same for
 * `import`, `require` and the `createRequire` shim of ESM bundles, on every Node version, with no
 * hooks thread per sandbox. And it is faithful where the asset dir inside `cdk.out/` is not: from
 * there, resolution walks up to the repository's node_modules (any package would resolve, while
 * Lambda has only the SDK), and the repository's package.json (`"type": "module"`) would turn a
 * CommonJS `index.js` into an ES module.
 */

const ROOT_PREFIX = 'local-cloud-lambda-';

/** Where task roots go by default: the system temp dir, whose ancestors hold no package.json or node_modules. */
export const DEFAULT_WORK_DIR = join(tmpdir(), 'local-cloud-lambda');

/** The nearest ancestor of this file whose node_modules holds @aws-sdk: the SDK the runtime provides. */
export function findRuntimeModules(from = dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules', '@aws-sdk'))) return join(dir, 'node_modules');
    if (dirname(dir) === dir) return undefined;
  }
}

const cleaned = new Set<string>();

/** Removes task roots left behind by processes that are gone (once per work dir and process). */
async function removeStaleRoots(workDir: string): Promise<void> {
  if (cleaned.has(workDir)) return;
  cleaned.add(workDir);
  const entries = await readdir(workDir).catch(() => []);
  await Promise.all(
    entries.map(async (entry) => {
      const pid = Number(/^local-cloud-lambda-(\d+)-/.exec(entry)?.[1]);
      if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) return;
      await rm(join(workDir, entry), { recursive: true, force: true });
    }),
  );
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Source maps of the copy point at the original sources: a `sourceRoot` relative to the asset dir
 * is made absolute, so stack traces (with --enable-source-maps) name the real files.
 */
async function anchorSourceMaps(dir: string, assetDir: string, taskRoot: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules')
      await anchorSourceMaps(path, assetDir, taskRoot);
    if (!entry.isFile() || !entry.name.endsWith('.map')) continue;
    try {
      const map = JSON.parse(await readFile(path, 'utf8')) as { sourceRoot?: unknown };
      const original = join(assetDir, relative(taskRoot, dirname(path)));
      const root = typeof map.sourceRoot === 'string' ? map.sourceRoot : '';
      map.sourceRoot = new URL(root, `${pathToFileURL(original).href}/`).href.replace(/\/?$/, '/');
      await writeFile(path, JSON.stringify(map));
    } catch {
      // Not a source map we can read: leave it as it is.
    }
  }
}

export interface TaskRootOptions {
  /** Parent of the task roots. @default DEFAULT_WORK_DIR */
  readonly workDir?: string;
  /** node_modules dir whose @aws-sdk is linked in. @default findRuntimeModules() */
  readonly runtimeModules?: string;
}

/** Copies an asset into a fresh task root and returns its path. */
export async function createTaskRoot(
  assetDir: string,
  name: string,
  options: TaskRootOptions = {},
): Promise<string> {
  const workDir = options.workDir ?? DEFAULT_WORK_DIR;
  await mkdir(workDir, { recursive: true });
  await removeStaleRoots(workDir);
  const safeName = name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  const taskRoot = await mkdtemp(join(workDir, `${ROOT_PREFIX}${process.pid}-${safeName}-`));
  try {
    await cp(assetDir, taskRoot, { recursive: true });
    // No package.json above /var/task in Lambda: stop the package scope here, so a CommonJS bundle
    // stays CommonJS whatever is above the work dir.
    if (!existsSync(join(taskRoot, 'package.json'))) await writeFile(join(taskRoot, 'package.json'), '{}\n');
    const runtimeModules = options.runtimeModules ?? findRuntimeModules();
    const sdkLink = join(taskRoot, 'node_modules', '@aws-sdk');
    if (runtimeModules !== undefined && !existsSync(sdkLink)) {
      await mkdir(dirname(sdkLink), { recursive: true });
      await symlink(join(runtimeModules, '@aws-sdk'), sdkLink, 'dir');
    }
    await anchorSourceMaps(taskRoot, assetDir, taskRoot);
    return taskRoot;
  } catch (error) {
    await removeTaskRoot(taskRoot);
    throw error;
  }
}

export async function removeTaskRoot(taskRoot: string): Promise<void> {
  await rm(taskRoot, { recursive: true, force: true });
}

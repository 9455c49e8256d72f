/**
 * Finds the Node.js Lambda bundles in a CDK cloud assembly (`cdk.out`, including nested
 * `assembly-*` directories of stages, and nested-stack templates).
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ModuleFormat } from './types.js';

export interface DiscoveredBundle {
  name: string;
  /** Absolute, real path of the asset directory. */
  assetDir: string;
  /** Entry file name inside `assetDir` (index.mjs / index.js). */
  entryFile: string;
  format: ModuleFormat;
  /** Size of the entry file in bytes (its .map excluded). */
  bytes: number;
  runtime: string | null;
  memorySize: number | null;
  /** Construct paths (or logical ids) of every function using this asset. */
  functions: string[];
  /** Environment of the first function; unresolved CloudFormation values are replaced by placeholders. */
  environment: Record<string, string>;
  cdkInternal: boolean;
}

export interface SkippedFunction {
  function: string;
  reason: string;
}

export interface Discovery {
  bundles: DiscoveredBundle[];
  skipped: SkippedFunction[];
  templates: number;
}

type JsonRecord = Record<string, unknown>;

function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function readJson(file: string): Promise<unknown> {
  return JSON.parse(await readFile(file, 'utf8'));
}

const INTERNAL_METADATA_PREFIX = 'aws:cdk:is-custom-resource-handler-';

interface AssemblyMetadata {
  /** template file name → (logical id → construct path) */
  pathsByTemplate: Map<string, Map<string, string>>;
  /** construct paths CDK marks as custom-resource handlers (custom resource providers, singletons...) */
  internalPaths: Set<string>;
  /** nested assembly directory names declared in the manifest */
  nestedAssemblies: string[];
}

function stripSlash(constructPath: string): string {
  return constructPath.replace(/^\/+/, '');
}

async function readAssemblyMetadata(dir: string): Promise<AssemblyMetadata> {
  const result: AssemblyMetadata = {
    pathsByTemplate: new Map(),
    internalPaths: new Set(),
    nestedAssemblies: [],
  };
  const manifestFile = path.join(dir, 'manifest.json');
  if (!existsSync(manifestFile)) return result;
  const manifest = await readJson(manifestFile);
  if (!isRecord(manifest) || !isRecord(manifest.artifacts)) return result;
  for (const artifact of Object.values(manifest.artifacts)) {
    if (!isRecord(artifact) || !isRecord(artifact.properties)) continue;
    if (artifact.type === 'cdk:cloud-assembly' && typeof artifact.properties.directoryName === 'string') {
      result.nestedAssemblies.push(artifact.properties.directoryName);
      continue;
    }
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    const templateFile = artifact.properties.templateFile;
    if (typeof templateFile !== 'string') continue;
    // Older CDK versions inline the metadata; newer ones write it to `<stack>.metadata.json`.
    const sources: unknown[] = [artifact.metadata];
    if (typeof artifact.additionalMetadataFile === 'string') {
      const file = path.join(dir, artifact.additionalMetadataFile);
      if (existsSync(file)) sources.push(await readJson(file));
    }
    const paths = new Map<string, string>();
    for (const source of sources) {
      if (!isRecord(source)) continue;
      for (const [constructPath, entries] of Object.entries(source)) {
        if (!Array.isArray(entries)) continue;
        for (const entry of entries) {
          if (!isRecord(entry) || typeof entry.type !== 'string') continue;
          if (entry.type === 'aws:cdk:logicalId' && typeof entry.data === 'string') {
            paths.set(entry.data, stripSlash(constructPath));
          } else if (entry.type.startsWith(INTERNAL_METADATA_PREFIX)) {
            result.internalPaths.add(stripSlash(constructPath));
          }
        }
      }
    }
    result.pathsByTemplate.set(templateFile, paths);
  }
  return result;
}

/** Construct ids that only say "this is the function" and are dropped when naming a bundle. */
const GENERIC_IDS = new Set(['function', 'handler', 'lambda', 'fn']);
const RESOURCE_IDS = new Set(['resource', 'default']);

/** kebab-case of a construct id: `OrderApi` → `order-api`, `S3AutoDelete` → `s3-auto-delete`, `APIKey` → `api-key`. */
export function toKebab(id: string): string {
  return id
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .toLowerCase();
}

/**
 * Bundle name from a construct path: the last meaningful construct id, kebab-cased.
 * `Dev-Orders/OrderApi/Function/Resource` → `order-api`; `Stack/OutboxWorkerHandler/Resource` → `outbox-worker`.
 * Trailing `Resource`/`Default` ids are dropped, then trailing generic ids (`Function`, `Handler`, `Lambda`,
 * `Fn`) as long as the stack id and one more remain, then a trailing `-function`/`-handler` word.
 * Without a construct path, the logical id minus its 8-character hash suffix is used.
 */
export function bundleNameFromPath(constructPath: string | undefined, logicalId: string): string {
  const segments = constructPath ? constructPath.split('/').filter((segment) => segment.length > 0) : [];
  while (segments.length > 0 && RESOURCE_IDS.has((segments.at(-1) ?? '').toLowerCase())) segments.pop();
  // Keep the stack id out of it: `Stack/Handler/Resource` stays `handler`.
  while (segments.length > 2 && GENERIC_IDS.has((segments.at(-1) ?? '').toLowerCase())) segments.pop();
  const id = segments.at(-1) ?? logicalId.replace(/[0-9A-F]{8}$/, '');
  let name = toKebab(id);
  for (const word of ['function', 'handler', 'lambda', 'fn']) {
    if (name.endsWith(`-${word}`)) {
      name = name.slice(0, -(word.length + 1));
      break;
    }
  }
  return name || toKebab(logicalId) || 'function';
}

/** Heuristic for CDK-internal handlers whose construct lacks the `is-custom-resource-handler` marker. */
function looksInternal(constructPath: string): boolean {
  return constructPath.split('/').some(
    (segment) =>
      /[0-9a-f]{32}$/i.test(segment) || // SingletonFunction ids: AWS679f53fac002430cb0da5b7982bd2287, LogRetention<uuid>
      segment.includes('CustomResourceProvider') ||
      segment.startsWith('framework-'), // custom-resources Provider framework handlers
  );
}

function isInternal(constructPath: string, internalPaths: ReadonlySet<string>): boolean {
  for (const marked of internalPaths) {
    if (constructPath === marked || constructPath.startsWith(`${marked}/`)) return true;
  }
  return looksInternal(constructPath);
}

/** Placeholder for an environment value that is a CloudFormation expression (Ref, Fn::GetAtt...). */
function placeholder(key: string): string {
  const slug = toKebab(key) || 'value';
  if (/arn$/i.test(key)) return `arn:aws:lambda:us-east-1:000000000000:bench-${slug}`;
  if (/url$/i.test(key)) return `https://bench.invalid/${slug}`;
  return `bench-${slug}`;
}

function environmentOf(properties: JsonRecord): Record<string, string> {
  const environment = properties.Environment;
  if (!isRecord(environment) || !isRecord(environment.Variables)) return {};
  const variables: Record<string, string> = {};
  for (const [key, value] of Object.entries(environment.Variables)) {
    variables[key] =
      typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : placeholder(key);
  }
  return variables;
}

async function isDirectory(candidate: string): Promise<boolean> {
  try {
    return (await stat(candidate)).isDirectory();
  } catch {
    return false;
  }
}

/** `aws:asset:path` metadata, or (when asset metadata is disabled) `asset.<hash>` from `Code.S3Key`. */
async function findAssetDir(
  dir: string,
  root: string,
  metadata: JsonRecord,
  properties: JsonRecord,
): Promise<string | undefined> {
  const assetPath = metadata['aws:asset:path'];
  if (typeof assetPath === 'string') return path.resolve(dir, assetPath);
  const code = properties.Code;
  const key =
    isRecord(code) && typeof code.S3Key === 'string' ? /^([0-9a-f]{64})\.zip$/.exec(code.S3Key) : null;
  if (!key) return undefined;
  for (let current = dir; ; current = path.dirname(current)) {
    const candidate = path.join(current, `asset.${key[1]}`);
    if (await isDirectory(candidate)) return candidate;
    if (current === root || path.dirname(current) === current) return undefined;
  }
}

async function entryOf(assetDir: string, handler: unknown): Promise<string | undefined> {
  const candidates: string[] = [];
  if (typeof handler === 'string' && handler.includes('.')) {
    const module = handler.slice(0, handler.lastIndexOf('.'));
    candidates.push(`${module}.mjs`, `${module}.js`, `${module}.cjs`);
  }
  candidates.push('index.mjs', 'index.js');
  for (const candidate of candidates) {
    if (existsSync(path.join(assetDir, candidate))) return candidate;
  }
  return undefined;
}

async function formatOf(assetDir: string, entryFile: string): Promise<ModuleFormat> {
  if (entryFile.endsWith('.mjs')) return 'esm';
  if (entryFile.endsWith('.cjs')) return 'cjs';
  // `.js` follows the nearest package.json inside the bundle; Lambda's /var/task has none by default → CJS.
  for (let dir = path.dirname(path.join(assetDir, entryFile)); ; dir = path.dirname(dir)) {
    const packageJson = path.join(dir, 'package.json');
    if (existsSync(packageJson)) {
      const parsed = await readJson(packageJson);
      return isRecord(parsed) && parsed.type === 'module' ? 'esm' : 'cjs';
    }
    if (dir === assetDir || path.dirname(dir) === dir) return 'cjs';
  }
}

interface Candidate extends Omit<DiscoveredBundle, 'name'> {
  firstPath: string | undefined;
  firstLogicalId: string;
}

async function collect(
  dir: string,
  root: string,
  found: Map<string, Candidate>,
  skipped: SkippedFunction[],
  visited: Set<string>,
): Promise<number> {
  const real = await realpath(dir);
  if (visited.has(real)) return 0;
  visited.add(real);
  const metadata = await readAssemblyMetadata(dir);
  const entries = await readdir(dir, { withFileTypes: true });
  let templates = 0;
  for (const entry of entries) {
    if (!entry.isFile() || !entry.name.endsWith('.template.json')) continue;
    templates += 1;
    const template = await readJson(path.join(dir, entry.name));
    if (!isRecord(template) || !isRecord(template.Resources)) continue;
    const paths = metadata.pathsByTemplate.get(entry.name);
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      if (!isRecord(resource) || resource.Type !== 'AWS::Lambda::Function') continue;
      const properties = isRecord(resource.Properties) ? resource.Properties : {};
      const resourceMetadata = isRecord(resource.Metadata) ? resource.Metadata : {};
      const cdkPath = resourceMetadata['aws:cdk:path'];
      const constructPath = typeof cdkPath === 'string' ? cdkPath : paths?.get(logicalId);
      const label = constructPath ?? `${path.relative(root, path.join(dir, entry.name))}#${logicalId}`;
      const runtime = typeof properties.Runtime === 'string' ? properties.Runtime : null;
      if (runtime !== null && !runtime.startsWith('nodejs')) {
        skipped.push({ function: label, reason: `runtime ${runtime}` });
        continue;
      }
      const assetDir = await findAssetDir(dir, root, resourceMetadata, properties);
      if (assetDir === undefined) {
        skipped.push({ function: label, reason: 'no local asset (inline or external code)' });
        continue;
      }
      if (!(await isDirectory(assetDir))) {
        skipped.push({ function: label, reason: `asset ${path.basename(assetDir)} is not a directory` });
        continue;
      }
      const realAsset = await realpath(assetDir);
      const existing = found.get(realAsset);
      if (existing) {
        existing.functions.push(label);
        continue;
      }
      const entryFile = await entryOf(realAsset, properties.Handler);
      if (entryFile === undefined) {
        skipped.push({ function: label, reason: `no index.mjs/index.js in ${path.basename(assetDir)}` });
        continue;
      }
      const memorySize = typeof properties.MemorySize === 'number' ? properties.MemorySize : null;
      found.set(realAsset, {
        assetDir: realAsset,
        entryFile,
        format: await formatOf(realAsset, entryFile),
        bytes: (await stat(path.join(realAsset, entryFile))).size,
        runtime,
        memorySize,
        functions: [label],
        environment: environmentOf(properties),
        cdkInternal: constructPath !== undefined && isInternal(constructPath, metadata.internalPaths),
        firstPath: constructPath,
        firstLogicalId: logicalId,
      });
    }
  }
  const nested = new Set(metadata.nestedAssemblies);
  for (const entry of entries) {
    if (entry.isDirectory() && entry.name.startsWith('assembly-')) nested.add(entry.name);
  }
  for (const name of [...nested].sort()) {
    const nestedDir = path.join(dir, name);
    if (await isDirectory(nestedDir)) templates += await collect(nestedDir, root, found, skipped, visited);
  }
  return templates;
}

/** Unique names: on a clash, prefix the first construct id (stack or stage), then number. */
function assignNames(candidates: Candidate[]): DiscoveredBundle[] {
  const base = candidates.map((candidate) =>
    bundleNameFromPath(candidate.firstPath, candidate.firstLogicalId),
  );
  const counts = new Map<string, number>();
  for (const name of base) counts.set(name, (counts.get(name) ?? 0) + 1);
  const used = new Set<string>();
  return candidates.map((candidate, index) => {
    let name = base[index] ?? 'function';
    if ((counts.get(name) ?? 0) > 1 && candidate.firstPath) {
      const scope = toKebab(candidate.firstPath.split('/')[0] ?? '');
      if (scope) name = `${scope}-${name}`;
    }
    let unique = name;
    for (let n = 2; used.has(unique); n += 1) unique = `${name}-${n}`;
    used.add(unique);
    const { firstPath: _firstPath, firstLogicalId: _firstLogicalId, ...rest } = candidate;
    return { name: unique, ...rest };
  });
}

export async function discoverBundles(cdkOut: string): Promise<Discovery> {
  const found = new Map<string, Candidate>();
  const skipped: SkippedFunction[] = [];
  const templates = await collect(cdkOut, cdkOut, found, skipped, new Set());
  const bundles = assignNames([...found.values()]).sort(
    (a, b) => Number(a.cdkInternal) - Number(b.cdkInternal) || a.name.localeCompare(b.name),
  );
  return { bundles, skipped, templates };
}

/**
 * Reads a CDK cloud assembly (`cdk.out`, written by `cdk synth`): the CloudFormation stacks of the
 * assembly and of every assembly nested in it (CDK stages), in deployment order. Knows the manifest
 * format, nothing about what the templates describe.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
  readonly DependsOn?: string | string[];
  readonly Condition?: string;
  readonly DeletionPolicy?: string;
}

export interface CfnOutput {
  Value: unknown;
  Export?: { Name: unknown };
  Condition?: string;
  Description?: string;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Outputs?: Record<string, CfnOutput>;
  readonly Parameters?: Record<string, { Type: string; Default?: unknown }>;
  readonly Conditions?: Record<string, unknown>;
  readonly Mappings?: Record<string, unknown>;
}

export interface StackArtifact {
  /** Artifact id in its assembly's manifest (hashed for stacks inside a Stage, e.g. `StgStackC334CE73E`). */
  readonly artifactId: string;
  /** CloudFormation stack name (`properties.stackName`, else the artifact id). */
  readonly stackName: string;
  /** Construct path of the stack (`Stg/StackC`), when the manifest gives one. */
  readonly displayName?: string;
  /** Absolute directory of the assembly holding the stack (a subdirectory for nested assemblies). */
  readonly assemblyDir: string;
  /** Absolute path of the template file. */
  readonly templateFile: string;
  readonly template: CfnTemplate;
  /** Artifact ids of the stacks (same assembly) this stack depends on; asset manifests left out. */
  readonly dependencies: readonly string[];
  /** Target environment from `aws://account/region`; `unknown-account` / `unknown-region` are left out. */
  readonly environment: { readonly account?: string; readonly region?: string };
}

interface ManifestArtifact {
  readonly type?: string;
  readonly displayName?: string;
  readonly environment?: string;
  readonly dependencies?: readonly string[];
  readonly properties?: {
    readonly templateFile?: string;
    readonly stackName?: string;
    readonly directoryName?: string;
  };
}

interface Manifest {
  readonly artifacts?: Record<string, ManifestArtifact>;
}

const STACK = 'aws:cloudformation:stack';
const NESTED_ASSEMBLY = 'cdk:cloud-assembly';

function readJson<T>(file: string, what: string): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${what} ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`${what} ${file} is not valid JSON: ${(e as Error).message}`);
  }
}

function parseEnvironment(env: string | undefined): StackArtifact['environment'] {
  const m = env === undefined ? null : /^aws:\/\/([^/]*)\/(.*)$/.exec(env);
  if (!m) return {};
  const account = m[1] && m[1] !== 'unknown-account' ? m[1] : undefined;
  const region = m[2] && m[2] !== 'unknown-region' ? m[2] : undefined;
  return { ...(account ? { account } : {}), ...(region ? { region } : {}) };
}

/** Stacks of one assembly directory and its nested assemblies, in manifest order. */
function readStacks(dir: string, out: StackArtifact[], seen: Set<string>): void {
  if (seen.has(dir)) return;
  seen.add(dir);
  const manifestFile = join(dir, 'manifest.json');
  if (!existsSync(manifestFile)) {
    throw new Error(`${dir} holds no cloud assembly (no manifest.json): run \`npx cdk synth\` first`);
  }
  const manifest = readJson<Manifest>(manifestFile, 'cloud assembly manifest');
  const artifacts = manifest.artifacts ?? {};
  const stackIds = new Set(
    Object.entries(artifacts)
      .filter(([, a]) => a.type === STACK)
      .map(([id]) => id),
  );
  for (const [artifactId, a] of Object.entries(artifacts)) {
    if (a.type === NESTED_ASSEMBLY) {
      const sub = a.properties?.directoryName;
      if (!sub)
        throw new Error(`${manifestFile}: nested assembly ${artifactId} has no properties.directoryName`);
      readStacks(resolve(dir, sub), out, seen);
    } else if (a.type === STACK) {
      const file = a.properties?.templateFile;
      if (!file) throw new Error(`${manifestFile}: stack ${artifactId} has no properties.templateFile`);
      const templateFile = resolve(dir, file);
      const template = readJson<Partial<CfnTemplate>>(templateFile, `template of stack ${artifactId}`);
      out.push({
        artifactId,
        stackName: a.properties?.stackName ?? artifactId,
        ...(a.displayName ? { displayName: a.displayName } : {}),
        assemblyDir: dir,
        templateFile,
        template: { ...template, Resources: template.Resources ?? {} },
        dependencies: (a.dependencies ?? []).filter((d) => stackIds.has(d)),
        environment: parseEnvironment(a.environment),
      });
    }
    // Asset manifests, the construct tree, feature-flag reports and the like are not stacks.
  }
}

/**
 * The stacks of a cloud assembly and of the assemblies nested in it (CDK stages), sorted so that
 * every stack comes after the stacks it depends on; otherwise in manifest order (nested assemblies
 * where the manifest lists them).
 */
export function readAssembly(dir: string): StackArtifact[] {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new Error(`cloud assembly ${dir} does not exist: run \`npx cdk synth\` first`);
  }
  const stacks: StackArtifact[] = [];
  readStacks(root, stacks, new Set());

  // Dependencies name artifacts of the same assembly (CDK forbids them across stages).
  const key = (assemblyDir: string, artifactId: string) => `${assemblyDir}\0${artifactId}`;
  const byKey = new Map(stacks.map((s) => [key(s.assemblyDir, s.artifactId), s]));
  const sorted: StackArtifact[] = [];
  const state = new Map<StackArtifact, 'visiting' | 'done'>();
  const visit = (s: StackArtifact, chain: readonly string[]): void => {
    const st = state.get(s);
    if (st === 'done') return;
    if (st === 'visiting') {
      throw new Error(`dependency cycle between stacks: ${[...chain, s.stackName].join(' -> ')}`);
    }
    state.set(s, 'visiting');
    for (const d of s.dependencies) {
      const dep = byKey.get(key(s.assemblyDir, d));
      if (dep) visit(dep, [...chain, s.stackName]);
    }
    state.set(s, 'done');
    sorted.push(s);
  };
  for (const s of stacks) visit(s, []);
  return sorted;
}

/** The resources of a stack with the given CloudFormation type, in template order. */
export function resourcesOfType(
  stack: StackArtifact,
  type: string,
): [logicalId: string, resource: CfnResource][] {
  return Object.entries(stack.template.Resources).filter(([, r]) => r.Type === type);
}

/**
 * Absolute path of a resource's local asset (e.g. a Lambda bundle directory), from its
 * `aws:asset:path` metadata, which is relative to the stack's assembly directory.
 */
export function assetPathOf(stack: StackArtifact, resource: CfnResource): string | undefined {
  const path = resource.Metadata?.['aws:asset:path'];
  return typeof path === 'string' && path !== '' ? resolve(stack.assemblyDir, path) : undefined;
}

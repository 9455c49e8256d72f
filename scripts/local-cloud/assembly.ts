import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
  readonly DependsOn?: string | string[];
  readonly Condition?: string;
  readonly DeletionPolicy?: string;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
  readonly Parameters?: Record<string, { Type: string; Default?: unknown }>;
  readonly Conditions?: Record<string, unknown>;
  readonly Mappings?: Record<string, unknown>;
}

export interface StackArtifact {
  readonly artifactId: string;
  readonly stackName: string;
  readonly assemblyDir: string;
  readonly templateFile: string;
  readonly template: CfnTemplate;
  readonly dependencies: readonly string[];
}

interface ManifestArtifact {
  type: string;
  displayName?: string;
  dependencies?: string[];
  properties?: { templateFile?: string; stackName?: string; directoryName?: string };
}

function readStacks(dir: string, out: StackArtifact[]): void {
  const manifestFile = join(dir, 'manifest.json');
  if (!existsSync(manifestFile)) {
    throw new Error(`${dir} holds no cloud assembly (no manifest.json): run \`npx cdk synth\` first`);
  }
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as {
    artifacts?: Record<string, ManifestArtifact>;
  };
  for (const [artifactId, a] of Object.entries(manifest.artifacts ?? {})) {
    if (a.type === 'cdk:cloud-assembly' && a.properties?.directoryName) {
      readStacks(join(dir, a.properties.directoryName), out);
    } else if (a.type === 'aws:cloudformation:stack' && a.properties?.templateFile) {
      const templateFile = join(dir, a.properties.templateFile);
      const template = JSON.parse(readFileSync(templateFile, 'utf8')) as CfnTemplate;
      out.push({
        artifactId,
        stackName: a.properties.stackName ?? a.displayName ?? artifactId,
        assemblyDir: dir,
        templateFile,
        template: { ...template, Resources: template.Resources ?? {} },
        dependencies: (a.dependencies ?? []).filter((d) => !d.endsWith('.assets')),
      });
    }
  }
}

/**
 * The stacks of a cloud assembly and of the assemblies nested in it (CDK stages), sorted so
 * that every stack comes after the stacks it depends on.
 */
export function readAssembly(dir: string): StackArtifact[] {
  const root = resolve(dir);
  if (!existsSync(root)) throw new Error(`${dir} does not exist: run \`npx cdk synth\` first`);
  const stacks: StackArtifact[] = [];
  readStacks(root, stacks);
  const byId = new Map(stacks.map((s) => [s.artifactId, s]));
  const sorted: StackArtifact[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (s: StackArtifact) => {
    if (state.get(s.artifactId) === 'done') return;
    if (state.get(s.artifactId) === 'visiting') throw new Error(`dependency cycle at stack ${s.stackName}`);
    state.set(s.artifactId, 'visiting');
    for (const d of s.dependencies) {
      const dep = byId.get(d);
      if (dep) visit(dep);
    }
    state.set(s.artifactId, 'done');
    sorted.push(s);
  };
  for (const s of stacks) visit(s);
  return sorted;
}

export function resourcesOfType(stack: StackArtifact, type: string): [string, CfnResource][] {
  return Object.entries(stack.template.Resources).filter(([, r]) => r.Type === type);
}

/** Absolute path of a resource's local asset (NodejsFunction bundles), when it has one. */
export function assetPathOf(stack: StackArtifact, resource: CfnResource): string | undefined {
  const path = resource.Metadata?.['aws:asset:path'];
  return typeof path === 'string' ? resolve(stack.assemblyDir, path) : undefined;
}

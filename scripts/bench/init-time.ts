/**
 * Cold module-init time of a Lambda bundle: each sample is a FRESH `node` process that imports the
 * bundle entry once, timing `performance.now()` around `await import()` (ESM) / `require()` (CJS).
 * That is the part of a Lambda cold start our code controls (INIT phase after the runtime's own
 * bootstrap); process start-up itself is excluded.
 *
 * `@aws-sdk/*` is external in the bundles (the Lambda runtime ships it), so the child must resolve it
 * from disk. NODE_PATH is ignored by ESM resolution, so each bundle is copied into a working directory
 * `.bench/run-<pid>/<name>/` next to a symlink `.bench/run-<pid>/node_modules -> <repo>/node_modules`
 * (or `--node-modules`): bare imports walk up and find it. The measured time therefore INCLUDES loading
 * (reading, compiling, evaluating) the external SDK packages from disk, just as the Lambda runtime does
 * with its bundled SDK. The SDK version is the repo's, not the runtime's.
 */

import { existsSync } from 'node:fs';
import { cp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { run, tail } from './process.js';
import { median, percentile, round } from './stats.js';
import type { InitStats, ModuleFormat } from './types.js';

const RESULT_MARKER = '__BENCH_INIT__';
const RUN_TIMEOUT_MS = 60_000;

/** Runs in the child. Only node: builtins are loaded before the clock starts. */
const LOADER_SOURCE = `import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
const [entry, format] = process.argv.slice(2);
const report = (result, code) =>
  process.stdout.write('\\n${RESULT_MARKER}' + JSON.stringify(result) + '\\n', () => process.exit(code));
try {
  const started = performance.now();
  if (format === 'cjs') createRequire(import.meta.url)(entry);
  else await import(pathToFileURL(entry).href);
  const ms = performance.now() - started;
  report({ ms, rss: process.memoryUsage().rss }, 0);
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  report({ error: message.split('\\n').slice(0, 4).join('\\n') }, 1);
}
`;

export interface Workspace {
  root: string;
  loader: string;
  /** Copy an asset directory to `<root>/<name>/` so `node_modules` resolves; returns the copy. */
  stage(name: string, sourceDir: string): Promise<string>;
  dispose(): Promise<void>;
}

export async function createWorkspace(
  repoRoot: string,
  nodeModules: string,
  keep: boolean,
): Promise<Workspace> {
  const root = path.join(repoRoot, '.bench', `run-${process.pid}`);
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  if (!existsSync(nodeModules)) throw new Error(`node_modules not found: ${nodeModules}`);
  await symlink(nodeModules, path.join(root, 'node_modules'), 'dir');
  const loader = path.join(root, 'loader.mjs');
  await writeFile(loader, LOADER_SOURCE);
  return {
    root,
    loader,
    async stage(name, sourceDir) {
      const target = path.join(root, 'bundles', name);
      await cp(sourceDir, target, { recursive: true });
      // Lambda's /var/task has no package.json unless the bundle ships one; without this, the repo's
      // `"type": "module"` (found by walking up) would turn a CJS index.js into ESM.
      const packageJson = path.join(target, 'package.json');
      if (!existsSync(packageJson)) await writeFile(packageJson, '{ "type": "commonjs" }\n');
      return target;
    },
    async dispose() {
      if (!keep) await rm(root, { recursive: true, force: true });
    },
  };
}

export interface LambdaEnvOptions {
  functionName: string;
  taskRoot: string;
  runtime: string | null;
  memorySize: number | null;
  tracing: boolean;
  /** The function's own environment (from the template); overrides the defaults. */
  environment: Record<string, string>;
}

/**
 * A clean environment like Lambda's (nothing inherited from this shell but PATH), so Powertools
 * initialises as in Lambda: AWS_EXECUTION_ENV marks a Lambda environment (Logger/Metrics/Tracer read
 * it), LAMBDA_TASK_ROOT makes the X-Ray SDK take its Lambda code path (facade segment, no daemon
 * connection), and `_X_AMZN_TRACE_ID` stays unset as it is during INIT.
 *
 * Tracer: outside Lambda (no AWS_EXECUTION_ENV) it disables itself. In Lambda it is enabled unless
 * POWERTOOLS_TRACE_ENABLED=false, and then at construction it only patches http/https/fetch; segments
 * go to the daemon over UDP when a (sub)segment closes, which never happens during INIT. So tracing is
 * safe either way; by default we set POWERTOOLS_TRACE_ENABLED=false, `--tracing` measures the patching.
 */
export function lambdaEnv(options: LambdaEnvOptions): NodeJS.ProcessEnv {
  const runtime = options.runtime ?? 'nodejs20.x';
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EXECUTION_ENV: `AWS_Lambda_${runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: options.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memorySize ?? 128),
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${options.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: '2025/01/01/[$LATEST]00000000000000000000000000000000',
    LAMBDA_TASK_ROOT: options.taskRoot,
    POWERTOOLS_SERVICE_NAME: options.functionName,
    POWERTOOLS_METRICS_NAMESPACE: 'bench',
    POWERTOOLS_TRACE_ENABLED: options.tracing ? 'true' : 'false',
  };
  if (options.tracing) {
    env.AWS_XRAY_DAEMON_ADDRESS = '127.0.0.1:2000';
    env.AWS_XRAY_CONTEXT_MISSING = 'LOG_ERROR';
  }
  return { ...env, ...options.environment };
}

export interface InitTarget {
  name: string;
  dir: string;
  entry: string;
  format: ModuleFormat;
  env: NodeJS.ProcessEnv;
}

export interface InitSample {
  ms: number;
  rssBytes: number;
}

function isSample(value: unknown): value is { ms: number; rss: number } {
  return (
    typeof value === 'object' &&
    value !== null &&
    'ms' in value &&
    typeof value.ms === 'number' &&
    'rss' in value &&
    typeof value.rss === 'number'
  );
}

/** One fresh process; rejects with the child's error (e.g. a missing external module). */
export async function measureOnce(target: InitTarget, loader: string): Promise<InitSample> {
  const result = await run(process.execPath, [loader, target.entry, target.format], {
    cwd: target.dir,
    env: target.env,
    timeoutMs: RUN_TIMEOUT_MS,
  });
  const line = result.stdout
    .split('\n')
    .reverse()
    .find((candidate) => candidate.startsWith(RESULT_MARKER));
  const parsed: unknown = line === undefined ? undefined : JSON.parse(line.slice(RESULT_MARKER.length));
  if (result.code === 0 && isSample(parsed)) return { ms: parsed.ms, rssBytes: parsed.rss };
  if (
    typeof parsed === 'object' &&
    parsed !== null &&
    'error' in parsed &&
    typeof parsed.error === 'string'
  ) {
    throw new Error(`init failed: ${parsed.error}`);
  }
  const why = result.timedOut
    ? `timed out after ${RUN_TIMEOUT_MS} ms`
    : `exited with ${result.code ?? result.signal}`;
  throw new Error(`init ${why}: ${tail(result.stderr, 12)}`);
}

export function initStats(samples: readonly InitSample[]): InitStats {
  if (samples.length === 0) return { initMs: null, initP95Ms: null, initMinMs: null, rssMiB: null, runs: 0 };
  const ms = samples.map((sample) => sample.ms);
  return {
    initMs: round(median(ms), 1),
    initP95Ms: round(percentile(ms, 95), 1),
    initMinMs: round(percentile(ms, 0), 1),
    rssMiB: round(median(samples.map((sample) => sample.rssBytes)) / 2 ** 20, 1),
    runs: samples.length,
  };
}

export interface InitOutcome {
  samples: InitSample[];
  error?: string;
}

/**
 * Interleaves the targets (round 1: A B C, round 2: A B C, ...) so slow drift of the machine affects
 * all of them alike; the first `warmup` rounds are discarded (they mostly warm the OS file cache).
 * A target that fails once is not retried.
 */
export async function measureAll(
  targets: readonly InitTarget[],
  loader: string,
  runs: number,
  warmup: number,
  log: (message: string) => void,
): Promise<Map<string, InitOutcome>> {
  const outcomes = new Map<string, InitOutcome>(targets.map((target) => [target.name, { samples: [] }]));
  const rounds = warmup + runs;
  for (let roundIndex = 0; roundIndex < rounds; roundIndex += 1) {
    const warm = roundIndex < warmup;
    log(
      `init: round ${roundIndex + 1}/${rounds}${warm ? ' (warm-up, discarded)' : ''}, ${targets.length} process(es)`,
    );
    for (const target of targets) {
      const outcome = outcomes.get(target.name);
      if (!outcome || outcome.error !== undefined) continue;
      try {
        const sample = await measureOnce(target, loader);
        if (!warm) outcome.samples.push(sample);
      } catch (error) {
        outcome.error = error instanceof Error ? error.message : String(error);
        log(`init: ${target.name} failed: ${outcome.error.split('\n')[0] ?? ''}`);
      }
    }
  }
  return outcomes;
}

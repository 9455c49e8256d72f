/**
 * `npm run bench` — size and cold module-init time of every Lambda bundle in the cloud assembly,
 * compared with a conventionally bundled reference handler, plus figures from the suites in
 * `scripts/bench/suites.ts` (`synth.seconds`, ...).
 *
 *   npm run bench                      human tables on stdout, progress on stderr
 *   npm run bench -- --json            exactly one JSON object on stdout, progress on stderr
 *   npm run bench -- --help            all options
 *
 * Exit code: 0, 1 when any step failed (the report is still printed; see `errors`), 2 for bad usage.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchArgs, parseBenchArgs, USAGE } from './bench/args.js';
import { discoverBundles } from './bench/assembly.js';
import { createWorkspace, type InitTarget, initStats, lambdaEnv, measureAll } from './bench/init-time.js';
import { errorMessage } from './bench/process.js';
import { buildReference, REFERENCE_SOURCE } from './bench/reference.js';
import { renderHuman } from './bench/report.js';
import { round } from './bench/stats.js';
import { suites } from './bench/suites.js';
import type {
  BenchContext,
  BenchError,
  BenchReport,
  BenchSuite,
  BundleReport,
  Figures,
  ReferenceReport,
} from './bench/types.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REFERENCE_NAME = 'reference';

const log = (message: string): void => {
  process.stderr.write(`[bench] ${message}\n`);
};

function ratio(value: number | null, reference: number | null | undefined): number | null {
  if (value === null || reference === null || reference === undefined || reference === 0) return null;
  return round(value / reference, 4);
}

/** Relative to the repository when inside it, absolute otherwise. */
function displayPath(target: string): string {
  const relative = path.relative(repoRoot, target);
  return relative.startsWith('..') || path.isAbsolute(relative) ? target : relative || '.';
}

function selectSuites(args: BenchArgs): BenchSuite[] {
  const unknown = args.suites.filter((name) => !suites.some((suite) => suite.name === name));
  if (unknown.length > 0) throw new Error(`unknown suite(s): ${unknown.join(', ')} (see --list)`);
  return suites.filter((suite) => {
    // synth also builds the assembly the bundle measurements read: run it whenever those run.
    if (suite.name === 'synth')
      return args.synth && (args.suites.length === 0 || args.suites.includes('synth') || args.bundles);
    return args.suites.length === 0 || args.suites.includes(suite.name);
  });
}

async function runSuites(
  selected: readonly BenchSuite[],
  ctx: BenchContext,
  figures: Figures,
  errors: BenchError[],
): Promise<Set<string>> {
  const failed = new Set<string>();
  for (const suite of selected) {
    ctx.log(`suite ${suite.name}: ${suite.description}`);
    try {
      const result = await suite.run(ctx);
      for (const [name, figure] of Object.entries(result)) {
        if (!Number.isFinite(figure.value) || figure.unit.length === 0) {
          throw new Error(`figure ${name}: value must be finite and unit non-empty`);
        }
        figures[`${suite.name}.${name}`] = figure;
      }
    } catch (error) {
      failed.add(suite.name);
      errors.push({ step: `suite ${suite.name}`, message: errorMessage(error) });
      ctx.log(`suite ${suite.name} failed: ${errorMessage(error).split('\n')[0] ?? ''}`);
    }
  }
  return failed;
}

async function measureBundles(
  args: BenchArgs,
  errors: BenchError[],
): Promise<{ reference: ReferenceReport | null; bundles: BundleReport[] }> {
  const assemblyExists = existsSync(path.join(args.cdkOut, 'manifest.json'));
  if (!assemblyExists) {
    const message = `no cloud assembly at ${args.cdkOut}${args.synth ? '' : ' (remove --no-synth to synthesize it)'}`;
    errors.push({ step: 'bundles', message });
    log(`bundles: ${message}`);
  }
  const discovery = assemblyExists
    ? await discoverBundles(args.cdkOut)
    : { bundles: [], skipped: [], templates: 0 };
  if (assemblyExists) {
    log(
      `bundles: ${discovery.bundles.length} Node.js bundle(s) in ${discovery.templates} template(s) of ${displayPath(args.cdkOut)}`,
    );
    for (const skipped of discovery.skipped) log(`bundles: skipped ${skipped.function}: ${skipped.reason}`);
  }

  const workspace = await createWorkspace(repoRoot, args.nodeModules, args.keep);
  try {
    const targets: InitTarget[] = [];
    let referenceBytes: number | null = null;
    log(`reference: esbuild ${REFERENCE_SOURCE} (cjs, node20, minify, @aws-sdk/* external)`);
    try {
      const reference = await buildReference(repoRoot, path.join(workspace.root, REFERENCE_NAME));
      referenceBytes = reference.bytes;
      targets.push({
        name: REFERENCE_NAME,
        dir: reference.dir,
        entry: reference.entry,
        format: 'cjs',
        env: lambdaEnv({
          functionName: 'bench-reference',
          taskRoot: reference.dir,
          runtime: 'nodejs20.x',
          memorySize: null,
          tracing: args.tracing,
          environment: {
            TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:bench-reference',
            IDEMPOTENCY_TABLE_NAME: 'bench-idempotency',
          },
        }),
      });
      log(`reference: ${(reference.bytes / 1024).toFixed(1)} KiB`);
    } catch (error) {
      errors.push({ step: 'reference', message: `esbuild failed: ${errorMessage(error)}` });
    }

    for (const bundle of discovery.bundles) {
      const dir = await workspace.stage(bundle.name, bundle.assetDir);
      targets.push({
        name: bundle.name,
        dir,
        entry: path.join(dir, bundle.entryFile),
        format: bundle.format,
        env: lambdaEnv({
          functionName: bundle.name,
          taskRoot: dir,
          runtime: bundle.runtime,
          memorySize: bundle.memorySize,
          tracing: args.tracing,
          environment: bundle.environment,
        }),
      });
    }

    const outcomes = await measureAll(targets, workspace.loader, args.runs, args.warmup, log);
    const statsOf = (name: string) => {
      const outcome = outcomes.get(name);
      return {
        stats: initStats(outcome?.error === undefined ? (outcome?.samples ?? []) : []),
        error: outcome?.error,
      };
    };

    let reference: ReferenceReport | null = null;
    if (referenceBytes !== null) {
      const { stats, error } = statsOf(REFERENCE_NAME);
      if (error !== undefined) errors.push({ step: 'reference', message: error });
      reference = { bytes: referenceBytes, ...stats, source: REFERENCE_SOURCE, format: 'cjs' };
    }
    const bundles = discovery.bundles.map((bundle): BundleReport => {
      const { stats, error } = statsOf(bundle.name);
      if (error !== undefined) errors.push({ step: `bundle ${bundle.name}`, message: error });
      return {
        name: bundle.name,
        bytes: bundle.bytes,
        initMs: stats.initMs,
        ratioBytesVsReference: ratio(bundle.bytes, reference?.bytes),
        ratioInitVsReference: ratio(stats.initMs, reference?.initMs),
        initP95Ms: stats.initP95Ms,
        initMinMs: stats.initMinMs,
        rssMiB: stats.rssMiB,
        runs: stats.runs,
        format: bundle.format,
        runtime: bundle.runtime,
        entry: path.relative(args.cdkOut, path.join(bundle.assetDir, bundle.entryFile)),
        functions: bundle.functions,
        cdkInternal: bundle.cdkInternal,
        ...(error === undefined ? {} : { error }),
      };
    });
    return { reference, bundles };
  } finally {
    await workspace.dispose();
  }
}

async function main(): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseBenchArgs(process.argv.slice(2), repoRoot);
  } catch (error) {
    process.stderr.write(`bench: ${errorMessage(error)}\n\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args.list) {
    for (const suite of suites) process.stdout.write(`${suite.name}\t${suite.description}\n`);
    return 0;
  }
  let selected: BenchSuite[];
  try {
    selected = selectSuites(args);
  } catch (error) {
    process.stderr.write(`bench: ${errorMessage(error)}\n`);
    return 2;
  }

  const ctx: BenchContext = {
    repoRoot,
    cdkOut: args.cdkOut,
    cdkOutIsDefault: args.cdkOutIsDefault,
    stage: args.stage,
    runs: args.runs,
    warmup: args.warmup,
    verbose: args.verbose,
    log,
  };
  const errors: BenchError[] = [];
  const figures: Figures = {};
  const failedSuites = await runSuites(selected, ctx, figures, errors);

  let reference: ReferenceReport | null = null;
  let bundles: BundleReport[] = [];
  if (!args.bundles) {
    log('bundles: skipped (--no-bundles)');
  } else if (failedSuites.has('synth')) {
    log('bundles: skipped, synth failed (an older cdk.out would be stale)');
  } else {
    try {
      ({ reference, bundles } = await measureBundles(args, errors));
    } catch (error) {
      errors.push({ step: 'bundles', message: errorMessage(error) });
    }
  }

  const report: BenchReport = {
    machine: {
      cpus: os.cpus().length,
      node: process.version,
      platform: process.platform,
      arch: process.arch,
      cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
      totalMemMiB: Math.round(os.totalmem() / 2 ** 20),
    },
    settings: {
      runs: args.runs,
      warmup: args.warmup,
      cdkOut: displayPath(args.cdkOut),
      tracing: args.tracing,
      nodeModules: displayPath(args.nodeModules),
    },
    reference,
    bundles,
    figures,
    errors,
  };
  process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : renderHuman(report));
  if (errors.length > 0) log(`${errors.length} error(s), exit code 1`);
  return errors.length > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);

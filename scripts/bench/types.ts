/** Shared types of the benchmark (`npm run bench`). */

/** One measured number. `baseline` is an optional comparison value in the same unit (e.g. a target). */
export interface Figure {
  value: number;
  unit: string;
  baseline?: number;
}

/** Figures keyed by name. Suites return names relative to the suite; the runner prefixes `<suite>.`. */
export type Figures = Record<string, Figure>;

export interface BenchContext {
  /** Absolute path of the repository root. */
  repoRoot: string;
  /** Absolute path of the cloud assembly directory (`cdk.out` unless `--cdk-out`). */
  cdkOut: string;
  /** True when `cdkOut` is the repository's default `cdk.out`. */
  cdkOutIsDefault: boolean;
  /** `--stage`, passed to `cdk synth` as `-c stage=<stage>`; undefined keeps the cdk.json default. */
  stage: string | undefined;
  /** Measured repetitions for repeated measurements (`--runs`, ≥ 5). */
  runs: number;
  /** Discarded warm-up repetitions before the measured ones (`--warmup`). */
  warmup: number;
  verbose: boolean;
  /** Progress output (always stderr, so `--json` keeps stdout clean). */
  log(message: string): void;
}

/**
 * A named group of measurements contributing figures to the report.
 * To add one: write `scripts/bench/<name>.ts` exporting a `BenchSuite`, and append it to `suites`
 * in `scripts/bench/suites.ts`. Throwing fails only that suite (reported under `errors`, exit code 1).
 */
export interface BenchSuite {
  /** Short kebab/camel name, also the figure prefix: `{ seconds }` from suite `synth` → `synth.seconds`. */
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<Figures>;
}

export type ModuleFormat = 'esm' | 'cjs';

export interface InitStats {
  /** Median cold module-init time over the measured runs, in milliseconds. */
  initMs: number | null;
  initP95Ms: number | null;
  initMinMs: number | null;
  /** Median resident set size of the child right after the import, in MiB. */
  rssMiB: number | null;
  runs: number;
}

export interface ReferenceReport extends InitStats {
  bytes: number;
  source: string;
  format: ModuleFormat;
}

export interface BundleReport extends InitStats {
  name: string;
  bytes: number;
  ratioBytesVsReference: number | null;
  ratioInitVsReference: number | null;
  format: ModuleFormat;
  runtime: string | null;
  /** Entry file, relative to the cloud assembly directory. */
  entry: string;
  /** Construct paths of every function using this bundle (identical assets are measured once). */
  functions: string[];
  /** A CDK-internal handler (custom-resource provider, singleton, log retention...), not our code. */
  cdkInternal: boolean;
  error?: string;
}

export interface BenchError {
  step: string;
  message: string;
}

export interface BenchReport {
  machine: {
    cpus: number;
    node: string;
    platform: string;
    arch: string;
    cpuModel: string;
    totalMemMiB: number;
  };
  settings: {
    runs: number;
    warmup: number;
    cdkOut: string;
    tracing: boolean;
    nodeModules: string;
  };
  reference: ReferenceReport | null;
  bundles: BundleReport[];
  figures: Figures;
  errors: BenchError[];
}

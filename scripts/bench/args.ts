import path from 'node:path';
import { parseArgs } from 'node:util';

export interface BenchArgs {
  json: boolean;
  cdkOut: string;
  cdkOutIsDefault: boolean;
  runs: number;
  warmup: number;
  synth: boolean;
  bundles: boolean;
  suites: string[];
  stage: string | undefined;
  tracing: boolean;
  nodeModules: string;
  keep: boolean;
  verbose: boolean;
  list: boolean;
  help: boolean;
}

export const MIN_RUNS = 5;
export const DEFAULT_RUNS = 7;
export const DEFAULT_WARMUP = 1;

export const USAGE = `Usage: npm run bench -- [options]

  --json                 print exactly one JSON object on stdout (progress goes to stderr)
  --cdk-out <dir>        cloud assembly to read (default: cdk.out); synth writes there too
  --no-synth             do not run \`npx cdk synth --quiet\` (no synth.seconds); use the existing assembly
  --stage <name>         pass -c stage=<name> to cdk synth (default: the cdk.json context)
  --runs <n>             measured fresh node processes per bundle, >= ${MIN_RUNS} (default ${DEFAULT_RUNS})
  --warmup <n>           discarded runs first, to warm the OS file cache (default ${DEFAULT_WARMUP})
  --tracing              initialise Powertools Tracer as with Lambda active tracing (default: POWERTOOLS_TRACE_ENABLED=false)
  --node-modules <dir>   node_modules standing in for the Lambda runtime's @aws-sdk/* (default: ./node_modules)
  --suite <name>         run only this figure suite (repeatable); see --list
  --no-bundles           skip the reference and bundle measurements (figure suites only)
  --list                 list the figure suites and exit
  --keep                 keep the .bench/run-<pid> working directory
  --verbose              stream child output (cdk synth) to stderr
  -h, --help             this help`;

function parseCount(raw: string | undefined, fallback: number, minimum: number, flag: string): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < minimum) {
    throw new Error(`${flag} must be an integer >= ${minimum}, got '${raw}'`);
  }
  return value;
}

export function parseBenchArgs(argv: readonly string[], repoRoot: string): BenchArgs {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      json: { type: 'boolean', default: false },
      'cdk-out': { type: 'string' },
      'no-synth': { type: 'boolean', default: false },
      'no-bundles': { type: 'boolean', default: false },
      stage: { type: 'string' },
      runs: { type: 'string' },
      warmup: { type: 'string' },
      tracing: { type: 'boolean', default: false },
      'node-modules': { type: 'string' },
      suite: { type: 'string', multiple: true },
      list: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const defaultCdkOut = path.join(repoRoot, 'cdk.out');
  const cdkOut = values['cdk-out'] === undefined ? defaultCdkOut : path.resolve(values['cdk-out']);
  return {
    json: values.json,
    cdkOut,
    cdkOutIsDefault: cdkOut === defaultCdkOut,
    runs: parseCount(values.runs, DEFAULT_RUNS, MIN_RUNS, '--runs'),
    warmup: parseCount(values.warmup, DEFAULT_WARMUP, 0, '--warmup'),
    synth: !values['no-synth'],
    bundles: !values['no-bundles'],
    suites: values.suite ?? [],
    stage: values.stage,
    tracing: values.tracing,
    nodeModules: path.resolve(values['node-modules'] ?? path.join(repoRoot, 'node_modules')),
    keep: values.keep,
    verbose: values.verbose,
    list: values.list,
    help: values.help,
  };
}

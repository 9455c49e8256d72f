import path from 'node:path';
import { errorMessage, run, tail } from './process.js';
import { round } from './stats.js';
import type { BenchContext, BenchSuite, Figures } from './types.js';

const SYNTH_TIMEOUT_MS = 15 * 60_000;

export function synthArgs(ctx: BenchContext): string[] {
  const args = ['cdk', 'synth', '--quiet'];
  if (!ctx.cdkOutIsDefault) args.push('--output', ctx.cdkOut);
  if (ctx.stage !== undefined) args.push('--context', `stage=${ctx.stage}`);
  return args;
}

/**
 * `synth.seconds`: wall time of one `npx cdk synth --quiet` (including npx start-up, the app run and
 * esbuild bundling of every NodejsFunction), measured once. It also produces the cloud assembly that
 * the bundle measurements read, so the runner runs it before anything else.
 */
export const synthSuite: BenchSuite = {
  name: 'synth',
  description: 'wall time of `npx cdk synth --quiet` (also (re)builds the cloud assembly)',
  async run(ctx: BenchContext): Promise<Figures> {
    const args = synthArgs(ctx);
    ctx.log(`synth: npx ${args.join(' ')} (in ${path.relative(process.cwd(), ctx.repoRoot) || '.'})`);
    let result: Awaited<ReturnType<typeof run>>;
    try {
      result = await run('npx', args, {
        cwd: ctx.repoRoot,
        timeoutMs: SYNTH_TIMEOUT_MS,
        stream: ctx.verbose,
      });
    } catch (error) {
      throw new Error(`could not start npx: ${errorMessage(error)}`);
    }
    if (result.code !== 0) {
      const why = result.timedOut ? 'timed out' : `exited with ${result.code ?? result.signal}`;
      const output = tail(`${result.stdout}\n${result.stderr}`, 25);
      throw new Error(`npx ${args.join(' ')} ${why}${output ? `:\n${output}` : ''}`);
    }
    const seconds = result.wallMs / 1000;
    ctx.log(`synth: ${seconds.toFixed(1)} s`);
    return { seconds: { value: round(seconds, 2), unit: 's' } };
  },
};

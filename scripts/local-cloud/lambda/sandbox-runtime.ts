import { fileURLToPath } from 'node:url';

let compiled: Promise<string> | undefined;

/**
 * The sandbox runtime (worker.ts and what it imports) as one CommonJS script for `new Worker(code,
 * { eval: true })`. Compiled once per process with esbuild: a worker can't load TypeScript (the
 * parent may run under tsx or vitest, whose loaders we don't want inside a sandbox anyway), and
 * eval keeps the runtime's frames as `[worker eval]` instead of a file or data: URL in user stacks.
 */
export function sandboxRuntimeScript(): Promise<string> {
  compiled ??= (async () => {
    const { build } = await import('esbuild');
    const result = await build({
      entryPoints: [fileURLToPath(new URL('./worker.ts', import.meta.url))],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      write: false,
      logLevel: 'silent',
      legalComments: 'none',
    });
    const script = result.outputFiles[0]?.text;
    if (script === undefined) throw new Error('esbuild produced no sandbox runtime');
    return script;
  })();
  compiled.catch(() => {
    compiled = undefined;
  });
  return compiled;
}

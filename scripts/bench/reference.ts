import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

export const REFERENCE_SOURCE = 'bench/reference/handler.ts';

export interface ReferenceBundle {
  dir: string;
  entry: string;
  bytes: number;
}

/**
 * Bundles the reference handler "the usual way": CJS, platform node, target node20, minified, one file,
 * `@aws-sdk/*` external (provided by the Lambda runtime), source map written next to it but not linked.
 */
export async function buildReference(repoRoot: string, outDir: string): Promise<ReferenceBundle> {
  await mkdir(outDir, { recursive: true });
  const entry = path.join(outDir, 'index.js');
  const result = await build({
    absWorkingDir: repoRoot,
    entryPoints: [path.join(repoRoot, REFERENCE_SOURCE)],
    outfile: entry,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    sourcemap: 'external',
    external: ['@aws-sdk/*'],
    logLevel: 'silent',
  });
  for (const warning of result.warnings)
    process.stderr.write(`[bench] reference: esbuild warning: ${warning.text}\n`);
  // Same isolation as a staged bundle: the repo's "type": "module" must not apply to this index.js.
  await writeFile(path.join(outDir, 'package.json'), '{ "type": "commonjs" }\n');
  return { dir: outDir, entry, bytes: (await stat(entry)).size };
}

/**
 * Runs cfn-lint (pinned in requirements.txt) over every template of the given cloud assemblies,
 * nested assemblies included. Any finding, warning or error, fails the run.
 *
 *   npm run cfn-lint                 # cdk.out
 *   npm run cfn-lint -- cdk.out.prod # another assembly
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePythonTools, venvBin } from './lib/python.js';

function templatesIn(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name.endsWith('.template.json')) found.push(path);
    else if (name.startsWith('assembly-') && statSync(path).isDirectory()) found.push(...templatesIn(path));
  }
  return found;
}

const dirs = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['cdk.out'];
const templates: string[] = [];
for (const dir of dirs) {
  if (!existsSync(dir)) {
    console.error(`cfn-lint: ${dir} does not exist; run \`npm run synth\` first`);
    process.exit(2);
  }
  templates.push(...templatesIn(dir));
}
if (templates.length === 0) {
  console.error(`cfn-lint: no templates in ${dirs.join(', ')}`);
  process.exit(2);
}
ensurePythonTools();
const result = spawnSync(venvBin('cfn-lint'), ['--', ...templates], { stdio: 'inherit' });
if (result.status === 0) console.error(`cfn-lint: ${templates.length} template(s), no findings`);
process.exit(result.status ?? 1);

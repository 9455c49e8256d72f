import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Project root: scripts run from it through npm. */
export const ROOT = process.cwd();
export const VENV = process.env.PLATFORM_VENV ?? join(ROOT, '.venv');
const REQUIREMENTS = join(ROOT, 'requirements.txt');
const STAMP = join(VENV, '.requirements-installed');

/** Path of an executable installed in the project's Python virtualenv. */
export function venvBin(name: string): string {
  return join(VENV, 'bin', name);
}

/**
 * Creates `.venv` and installs the pinned `requirements.txt` into it, once: a stamp file
 * records the requirements it was installed from, so a second call costs one stat.
 */
export function ensurePythonTools(log: (line: string) => void = console.error): void {
  const wanted = readFileSync(REQUIREMENTS, 'utf8');
  if (existsSync(STAMP) && readFileSync(STAMP, 'utf8') === wanted && statSync(venvBin('python')).isFile()) {
    return;
  }
  if (!existsSync(venvBin('python'))) {
    log(`creating Python virtualenv in ${VENV}`);
    execFileSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' });
  }
  log('installing pinned Python tools (requirements.txt)');
  execFileSync(venvBin('pip'), ['install', '--disable-pip-version-check', '-q', '-r', REQUIREMENTS], {
    stdio: 'inherit',
  });
  writeFileSync(STAMP, wanted);
}

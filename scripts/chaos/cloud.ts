/**
 * The local cloud as a child process that can be killed with SIGKILL (no shutdown, no flush: as a
 * host dies) and started again on the same port and the same provisioned resources. It runs
 * `scripts/start.ts --no-synth` on an assembly synthesized once, in its own process group so that
 * the kill reaches its workers too; its output is appended to one log file over every start.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../lib/python.js';

export interface CloudOptions {
  readonly assemblyDir: string;
  readonly port: number;
  readonly logFile: string;
  /** Any answer from this path (with the token) means the API is serving. */
  readonly probe: { path: string; token: string };
  readonly startTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class CloudProcess {
  #child: ChildProcess | undefined;
  readonly url: string;

  constructor(private readonly options: CloudOptions) {
    this.url = `http://127.0.0.1:${options.port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts the local cloud and resolves once its API answers; seconds it took. */
  async start(): Promise<number> {
    if (this.#child) throw new Error('the local cloud is already running');
    const started = Date.now();
    const fd = openSync(this.options.logFile, 'a');
    try {
      const child = spawn(
        join(ROOT, 'node_modules/.bin/tsx'),
        [
          'scripts/start.ts',
          '--no-synth',
          '--out',
          this.options.assemblyDir,
          '--port',
          String(this.options.port),
        ],
        { cwd: ROOT, detached: true, stdio: ['ignore', fd, fd], env: process.env },
      );
      this.#child = child;
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
    } finally {
      closeSync(fd);
    }
    const child = this.#child;
    const deadline = started + (this.options.startTimeoutMs ?? 300_000);
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        this.#child = undefined;
        throw new Error(
          `the local cloud exited (${child.signalCode ?? `code ${child.exitCode}`}) before serving; see ${this.options.logFile}`,
        );
      }
      try {
        const response = await fetch(`${this.url}${this.options.probe.path}`, {
          headers: { authorization: `Bearer ${this.options.probe.token}` },
          signal: AbortSignal.timeout(5000),
        });
        await response.body?.cancel();
        return (Date.now() - started) / 1000;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(
          `the local cloud did not serve within ${(deadline - started) / 1000} s; see ${this.options.logFile}`,
        );
      }
      await sleep(500);
    }
  }

  /** SIGKILL to the whole process group (tsx, node, the function workers); resolves when it is gone. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child?.pid) return;
    this.#child = undefined;
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    await Promise.race([exited, sleep(10_000)]);
  }

  /** A clean stop (SIGTERM, then SIGKILL after `graceMs`). */
  async stop(graceMs = 15_000): Promise<void> {
    const child = this.#child;
    if (!child?.pid) return;
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
    await Promise.race([exited, sleep(graceMs)]);
    await this.kill();
  }
}

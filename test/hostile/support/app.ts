/**
 * The real app (`bin/app.ts`, stage dev) on the local cloud, as `test/integration/app.ts` starts it,
 * with one difference: the cloud assembly is synthesized once per source tree and reused (a
 * cache in the temp directory keyed by a hash of `bin/`, `lib/`, `lambdas/` and the build
 * files), because both hostile test files need the same app and a synth costs up to a minute of
 * this machine's two cores.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { inject } from 'vitest';
import { ROOT } from '../../../scripts/lib/python.js';
import { JwtIssuer } from '../../../scripts/local-cloud/auth/jwt-issuer.js';
import type { RegisteredResource } from '../../../scripts/local-cloud/registry.js';
import { LocalCloud } from '../../../scripts/local-cloud/runtime.js';

export interface HostileApp {
  readonly cloud: LocalCloud;
  readonly url: URL;
  /** Issues tokens of the local issuer (valid ones; the hostile ones are made from it). */
  readonly issuer: JwtIssuer;
  readonly token: string;
  /** A provisioned resource by type and construct path (its logical id without the 8-digit hash). */
  resource(type: string, logicalPrefix: string): RegisteredResource;
  /** JSON call through fetch, for fixtures (not for hostile requests: fetch normalises them). */
  call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  stop(): Promise<void>;
}

const INPUTS = ['bin', 'lib', 'lambdas', 'cdk.json', 'package-lock.json', 'tsconfig.json'];

function filesOf(path: string): string[] {
  if (!existsSync(path)) return [];
  if (statSync(path).isFile()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((name) => filesOf(join(path, name)));
}

function sourceHash(): string {
  const hash = createHash('sha256');
  for (const file of INPUTS.flatMap((p) => filesOf(join(ROOT, p)))) {
    hash.update(relative(ROOT, file));
    hash.update(readFileSync(file));
  }
  return hash.digest('hex').slice(0, 16);
}

/** The dev stage's cloud assembly for the current sources, synthesized at most once. */
export function synthesizedAssembly(): string {
  const dir = join(tmpdir(), `platform-hostile-assembly-${sourceHash()}`);
  if (existsSync(join(dir, 'manifest.json'))) return dir;
  const outdir = mkdtempSync(join(tmpdir(), 'platform-hostile-synth-'));
  const synth = spawnSync(
    join(ROOT, 'node_modules/.bin/cdk'),
    ['synth', '--quiet', '-c', 'stage=dev', '-o', outdir],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (synth.status !== 0) throw new Error(`cdk synth failed:\n${synth.stderr}`);
  try {
    renameSync(outdir, dir);
  } catch {
    // Another worker got there first: theirs is the same assembly.
    rmSync(outdir, { recursive: true, force: true });
  }
  return dir;
}

const logTo =
  (file: string | undefined, prefix: string) =>
  (line: string): void => {
    if (file) appendFileSync(file, `[${prefix}] ${line}\n`);
  };

export async function startHostileApp(subject: string): Promise<HostileApp> {
  const engines = inject('engines');
  const cloud = await LocalCloud.start({
    assemblyDir: synthesizedAssembly(),
    target: { endpoint: engines.awsEndpointUrl, region: 'us-east-1', accountId: '123456789012' },
    engines: {
      kafkaBrokers: engines.kafkaBrokers,
      redisUrl: engines.redisUrl,
      rabbitUrl: engines.rabbitmqUrl,
      rabbitManagementUrl: engines.rabbitmqManagementUrl,
    },
    port: 0,
    // HOSTILE_FUNCTION_LOG=<file>: the cloud's and the functions' logs, to see why a case failed.
    log: logTo(process.env.HOSTILE_FUNCTION_LOG, 'local-cloud'),
    functionLog: (fn, line) => logTo(process.env.HOSTILE_FUNCTION_LOG, fn)(line),
  });
  const issuer = new JwtIssuer();
  const token = issuer.issue({ sub: subject });
  return {
    cloud,
    url: new URL(cloud.url),
    issuer,
    token,
    resource: (type, logicalPrefix) => {
      const found = cloud.resources
        .ofType(type)
        .find(
          (r) =>
            r.logicalId.startsWith(logicalPrefix) &&
            /^[0-9A-F]{8}$/.test(r.logicalId.slice(logicalPrefix.length)),
        );
      if (!found) throw new Error(`no ${type} ${logicalPrefix}*`);
      return found;
    },
    call: async (method, path, body) => {
      const response = await fetch(`${cloud.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : {} };
    },
    stop: () => cloud.stop(),
  };
}

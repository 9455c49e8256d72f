/**
 * The real app (`bin/app.ts`, stage dev) synthesized and run by the local cloud against the local
 * engines, with a JWT of the local issuer: what end-to-end tests call through the HTTP API.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { ROOT } from '../../scripts/lib/python.js';
import { JwtIssuer } from '../../scripts/local-cloud/auth/jwt-issuer.js';
import type { RegisteredResource } from '../../scripts/local-cloud/registry.js';
import { LocalCloud } from '../../scripts/local-cloud/runtime.js';
import { eventually } from './eventually.js';

export interface Reply {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

export interface RunningApp {
  readonly cloud: LocalCloud;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
  /** Polls GET `path` until `until` holds. */
  read(path: string, until: (reply: Reply) => boolean, timeoutMs?: number): Promise<Reply>;
  /** A provisioned resource by type and construct path (its logical id without the 8-digit hash). */
  resource(type: string, logicalPrefix: string): RegisteredResource;
  stop(): Promise<void>;
}

/** `config`: stage configuration overrides (`-c config=<json>`), e.g. a small claim-check threshold. */
export async function startApp(subject: string, config?: Record<string, unknown>): Promise<RunningApp> {
  const outdir = mkdtempSync(join(tmpdir(), 'platform-app-'));
  const synth = spawnSync(
    join(ROOT, 'node_modules/.bin/cdk'),
    [
      'synth',
      '--quiet',
      '-c',
      'stage=dev',
      ...(config ? ['-c', `config=${JSON.stringify(config)}`] : []),
      '-o',
      outdir,
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (synth.status !== 0) throw new Error(`cdk synth failed:\n${synth.stderr}`);
  const engines = inject('engines');
  const cloud = await LocalCloud.start({
    assemblyDir: outdir,
    target: { endpoint: engines.awsEndpointUrl, region: 'us-east-1', accountId: '123456789012' },
    engines: {
      kafkaBrokers: engines.kafkaBrokers,
      redisUrl: engines.redisUrl,
      rabbitUrl: engines.rabbitmqUrl,
      rabbitManagementUrl: engines.rabbitmqManagementUrl,
    },
    port: 0,
    log: () => undefined,
    functionLog: () => undefined,
  });
  const token = new JwtIssuer().issue({ sub: subject });
  const call: RunningApp['call'] = async (method, path, body, headers = {}) => {
    const response = await fetch(`${cloud.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : {}, headers: response.headers };
  };
  return {
    cloud,
    call,
    read: (path, until, timeoutMs = 15_000) =>
      eventually(
        async () => {
          const reply = await call('GET', path);
          return until(reply) ? reply : undefined;
        },
        timeoutMs,
        50,
      ),
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
    stop: () => cloud.stop(),
  };
}

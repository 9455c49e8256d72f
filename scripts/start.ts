/**
 * `npm start`: the whole platform on this machine. Local engines up, the CDK app synthesized,
 * and the local cloud running what `cdk.out` describes: provisioned resources, every function,
 * its event sources and the REST APIs on http://127.0.0.1:${PORT:-3000}.
 *
 *   npm start                      # stage dev
 *   npm start -- --watch           # re-synth and restart when bin/, lib/ or lambdas/ change
 *   npm start -- --no-synth        # run the cdk.out that is there
 *   npm start -- --stage prod --port 3001
 */
import { spawnSync } from 'node:child_process';
import { existsSync, type FSWatcher, mkdirSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type EngineEndpoints, ensureEngines } from './lib/engines.js';
import { ROOT } from './lib/python.js';
import { LOCAL_OUTPUTS_FILE, LocalCloud } from './local-cloud/runtime.js';

const { values } = parseArgs({
  options: {
    stage: { type: 'string', default: 'dev' },
    port: { type: 'string', default: process.env.PORT ?? '3000' },
    watch: { type: 'boolean', default: false },
    'no-synth': { type: 'boolean', default: false },
    out: { type: 'string', default: 'cdk.out' },
  },
});

const say = (line: string) => process.stderr.write(`[start] ${line}\n`);
const started = performance.now();

function synth(): boolean {
  say(`synthesizing stage ${values.stage} into ${values.out}`);
  const result = spawnSync(
    join(ROOT, 'node_modules/.bin/cdk'),
    ['synth', '--quiet', '-c', `stage=${values.stage}`, '-o', values.out],
    { stdio: 'inherit' },
  );
  return result.status === 0;
}

async function boot(engines: EngineEndpoints): Promise<LocalCloud> {
  const region = process.env.AWS_REGION ?? 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  return LocalCloud.start({
    assemblyDir: values.out,
    port: Number(values.port),
    target: { endpoint: engines.awsEndpointUrl, region, accountId: '123456789012' },
    engines: {
      kafkaBrokers: engines.kafkaBrokers,
      redisUrl: engines.redisUrl,
      rabbitUrl: engines.rabbitmqUrl,
      rabbitManagementUrl: engines.rabbitmqManagementUrl,
    },
    log: (line) => process.stderr.write(`[local-cloud] ${line}\n`),
    functionLog: (fn, line) => process.stderr.write(`[${fn}] ${line}\n`),
  });
}

/** Writes the stacks' resolved outputs where `npm run rebuild-read-models -- --local` finds them. */
function writeOutputs(cloud: LocalCloud): void {
  mkdirSync('.local-cloud', { recursive: true });
  writeFileSync(LOCAL_OUTPUTS_FILE, `${JSON.stringify(cloud.resources.outputs, null, 2)}\n`);
}

function describeCloud(cloud: LocalCloud): void {
  writeOutputs(cloud);
  say(`${cloud.functions.size} function(s), ${cloud.eventSources.length} event source(s)`);
  for (const s of cloud.eventSources) say(`  ${s.description}`);
  if (cloud.unsupported.length > 0) {
    say(`${cloud.unsupported.length} template feature(s) not emulated (listed above by resource)`);
  }
  if (!cloud.url) {
    say('the app defines no REST API yet: functions and event sources are running');
    return;
  }
  const routes = [
    ...new Set(
      cloud.routes.map((r) => `${r.httpMethod.padEnd(6)} ${r.resourcePath}  (${r.authorizationType})`),
    ),
  ];
  process.stdout.write(`\nLocal API: ${cloud.url}\n${routes.map((r) => `  ${r}`).join('\n')}\n`);
  const example =
    cloud.routes.find((r) => r.httpMethod === 'GET' && r.authorizationType === 'NONE') ?? cloud.routes[0];
  process.stdout.write(
    `\nTry:  curl -s ${cloud.url}${example?.resourcePath.replace(/\{[^}]+\}/g, 'example') ?? '/'}\n` +
      '      routes with a JWT authorizer: -H "Authorization: $(npm run -s token)"\n' +
      '      routes with IAM authorization: sign with SigV4 and the credentials in AWS_ACCESS_KEY_ID/SECRET\n\n',
  );
}

async function main(): Promise<void> {
  const engines = await ensureEngines();
  if (!values['no-synth'] && !synth()) process.exit(1);
  let cloud = await boot(engines);
  describeCloud(cloud);
  say(`ready in ${((performance.now() - started) / 1000).toFixed(1)} s; Ctrl-C stops`);

  let watchers: FSWatcher[] = [];
  if (values.watch) {
    let timer: NodeJS.Timeout | undefined;
    let restarting = Promise.resolve();
    const onChange = (dir: string, file: string | null) => {
      if (file?.includes('cdk.out')) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        restarting = restarting.then(async () => {
          say(`${dir}/${file ?? ''} changed: rebuilding`);
          if (!synth()) {
            say('synth failed; still running the previous build');
            return;
          }
          await cloud.stop();
          cloud = await boot(engines);
          describeCloud(cloud);
        });
      }, 300);
    };
    watchers = ['bin', 'lib', 'lambdas']
      .filter((dir) => existsSync(join(ROOT, dir)))
      .map((dir) => watch(join(ROOT, dir), { recursive: true }, (_event, file) => onChange(dir, file)));
    say('watching bin/, lib/ and lambdas/');
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping (engines stay up; \`npm run engines -- down\` stops them)`);
    for (const w of watchers) w.close();
    await cloud.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((e: Error) => {
  say(e.message);
  process.exit(1);
});

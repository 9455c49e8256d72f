/**
 * `npm run engines -- up|down|status [engine...]`: the local Redis, RabbitMQ, Kafka and moto daemons.
 * `npm run engines -- restart <engine...> [--down-seconds N] [--lose-data]` stops each engine, waits,
 * and starts it again, one at a time (a fault, as `npm run chaos` injects it; Redis keeps its data
 * unless --lose-data).
 * Progress goes to stderr; `up` prints the endpoints as KEY=value lines on stdout, ready for a .env file.
 * `npm run engines -- rabbitmqctl <args>` runs rabbitmqctl against our node (Debian's wrapper cannot: it
 * switches to the rabbitmq user, whose Erlang cookie is not our node's).
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import {
  display,
  ENGINE_NAMES,
  type EngineName,
  type EngineStatus,
  EnginesError,
  engineStatus,
  ensureEngines,
  LOGS_DIR,
  rabbitmqctlEnv,
  restartEngine,
  stopEngines,
} from './lib/engines.js';

const USAGE = [
  `usage: npm run engines -- up|down|status [${ENGINE_NAMES.join('|')} ...]`,
  `       npm run engines -- restart <${ENGINE_NAMES.join('|')}> ... [--down-seconds N] [--lose-data]`,
  '       npm run engines -- rabbitmqctl <arguments>',
].join('\n');

function parseNames(args: string[]): EngineName[] {
  const unknown = args.filter((a) => !(ENGINE_NAMES as readonly string[]).includes(a));
  if (unknown.length > 0) throw new Error(`unknown engine ${unknown.join(', ')}\n${USAGE}`);
  return args.length > 0 ? (args as EngineName[]) : [...ENGINE_NAMES];
}

function table(rows: EngineStatus[]): string {
  const header = ['ENGINE', 'ENDPOINT', 'STATE', 'PID', 'DETAIL'];
  const cells = rows.map((r) => [r.engine, r.endpoint, r.state, r.pid ? String(r.pid) : '-', r.detail]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => (row[i] ?? '').length)));
  // The last column is free text: no padding, so long error messages do not widen the table.
  const line = (row: string[]) =>
    row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ');
  return [line(header), ...cells.map(line)].join('\n');
}

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'rabbitmqctl') {
    const ctl = rabbitmqctlEnv();
    return spawnSync(ctl.command, rest, { env: ctl.env, stdio: 'inherit' }).status ?? 1;
  }
  if (command === 'restart') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { 'down-seconds': { type: 'string', default: '5' }, 'lose-data': { type: 'boolean' } },
    });
    const downSeconds = Number(values['down-seconds']);
    if (!Number.isFinite(downSeconds) || downSeconds < 0)
      throw new Error(`--down-seconds: not a number\n${USAGE}`);
    if (positionals.length === 0) throw new Error(`restart: name the engines to restart\n${USAGE}`);
    for (const name of parseNames(positionals)) {
      const report = await restartEngine(name, {
        downMs: downSeconds * 1000,
        keepData: values['lose-data'] !== true,
      });
      console.error(
        `[engines] ${name}: restarted, healthy ${report.startSeconds.toFixed(1)} s after its start`,
      );
    }
    return 0;
  }
  const names = parseNames(rest);
  switch (command) {
    case 'up': {
      const started = Date.now();
      const endpoints = await ensureEngines(names);
      console.error(
        `[engines] ready in ${((Date.now() - started) / 1000).toFixed(1)} s; logs in ${display(LOGS_DIR)}/`,
      );
      const lines: Record<EngineName, string[]> = {
        redis: [`REDIS_URL=${endpoints.redisUrl}`],
        rabbitmq: [
          `RABBITMQ_URL=${endpoints.rabbitmqUrl}`,
          `RABBITMQ_MANAGEMENT_URL=${endpoints.rabbitmqManagementUrl}`,
        ],
        kafka: [`KAFKA_BROKERS=${endpoints.kafkaBrokers.join(',')}`],
        moto: [`AWS_ENDPOINT_URL=${endpoints.awsEndpointUrl}`],
      };
      console.log(names.flatMap((n) => lines[n]).join('\n'));
      return 0;
    }
    case 'down':
      await stopEngines(names);
      return 0;
    case 'status': {
      const rows = await engineStatus(names);
      console.log(table(rows));
      console.log(`\nlogs: ${display(LOGS_DIR)}/`);
      // Non-zero when something is not serving, so scripts can use `status` as a check.
      return rows.every((r) => r.state === 'up' || r.state === 'external') ? 0 : 3;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof EnginesError) {
      console.error(`[engines] not ready:\n${error.message}`);
    } else {
      console.error(`[engines] ${error instanceof Error ? error.message : String(error)}`);
    }
    process.exitCode = 1;
  },
);

/**
 * The local engines the platform runs against instead of AWS: Redis, RabbitMQ, Kafka (KRaft) and moto.
 *
 * Each one runs as a detached daemon of our own, bound to 127.0.0.1, with its state, pid file and
 * configuration under `.engines/<name>/` and its log in `.engines/logs/<name>.log`. An engine that is
 * already healthy on its endpoint (ours or the user's) is reused; an endpoint pointed elsewhere through
 * its environment variable is only checked, never started. Used by `npm run engines` and by the
 * integration tests' global setup.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { delimiter, join, relative } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { ensurePythonTools, ROOT, venvBin } from './python.js';

export type EngineName = 'redis' | 'rabbitmq' | 'kafka' | 'moto';
export const ENGINE_NAMES: readonly EngineName[] = ['redis', 'rabbitmq', 'kafka', 'moto'];

/** Where the platform's code and tests find the engines. Plain data: it crosses into vitest workers. */
export interface EngineEndpoints {
  redisUrl: string;
  rabbitmqUrl: string;
  rabbitmqManagementUrl: string;
  kafkaBrokers: string[];
  awsEndpointUrl: string;
}

export type EngineState = 'up' | 'external' | 'unhealthy' | 'down';

export interface EngineStatus {
  engine: EngineName;
  endpoint: string;
  state: EngineState;
  /** Pid of the daemon we started, when it is alive. */
  pid: number | undefined;
  /** What the engine answered (its version), or why it did not. */
  detail: string;
  logFile: string;
}

export interface EngineFailure {
  engine: EngineName;
  reason: string;
  logFile: string | undefined;
}

/** Thrown by ensureEngines: one entry per engine that is not usable, each naming the log to read. */
export class EnginesError extends Error {
  constructor(readonly failures: EngineFailure[]) {
    super(
      failures
        .map((f) => `${f.engine}: ${f.reason}${f.logFile ? `\n  read the log: ${f.logFile}` : ''}`)
        .join('\n'),
    );
    this.name = 'EnginesError';
  }
}

export type Log = (line: string) => void;

export interface EnsureOptions {
  log?: Log;
  /** Overrides every engine's start timeout. */
  startTimeoutMs?: number;
}

const defaultLog: Log = (line) => process.stderr.write(`[engines] ${line}\n`);

export const ENGINES_DIR = join(ROOT, '.engines');
export const LOGS_DIR = join(ENGINES_DIR, 'logs');
const KAFKA_POM = join(ROOT, 'engines', 'kafka', 'pom.xml');
const KAFKA_LOG4J = join(ROOT, 'engines', 'kafka', 'log4j2.properties');
const RABBITMQ_HOME_BIN = '/usr/lib/rabbitmq/bin';

const stateDir = (name: EngineName): string => join(ENGINES_DIR, name);
const pidFile = (name: EngineName): string => join(stateDir(name), `${name}.pid`);
export const logFile = (name: EngineName): string => join(LOGS_DIR, `${name}.log`);
/** Paths in messages are relative to the project root: short, and what a user types. */
export const display = (path: string): string => relative(ROOT, path) || '.';

// ---------------------------------------------------------------------------------------------------------
// Configuration from the environment
// ---------------------------------------------------------------------------------------------------------

interface Ports {
  redis: number;
  rabbitmq: number;
  rabbitmqManagement: number;
  rabbitmqDist: number;
  kafka: number;
  kafkaController: number;
  moto: number;
}

interface Config {
  ports: Ports;
  endpoints: EngineEndpoints;
  /** True when the user pointed the endpoint somewhere else than the engine we would start. */
  external: Record<EngineName, boolean>;
}

function portEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${name}=${raw} is not a TCP port (1-65535)`);
  }
  return port;
}

/** Compares endpoints the way a user means them: localhost is 127.0.0.1, a trailing slash is noise. */
function sameEndpoint(a: string, b: string): boolean {
  const norm = (s: string) => s.trim().replace(/\/+$/, '').replace('//localhost', '//127.0.0.1');
  return norm(a) === norm(b);
}

function config(env: NodeJS.ProcessEnv = process.env): Config {
  const ports: Ports = {
    redis: portEnv(env, 'REDIS_PORT', 6379),
    rabbitmq: portEnv(env, 'RABBITMQ_PORT', 5672),
    rabbitmqManagement: portEnv(env, 'RABBITMQ_MANAGEMENT_PORT', 15672),
    rabbitmqDist: 0,
    kafka: portEnv(env, 'KAFKA_PORT', 9092),
    kafkaController: portEnv(env, 'KAFKA_CONTROLLER_PORT', 9093),
    moto: portEnv(env, 'MOTO_PORT', 4566),
  };
  // RabbitMQ's own convention for the Erlang distribution port.
  ports.rabbitmqDist = portEnv(env, 'RABBITMQ_DIST_PORT', ports.rabbitmq + 20000);

  const defaults = {
    redisUrl: `redis://127.0.0.1:${ports.redis}`,
    rabbitmqUrl: `amqp://guest:guest@127.0.0.1:${ports.rabbitmq}`,
    rabbitmqManagementUrl: `http://127.0.0.1:${ports.rabbitmqManagement}`,
    kafkaBrokers: `127.0.0.1:${ports.kafka}`,
    awsEndpointUrl: `http://127.0.0.1:${ports.moto}`,
  };
  const pick = (name: string, fallback: string) => {
    const value = env[name]?.trim();
    return value ? value : fallback;
  };
  const redisUrl = pick('REDIS_URL', defaults.redisUrl);
  const rabbitmqUrl = pick('RABBITMQ_URL', defaults.rabbitmqUrl);
  const rabbitmqManagementUrl = pick('RABBITMQ_MANAGEMENT_URL', defaults.rabbitmqManagementUrl);
  const kafkaBrokers = pick('KAFKA_BROKERS', defaults.kafkaBrokers);
  const awsEndpointUrl = pick('AWS_ENDPOINT_URL', defaults.awsEndpointUrl);
  return {
    ports,
    endpoints: {
      redisUrl,
      rabbitmqUrl,
      rabbitmqManagementUrl: rabbitmqManagementUrl.replace(/\/+$/, ''),
      kafkaBrokers: kafkaBrokers
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean),
      awsEndpointUrl: awsEndpointUrl.replace(/\/+$/, ''),
    },
    external: {
      redis: !sameEndpoint(redisUrl, defaults.redisUrl),
      rabbitmq:
        !sameEndpoint(rabbitmqUrl, defaults.rabbitmqUrl) ||
        !sameEndpoint(rabbitmqManagementUrl, defaults.rabbitmqManagementUrl),
      kafka: !sameEndpoint(kafkaBrokers, defaults.kafkaBrokers),
      moto: !sameEndpoint(awsEndpointUrl, defaults.awsEndpointUrl),
    },
  };
}

/** The endpoints tests and tools should use, from the environment or the defaults; starts nothing. */
export function engineEndpoints(env: NodeJS.ProcessEnv = process.env): EngineEndpoints {
  return config(env).endpoints;
}

// ---------------------------------------------------------------------------------------------------------
// Small async helpers
// ---------------------------------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function errorText(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return errorText(error.errors[0]);
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = error.message || code || error.name;
    // fetch() hides the socket error ("fetch failed") in its cause.
    return error.cause !== undefined && message === 'fetch failed'
      ? `${message}: ${errorText(error.cause)}`
      : message;
  }
  return String(error);
}

/** Every probe is bounded: a port held by something that never answers must not hang `up`. */
async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: string };

async function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error: errorText(error) };
  }
}

/** Last lines of a log, quoted into error messages so the cause is visible without opening it. */
function logTail(path: string, lines = 12): string {
  if (!existsSync(path)) return '';
  const text = readFileSync(path, 'utf8').trimEnd();
  if (!text) return '';
  const tail = text.split('\n').slice(-lines);
  return `\n  last lines of ${display(path)}:\n${tail.map((l) => `    | ${l}`).join('\n')}`;
}

/** Runs a setup step (maven, the storage tool) with its output appended to the engine's log. */
function runToLog(
  label: string,
  command: string,
  args: string[],
  logFd: number,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', logFd, logFd], cwd: ROOT });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${label}: cannot run ${command}: ${errorText(error)}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${label} failed (${signal ? `killed by ${signal}` : `exit ${code}`})`));
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// Processes, pid files and ports
// ---------------------------------------------------------------------------------------------------------

function readPid(name: EngineName): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile(name), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Alive and not a zombie: a killed daemon whose parent has not reaped it yet is gone for us. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** The pid of our daemon, if the pid file names a live process that is still that engine (pids get reused). */
function ourPid(engine: Engine): number | undefined {
  const pid = readPid(engine.name);
  if (pid === undefined || !isAlive(pid)) return undefined;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    return cmdline.includes(engine.marker) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function tcpOpen(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ port, host });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(true)); // a silent half-open listener still holds the port
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Who listens on a port, from `ss -ltnp`, for the "port is taken" message. */
function portOwner(port: number): string {
  try {
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8', timeout: 3000 });
    const line = out.split('\n').find((l) => l.trim());
    if (!line) return 'an unknown process';
    const users = /users:\(\("([^"]+)",pid=(\d+)/.exec(line);
    const local = line.trim().split(/\s+/)[3] ?? `:${port}`;
    return users ? `${users[1]} (pid ${users[2]}, listening on ${local})` : `a process listening on ${local}`;
  } catch {
    return 'an unknown process (ss is not available)';
  }
}

function findBinary(binary: string): string | undefined {
  const candidates = binary.includes('/')
    ? [binary]
    : (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, binary));
  return candidates.find((path) => {
    try {
      return statSync(path).isFile();
    } catch {
      return false;
    }
  });
}

// ---------------------------------------------------------------------------------------------------------
// Engine definitions
// ---------------------------------------------------------------------------------------------------------

interface Requirement {
  binary: string;
  aptPackage: string;
}

interface Launch {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

interface Engine {
  name: EngineName;
  title: string;
  /** Variables that move our daemon to other ports, and that point at an engine of the user's instead. */
  portVars: string[];
  urlVars: string[];
  /** A substring of the daemon's /proc cmdline, proving that a pid file still names our process. */
  marker: string;
  startTimeoutMs: number;
  stopTimeoutMs: number;
  endpoint(c: Config): string;
  /** Ports our daemon binds: all must be free before it starts. */
  ports(c: Config): number[];
  /** Resolves with what the engine says about itself (its version) once it serves requests. */
  check(c: Config): Promise<string>;
  /** Binaries to apt-get install when absent. */
  requirements(c: Config): Requirement[];
  /** Writes configuration and runs one-time setup; its tool output goes to the engine's log. */
  prepare(c: Config, logFd: number, log: Log): Promise<void>;
  launch(c: Config): Launch;
}

// --- Redis -------------------------------------------------------------------------------------------------

/** RESP array encoding, so AUTH works with any password characters. */
const resp = (...parts: string[]) =>
  `*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join('')}`;

/** PING-level check speaking RESP over a raw socket: no client library, and a non-Redis peer fails fast. */
function checkRedis(url: string): Promise<string> {
  const target = new URL(url);
  const port = Number(target.port || 6379);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const user = decodeURIComponent(target.username);
  const password = decodeURIComponent(target.password);
  const request =
    (password ? (user ? resp('AUTH', user, password) : resp('AUTH', password)) : '') + resp('INFO', 'server');
  return new Promise<string>((resolve, reject) => {
    const socket: Socket =
      target.protocol === 'rediss:'
        ? tlsConnect({ host, port, servername: host })
        : netConnect({ host, port });
    let received = '';
    // Destroying the socket matters: a silent listener would otherwise keep the process alive.
    const timer = setTimeout(() => finish(new Error(`Redis at ${url}: no answer within 2000 ms`)), 2000);
    const finish = (error: Error | undefined, value?: string) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(value ?? '');
    };
    socket.once(target.protocol === 'rediss:' ? 'secureConnect' : 'connect', () => socket.write(request));
    socket.on('data', (chunk) => {
      received += chunk.toString('utf8');
      const first = received[0] ?? '';
      if (!'+-$*:'.includes(first)) {
        const firstLine = received.split(/\r?\n/)[0]?.slice(0, 60) ?? '';
        return finish(new Error(`not a Redis server (it answered ${JSON.stringify(firstLine)})`));
      }
      if (first === '-') return finish(new Error(`Redis refused: ${received.split('\r\n')[0]?.slice(1)}`));
      const version = /redis_version:([^\r\n]+)/.exec(received);
      if (version) finish(undefined, `redis ${version[1]}`);
    });
    socket.once('error', (error) => finish(error));
    socket.once('close', () => finish(new Error('connection closed before Redis answered')));
  });
}

const redis: Engine = {
  name: 'redis',
  title: 'Redis',
  portVars: ['REDIS_PORT'],
  urlVars: ['REDIS_URL'],
  marker: 'redis-server',
  startTimeoutMs: 20_000,
  stopTimeoutMs: 10_000,
  endpoint: (c) => c.endpoints.redisUrl,
  ports: (c) => [c.ports.redis],
  check: (c) => checkRedis(c.endpoints.redisUrl),
  requirements: () => [{ binary: 'redis-server', aptPackage: 'redis-server' }],
  async prepare(c) {
    const dir = stateDir('redis');
    mkdirSync(join(dir, 'data'), { recursive: true });
    // Our own instance: loopback only, no daemonize (we detach it), log to stdout (our log file),
    // no RDB snapshots (test data is disposable).
    const conf = [
      'bind 127.0.0.1',
      `port ${c.ports.redis}`,
      'protected-mode yes',
      'daemonize no',
      'supervised no',
      `dir ${join(dir, 'data')}`,
      'logfile ""',
      'save ""',
      'appendonly no',
      '',
    ].join('\n');
    writeFileSync(join(dir, 'redis.conf'), conf);
  },
  launch: () => ({
    command: findBinary('redis-server') ?? 'redis-server',
    args: [join(stateDir('redis'), 'redis.conf')],
  }),
};

// --- RabbitMQ ----------------------------------------------------------------------------------------------

async function checkRabbitmq(c: Config): Promise<string> {
  const amqp = await import('amqplib');
  const connection = await withTimeout(
    amqp.connect(c.endpoints.rabbitmqUrl, { timeout: 2000 }),
    3000,
    `AMQP at ${c.endpoints.rabbitmqUrl}`,
  );
  await connection.close();
  // The management API answers the credentials of the AMQP URL (guest/guest works on loopback).
  const amqpUrl = new URL(c.endpoints.rabbitmqUrl);
  const user = decodeURIComponent(amqpUrl.username || 'guest');
  const password = decodeURIComponent(amqpUrl.password || 'guest');
  const overviewUrl = `${c.endpoints.rabbitmqManagementUrl}/api/overview`;
  const response = await fetch(overviewUrl, {
    headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
    signal: AbortSignal.timeout(2500),
  });
  if (!response.ok) throw new Error(`GET ${overviewUrl} answered HTTP ${response.status}`);
  const overview = (await response.json()) as { rabbitmq_version?: string };
  return `RabbitMQ ${overview.rabbitmq_version ?? '(unknown version)'}`;
}

/**
 * Environment of our RabbitMQ node. We call /usr/lib/rabbitmq/bin directly: Debian's /usr/sbin wrappers
 * `su` to the rabbitmq user (HOME /var/lib/rabbitmq), whose cookie and directories are not ours. Running
 * the node as root works; `rabbitmqctl` must then be /usr/lib/rabbitmq/bin/rabbitmqctl with this same
 * environment (HOME holds the Erlang cookie): see rabbitmqctlEnv().
 */
function rabbitmqEnv(c: Config): NodeJS.ProcessEnv {
  const dir = stateDir('rabbitmq');
  const loopbackDist = '-kernel inet_dist_use_interface {127,0,0,1}';
  return {
    HOME: join(dir, 'home'),
    RABBITMQ_NODENAME: 'rabbit@localhost',
    // A path that does not exist: /etc/rabbitmq/rabbitmq-env.conf must not steer our node.
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_PID_FILE: join(dir, 'beam.pid'),
    RABBITMQ_LOG_BASE: LOGS_DIR,
    // Node logs to stdout, i.e. our one log file, instead of a second file in LOG_BASE.
    RABBITMQ_LOGS: '-',
    RABBITMQ_DIST_PORT: String(c.ports.rabbitmqDist),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: loopbackDist,
    RABBITMQ_CTL_ERL_ARGS: loopbackDist,
    ERL_EPMD_ADDRESS: '127.0.0.1',
    ERL_CRASH_DUMP: join(dir, 'erl_crash.dump'),
  };
}

/** Environment and binary for running `rabbitmqctl` against our node by hand (same HOME, same cookie). */
export function rabbitmqctlEnv(env: NodeJS.ProcessEnv = process.env): {
  command: string;
  env: NodeJS.ProcessEnv;
} {
  return { command: join(RABBITMQ_HOME_BIN, 'rabbitmqctl'), env: { ...env, ...rabbitmqEnv(config(env)) } };
}

const rabbitmq: Engine = {
  name: 'rabbitmq',
  title: 'RabbitMQ',
  portVars: ['RABBITMQ_PORT', 'RABBITMQ_MANAGEMENT_PORT', 'RABBITMQ_DIST_PORT'],
  urlVars: ['RABBITMQ_URL', 'RABBITMQ_MANAGEMENT_URL'],
  marker: 'rabbitmq-server',
  startTimeoutMs: 90_000,
  stopTimeoutMs: 30_000,
  endpoint: (c) =>
    `${c.endpoints.rabbitmqUrl.replace(/\/\/[^@/]*@/, '//')} (+ ${c.endpoints.rabbitmqManagementUrl})`,
  ports: (c) => [c.ports.rabbitmq, c.ports.rabbitmqManagement, c.ports.rabbitmqDist],
  check: checkRabbitmq,
  requirements: () => [{ binary: join(RABBITMQ_HOME_BIN, 'rabbitmq-server'), aptPackage: 'rabbitmq-server' }],
  async prepare(c) {
    const dir = stateDir('rabbitmq');
    for (const sub of ['home', 'mnesia']) mkdirSync(join(dir, sub), { recursive: true });
    writeFileSync(
      join(dir, 'rabbitmq.conf'),
      [
        `listeners.tcp.default = 127.0.0.1:${c.ports.rabbitmq}`,
        'management.tcp.ip = 127.0.0.1',
        `management.tcp.port = ${c.ports.rabbitmqManagement}`,
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'enabled_plugins'), '[rabbitmq_management].\n');
  },
  launch: (c) => ({
    command: join(RABBITMQ_HOME_BIN, 'rabbitmq-server'),
    args: [],
    env: rabbitmqEnv(c),
  }),
};

// --- Kafka -------------------------------------------------------------------------------------------------

const kafkaLib = () => join(stateDir('kafka'), 'lib');
const kafkaDataDir = () => join(stateDir('kafka'), 'data');
const pomHash = () => createHash('sha256').update(readFileSync(KAFKA_POM)).digest('hex');
const kafkaJarsStamp = () => join(kafkaLib(), '.pom.sha256');

function kafkaJarsReady(): boolean {
  const stamp = kafkaJarsStamp();
  return existsSync(stamp) && readFileSync(stamp, 'utf8') === pomHash();
}

function javaBinary(): string {
  const home = process.env.JAVA_HOME;
  return home && existsSync(join(home, 'bin', 'java')) ? join(home, 'bin', 'java') : 'java';
}

/** JVM flags shared by the storage tool and the broker; the classpath is the Maven-resolved jars. */
function kafkaJvmArgs(): string[] {
  return ['-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${KAFKA_LOG4J}`, '-cp', `${kafkaLib()}/*`];
}

async function checkKafka(c: Config): Promise<string> {
  const { Kafka, logLevel } = await import('kafkajs');
  const admin = new Kafka({
    clientId: 'engines-health',
    brokers: c.endpoints.kafkaBrokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1500,
    requestTimeout: 2500,
    retry: { retries: 0 },
  }).admin();
  try {
    const cluster = await withTimeout(
      (async () => {
        await admin.connect();
        return admin.describeCluster();
      })(),
      4000,
      `Kafka at ${c.endpoints.kafkaBrokers.join(',')}`,
    );
    if (cluster.brokers.length === 0) throw new Error('Kafka answered but lists no broker yet');
    return `Kafka cluster ${cluster.clusterId} (${cluster.brokers.length} broker)`;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

const kafka: Engine = {
  name: 'kafka',
  title: 'Kafka',
  portVars: ['KAFKA_PORT', 'KAFKA_CONTROLLER_PORT'],
  urlVars: ['KAFKA_BROKERS'],
  marker: 'kafka.Kafka',
  startTimeoutMs: 120_000,
  stopTimeoutMs: 30_000,
  endpoint: (c) => c.endpoints.kafkaBrokers.join(','),
  ports: (c) => [c.ports.kafka, c.ports.kafkaController],
  check: checkKafka,
  requirements: () => [
    { binary: 'java', aptPackage: 'openjdk-17-jre-headless' },
    // Maven only matters until the jars are cached.
    ...(kafkaJarsReady() ? [] : [{ binary: 'mvn', aptPackage: 'maven' }]),
  ],
  async prepare(c, logFd, log) {
    const dir = stateDir('kafka');
    if (!kafkaJarsReady()) {
      log(`kafka: resolving the Kafka jars with Maven (once) into ${display(kafkaLib())}`);
      const partial = `${kafkaLib()}.partial`;
      rmSync(partial, { recursive: true, force: true });
      await runToLog(
        'resolving the Kafka jars with Maven',
        'mvn',
        [
          '-q',
          '-B',
          '-Dstyle.color=never',
          '-f',
          KAFKA_POM,
          'dependency:copy-dependencies',
          '-DincludeScope=runtime',
          `-DoutputDirectory=${partial}`,
        ],
        logFd,
        600_000,
      );
      writeFileSync(join(partial, '.pom.sha256'), pomHash());
      rmSync(kafkaLib(), { recursive: true, force: true });
      renameSync(partial, kafkaLib());
    }

    const properties = [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${c.ports.kafkaController}`,
      `listeners=PLAINTEXT://127.0.0.1:${c.ports.kafka},CONTROLLER://127.0.0.1:${c.ports.kafkaController}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${c.ports.kafka}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      `log.dirs=${kafkaDataDir()}`,
      'num.partitions=1',
      // A single node: every internal topic must fit one replica.
      'offsets.topic.replication.factor=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'min.insync.replicas=1',
      // Tests join fresh consumer groups: do not wait 3 s for more members.
      'group.initial.rebalance.delay.ms=0',
      'auto.create.topics.enable=true',
      '',
    ].join('\n');
    writeFileSync(join(dir, 'server.properties'), properties);

    if (!existsSync(join(kafkaDataDir(), 'meta.properties'))) {
      // A cluster id is a base64url-encoded random UUID (what `kafka-storage random-uuid` prints); like
      // Kafka's own generator, skip ids starting with '-', which the tool would parse as an option.
      let clusterId = randomBytes(16).toString('base64url');
      while (clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url');
      log(`kafka: formatting KRaft storage (cluster id ${clusterId})`);
      mkdirSync(kafkaDataDir(), { recursive: true });
      await runToLog(
        'formatting the KRaft storage (kafka.tools.StorageTool)',
        javaBinary(),
        [
          ...kafkaJvmArgs(),
          'kafka.tools.StorageTool',
          'format',
          '--ignore-formatted',
          '-t',
          clusterId,
          '-c',
          join(dir, 'server.properties'),
        ],
        logFd,
        120_000,
      );
    }
  },
  launch: () => ({
    command: javaBinary(),
    args: [
      ...(process.env.KAFKA_HEAP_OPTS ?? '-Xms256m -Xmx512m').split(/\s+/).filter(Boolean),
      '-XX:+UseG1GC',
      '-XX:+ExitOnOutOfMemoryError',
      ...kafkaJvmArgs(),
      'kafka.Kafka',
      join(stateDir('kafka'), 'server.properties'),
    ],
  }),
};

// --- moto --------------------------------------------------------------------------------------------------

/** moto answers /moto-api/; LocalStack (a common AWS_ENDPOINT_URL) answers /_localstack/health. */
async function checkAws(c: Config): Promise<string> {
  const base = c.endpoints.awsEndpointUrl;
  const moto = await fetch(`${base}/moto-api/`, { signal: AbortSignal.timeout(2500) });
  await moto.body?.cancel();
  if (moto.ok) return 'moto';
  const localstack = await fetch(`${base}/_localstack/health`, { signal: AbortSignal.timeout(2500) });
  await localstack.body?.cancel();
  if (localstack.ok) return 'LocalStack';
  throw new Error(`${base} is neither moto nor LocalStack (GET /moto-api/ answered HTTP ${moto.status})`);
}

/**
 * moto's server with its DynamoDB requests handled one at a time. moto serves each request on its
 * own thread and its DynamoDB backend takes no lock, so concurrent conditional writes all pass their
 * condition (of 8 concurrent `attribute_not_exists` puts on one key, several succeed) and
 * concurrent updates of one item lose updates: an idempotency claim, an event-store append at a
 * version or a conditional stock decrement are then not what DynamoDB guarantees, and tests and
 * `npm run chaos` would report the emulator's races as the platform's duplicates. Serializing
 * DynamoDB (and only DynamoDB: SQS long polls must not wait on each other) gives the per-item
 * linearizability the real service has. The file name keeps `moto_server` in the command line
 * (the engine's marker).
 */
const MOTO_LAUNCHER = `# Written by scripts/lib/engines.ts: moto_server with DynamoDB requests serialized.
import sys
import threading

import moto.server as server

_lock = threading.Lock()
_Dispatcher = server.DomainDispatcherApplication


class SerializedDynamoDb(_Dispatcher):
    def __call__(self, environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with _lock:
                return list(super().__call__(environ, start_response))
        return super().__call__(environ, start_response)


server.DomainDispatcherApplication = SerializedDynamoDb
server.main(sys.argv[1:])
`;
const motoLauncher = () => join(stateDir('moto'), 'moto_server_serialized.py');

const moto: Engine = {
  name: 'moto',
  title: 'moto (AWS APIs)',
  portVars: ['MOTO_PORT'],
  urlVars: ['AWS_ENDPOINT_URL'],
  marker: 'moto_server',
  startTimeoutMs: 30_000,
  stopTimeoutMs: 5_000,
  endpoint: (c) => c.endpoints.awsEndpointUrl,
  ports: (c) => [c.ports.moto],
  check: checkAws,
  requirements: () => [],
  async prepare() {
    mkdirSync(stateDir('moto'), { recursive: true });
    writeFileSync(motoLauncher(), MOTO_LAUNCHER);
  },
  launch: (c) => ({
    command: venvBin('python3'),
    args: [motoLauncher(), '-H', '127.0.0.1', '-p', String(c.ports.moto)],
  }),
};

const ENGINES: Record<EngineName, Engine> = { redis, rabbitmq, kafka, moto };

// ---------------------------------------------------------------------------------------------------------
// Installing what is missing
// ---------------------------------------------------------------------------------------------------------

let aptUpdated = false;

function aptInstall(packages: string[], log: Log): void {
  if (process.getuid?.() !== 0) {
    throw new Error(
      `missing ${packages.join(', ')}: install with \`sudo apt-get install -y ${packages.join(' ')}\``,
    );
  }
  const run = (args: string[]) => {
    const result = spawnSync('apt-get', args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      maxBuffer: 64 * 1024 * 1024,
    });
    if (result.status !== 0) {
      const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
      throw new Error(`apt-get ${args.join(' ')} failed:\n${output || errorText(result.error)}`);
    }
  };
  if (!aptUpdated) {
    log('apt-get update');
    run(['update']);
    aptUpdated = true;
  }
  log(`apt-get install -y ${packages.join(' ')}`);
  run(['install', '-y', '--no-install-recommends', ...packages]);
}

/**
 * Installs what the engines about to start need: apt packages whose binary is absent (in one apt-get call),
 * the Python tools for moto. Returns the failures, per engine, so the other engines still start.
 */
function installPrerequisites(engines: Engine[], c: Config, log: Log): EngineFailure[] {
  const failures: EngineFailure[] = [];
  const missing = new Map<string, Engine[]>();
  for (const engine of engines) {
    for (const { binary, aptPackage } of engine.requirements(c)) {
      if (findBinary(binary)) continue;
      missing.set(aptPackage, [...(missing.get(aptPackage) ?? []), engine]);
    }
  }
  if (missing.size > 0) {
    try {
      aptInstall([...missing.keys()], log);
    } catch (error) {
      const needy = new Set([...missing.values()].flat());
      for (const engine of needy)
        failures.push({ engine: engine.name, reason: errorText(error), logFile: undefined });
    }
  }
  if (engines.includes(moto)) {
    try {
      ensurePythonTools(log);
    } catch (error) {
      failures.push({ engine: 'moto', reason: `Python tools: ${errorText(error)}`, logFile: undefined });
    }
  }
  return failures;
}

// ---------------------------------------------------------------------------------------------------------
// Start, wait, stop
// ---------------------------------------------------------------------------------------------------------

async function launchDaemon(engine: Engine, c: Config, log: Log): Promise<ChildProcess> {
  mkdirSync(stateDir(engine.name), { recursive: true });
  mkdirSync(LOGS_DIR, { recursive: true });
  // A fresh log per start: the end of the file is always about this start.
  const logFd = openSync(logFile(engine.name), 'w');
  try {
    await engine.prepare(c, logFd, log).catch((error: unknown) => {
      throw new Error(`${errorText(error)}${logTail(logFile(engine.name))}`);
    });
    const { command, args, env } = engine.launch(c);
    log(`${engine.name}: starting on ${engine.endpoint(c)}`);
    const child = spawn(command, args, {
      // Own process group, no pipes: the daemon outlives `up` and the test run, and `down` signals the group.
      detached: true,
      stdio: ['ignore', logFd, logFd],
      cwd: stateDir(engine.name),
      env: { ...process.env, ...env },
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    writeFileSync(pidFile(engine.name), String(child.pid));
    child.unref();
    return child;
  } finally {
    closeSync(logFd);
  }
}

/** Polls the engine's check until it answers, the daemon dies, or the timeout passes. */
async function waitHealthy(engine: Engine, c: Config, alive: () => string | undefined, timeoutMs: number) {
  const started = Date.now();
  let lastError = 'no answer yet';
  for (;;) {
    const result = await settle(engine.check(c));
    if (result.ok) return { detail: result.value, seconds: (Date.now() - started) / 1000 };
    lastError = result.error;
    const death = alive();
    if (death)
      throw new Error(`${engine.title} ${death} before becoming healthy${logTail(logFile(engine.name))}`);
    if (Date.now() - started > timeoutMs) {
      throw new Error(
        `${engine.title} not healthy on ${engine.endpoint(c)} after ${timeoutMs / 1000} s (last check: ${lastError})` +
          logTail(logFile(engine.name)),
      );
    }
    await sleep(300);
  }
}

const childDeath = (child: ChildProcess) => () =>
  child.exitCode !== null || child.signalCode !== null
    ? `exited (${child.signalCode ?? `code ${child.exitCode}`})`
    : undefined;

const pidDeath = (engine: Engine, pid: number) => () =>
  ourPid(engine) === pid ? undefined : `(pid ${pid}) exited`;

/**
 * Makes the engines usable and returns their endpoints: reuses what is healthy, checks external endpoints,
 * installs what is missing and starts the rest in parallel. Throws EnginesError naming each failed engine
 * and its log; engines that did start are left running.
 */
export async function ensureEngines(
  names: readonly EngineName[] = ENGINE_NAMES,
  opts: EnsureOptions = {},
): Promise<EngineEndpoints> {
  const log = opts.log ?? defaultLog;
  const c = config();
  return withLock(log, async () => {
    const engines = names.map((name) => ENGINES[name]);
    const probes = await Promise.all(engines.map((engine) => settle(engine.check(c))));
    const failures: EngineFailure[] = [];
    const toStart: Engine[] = [];
    const waits: Promise<void>[] = [];
    const timeoutOf = (engine: Engine) => opts.startTimeoutMs ?? engine.startTimeoutMs;
    const fail = (engine: Engine, error: unknown, withLog = true) =>
      failures.push({
        engine: engine.name,
        reason: errorText(error),
        logFile: withLog ? display(logFile(engine.name)) : undefined,
      });

    for (const [i, engine] of engines.entries()) {
      const probe = probes[i];
      if (!probe) continue;
      // A daemon of ours does not serve an endpoint the user pointed elsewhere.
      const pid = c.external[engine.name] ? undefined : ourPid(engine);
      if (probe.ok) {
        const who = pid ? `ours, pid ${pid}` : 'not started by us';
        log(`${engine.name}: reusing ${probe.value} at ${engine.endpoint(c)} (${who})`);
      } else if (c.external[engine.name]) {
        const setVars = engine.urlVars.filter((v) => process.env[v]?.trim()).join(', ');
        fail(
          engine,
          `not reachable at ${engine.endpoint(c)}: ${probe.error}. ${setVars} points at an engine of your own, ` +
            'so up does not start one: start it, or unset the variable to use the local engine',
          false,
        );
      } else if (pid) {
        // Ours and still booting (or wedged): wait for it rather than start a second one.
        log(`${engine.name}: waiting for the daemon started earlier (pid ${pid})`);
        waits.push(
          waitHealthy(engine, c, pidDeath(engine, pid), timeoutOf(engine)).then(
            ({ detail }) => log(`${engine.name}: up (${detail})`),
            (error) => void fail(engine, error),
          ),
        );
      } else {
        const busy = await portConflict(engine, c);
        if (busy) {
          fail(
            engine,
            `port ${busy.port} is held by ${busy.owner}, which is not a healthy ${engine.title} ` +
              `(${probe.error}). Stop that process, or set ${engine.portVars.join(' / ')} to start ours ` +
              `elsewhere, or ${engine.urlVars.join(' / ')} to use an engine of your own`,
            false,
          );
        } else {
          toStart.push(engine);
        }
      }
    }

    if (toStart.length > 0) {
      const installFailures = installPrerequisites(toStart, c, log);
      failures.push(...installFailures);
      for (const engine of toStart) {
        if (installFailures.some((f) => f.engine === engine.name)) continue;
        waits.push(
          (async () => {
            const child = await launchDaemon(engine, c, log);
            const { detail, seconds } = await waitHealthy(engine, c, childDeath(child), timeoutOf(engine));
            log(`${engine.name}: up in ${seconds.toFixed(1)} s (${detail}, pid ${child.pid})`);
          })().catch((error: unknown) => void fail(engine, error)),
        );
      }
    }

    await Promise.all(waits);
    if (failures.length > 0) {
      failures.sort((a, b) => ENGINE_NAMES.indexOf(a.engine) - ENGINE_NAMES.indexOf(b.engine));
      throw new EnginesError(failures);
    }
    return c.endpoints;
  });
}

async function portConflict(engine: Engine, c: Config): Promise<{ port: number; owner: string } | undefined> {
  for (const port of engine.ports(c)) {
    if (await tcpOpen(port)) return { port, owner: portOwner(port) };
  }
  return undefined;
}

async function stopEngine(engine: Engine, log: Log): Promise<boolean> {
  const pid = ourPid(engine);
  if (pid === undefined) {
    rmSync(pidFile(engine.name), { force: true });
    log(`${engine.name}: not running (nothing of ours to stop)`);
    return false;
  }
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // Already gone.
    }
  };
  // The whole group: RabbitMQ's pid is its wrapper shell, which forwards TERM to the Erlang VM.
  signalGroup('SIGTERM');
  const deadline = Date.now() + engine.stopTimeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(200);
  if (isAlive(pid)) {
    log(`${engine.name}: still running ${engine.stopTimeoutMs / 1000} s after SIGTERM, sending SIGKILL`);
    signalGroup('SIGKILL');
    await sleep(200);
  }
  signalGroup('SIGKILL'); // stragglers of the group (erl_child_setup, inet_gethost), if any
  rmSync(pidFile(engine.name), { force: true });
  log(`${engine.name}: stopped (pid ${pid})`);
  return true;
}

/** The Erlang port mapper our RabbitMQ node spawned outlives it; stop it when no node uses it any more. */
function stopIdleEpmd(): void {
  const epmd = findBinary('epmd');
  if (!epmd) return;
  const names = spawnSync(epmd, ['-names'], { encoding: 'utf8', timeout: 3000 });
  if (names.status === 0 && !/^name /m.test(names.stdout)) {
    spawnSync(epmd, ['-kill'], { timeout: 3000 });
  }
}

/** Stops the daemons we started (by pid file), in parallel; engines we did not start are left alone. */
export async function stopEngines(
  names: readonly EngineName[] = ENGINE_NAMES,
  opts: { log?: Log } = {},
): Promise<EngineName[]> {
  const log = opts.log ?? defaultLog;
  return withLock(log, async () => {
    const results = await Promise.all(names.map((name) => stopEngine(ENGINES[name], log)));
    const stopped = names.filter((_, i) => results[i]);
    if (stopped.includes('rabbitmq')) stopIdleEpmd();
    return stopped;
  });
}

/** What runs where, without starting or stopping anything. */
export async function engineStatus(names: readonly EngineName[] = ENGINE_NAMES): Promise<EngineStatus[]> {
  const c = config();
  return Promise.all(
    names.map(async (name): Promise<EngineStatus> => {
      const engine = ENGINES[name];
      const probe = await settle(engine.check(c));
      const pid = c.external[name] ? undefined : ourPid(engine);
      const state: EngineState = probe.ok ? (pid ? 'up' : 'external') : pid ? 'unhealthy' : 'down';
      return {
        engine: name,
        endpoint: engine.endpoint(c),
        state,
        pid,
        detail: probe.ok ? probe.value : probe.error,
        logFile: display(logFile(name)),
      };
    }),
  );
}

// ---------------------------------------------------------------------------------------------------------
// One `up`/`down` at a time (a terminal and a test run may race)
// ---------------------------------------------------------------------------------------------------------

async function withLock<T>(log: Log, fn: () => Promise<T>): Promise<T> {
  mkdirSync(ENGINES_DIR, { recursive: true });
  const lock = join(ENGINES_DIR, 'engines.lock');
  const deadline = Date.now() + 600_000;
  let announced = false;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(lock, 'utf8').trim());
      if (!Number.isInteger(holder) || !isAlive(holder)) {
        rmSync(lock, { force: true }); // left by a process that died
        continue;
      }
      if (Date.now() > deadline)
        throw new Error(`another engines command (pid ${holder}) holds ${display(lock)}`);
      if (!announced) log(`waiting for another engines command to finish (pid ${holder})`);
      announced = true;
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Restarts (fault injection: `npm run chaos`, `npm run engines -- restart`)
// ---------------------------------------------------------------------------------------------------------

export interface RestartOptions {
  log?: Log;
  /** How long the engine stays down between stop and start. @default 5000 */
  downMs?: number;
  /**
   * Redis only: keep the data across the restart (default), as a managed node's reboot or a failover
   * to a replica would. Our Redis runs without persistence (`save ""`), so a plain stop loses every
   * key; keeping it means `SHUTDOWN SAVE`, loading the dump on start, then removing the dump so that
   * a later `up` starts empty as before. False: a plain stop, every key lost.
   */
  keepData?: boolean;
  startTimeoutMs?: number;
}

export interface RestartReport {
  engine: EngineName;
  /** Epoch milliseconds. */
  stoppedAt: number;
  startedAt: number;
  /** Seconds from the start command to a healthy engine. */
  startSeconds: number;
  keptData: boolean;
}

const redisDump = () => join(stateDir('redis'), 'data', 'dump.rdb');

/** Asks our Redis to save its data and exit; resolves when the daemon is gone (or the wait is over). */
async function redisShutdownSave(c: Config, pid: number, log: Log): Promise<void> {
  const target = new URL(c.endpoints.redisUrl);
  const user = decodeURIComponent(target.username);
  const password = decodeURIComponent(target.password);
  const request =
    (password ? (user ? resp('AUTH', user, password) : resp('AUTH', password)) : '') +
    resp('SHUTDOWN', 'SAVE');
  await new Promise<void>((resolve) => {
    const socket = netConnect({ host: target.hostname, port: Number(target.port || 6379) });
    // The server closes the connection when it exits: that (or an error) is the answer.
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, 10_000);
    socket.once('connect', () => socket.write(request));
    socket.once('close', done);
    socket.once('error', done);
  });
  const deadline = Date.now() + redis.stopTimeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) log('redis: still running after SHUTDOWN SAVE; stopping it with a signal');
}

/**
 * Stops one engine of ours, waits `downMs`, and starts it again (through `stopEngines` and
 * `ensureEngines`, so the pid file, the lock and the health check are the usual ones). Throws when
 * the engine is not ours to restart (not running, or an endpoint of the user's) or does not come
 * back healthy.
 */
export async function restartEngine(name: EngineName, opts: RestartOptions = {}): Promise<RestartReport> {
  const log = opts.log ?? defaultLog;
  const c = config();
  const engine = ENGINES[name];
  if (c.external[name]) throw new Error(`${name}: ${engine.endpoint(c)} is not ours to restart`);
  const pid = ourPid(engine);
  if (pid === undefined) throw new Error(`${name}: no daemon of ours is running (npm run engines -- up)`);
  const keptData = name === 'redis' && opts.keepData !== false;
  const stoppedAt = Date.now();
  if (keptData) {
    rmSync(redisDump(), { force: true });
    await redisShutdownSave(c, pid, log);
  }
  await stopEngines([name], { log });
  await sleep(opts.downMs ?? 5000);
  const startedAt = Date.now();
  await ensureEngines([name], { log, startTimeoutMs: opts.startTimeoutMs });
  // Loaded into memory: the dump must not resurrect these keys at a later `up`.
  if (keptData) rmSync(redisDump(), { force: true });
  return { engine: name, stoppedAt, startedAt, startSeconds: (Date.now() - startedAt) / 1000, keptData };
}

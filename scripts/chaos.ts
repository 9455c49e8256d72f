/**
 * `npm run chaos`: a steady order load through the local cloud's HTTP API while Redis, RabbitMQ and
 * Kafka are restarted one at a time and the local cloud itself is killed (SIGKILL) and started
 * again; then quiescence and a ledger check of every order from the durable stores. Prints lost /
 * stuck / duplicated / inconsistent counts with each anomaly, and exits 1 on any (2: the run could
 * not be set up). Restarts shared engines: run it under the engines lock.
 *
 *   flock /tmp/platform-engines.lock npm run chaos -- --orders 60 --rate 4
 *   npm run chaos -- --orders 1000 --rate 2 --seed 1 --json
 *
 * See docs/chaos.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CloudProcess } from './chaos/cloud.js';
import { FAULT_KINDS, type FaultKind, faultSchedule, runFaults } from './chaos/faults.js';
import { checkLedger, FINAL_STATUSES, type LedgerInput, type StoredEvent, statusOf } from './chaos/ledger.js';
import { runLoad } from './chaos/load.js';
import { planOrders, planSkus, runPrefix } from './chaos/plan.js';
import { seededRandom } from './chaos/random.js';
import { type ChaosFigures, figuresOf, formatText } from './chaos/report.js';
import { emailSendsFromLog, resourcesOf, Stores } from './chaos/stores.js';
import { engineStatus, ensureEngines, restartEngine } from './lib/engines.js';
import { ROOT } from './lib/python.js';
import { JwtIssuer } from './local-cloud/auth/jwt-issuer.js';

const USAGE = `usage: npm run chaos -- [options]   (restarts engines: run under flock /tmp/platform-engines.lock)

  --orders N              orders to place (default 1000)
  --rate R                orders started per second (default 2)
  --seed S                seed of the order mix and the backoff jitter (default 1)
  --faults LIST           comma-separated, in order: redis,rabbitmq,kafka,cloud (default all), or none
  --down-seconds S        how long a restarted engine stays down (default 5)
  --redis-lose-data       restart Redis without its data (default: it keeps it, as a failover would)
  --quiescence-minutes M  wait at most this long after the load (default 15)
  --give-up-minutes M     the client's patience per request (default 15)
  --customers N           customers the orders are spread over (default 10)
  --port P                port of the local cloud's API (default 3100)
  --out DIR               the synthesized assembly (default cdk.out.chaos)
  --no-synth              run the assembly that is in --out
  --json                  print one JSON object of figures on stdout
`;

const { values } = parseArgs({
  options: {
    orders: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '2' },
    seed: { type: 'string', default: '1' },
    faults: { type: 'string', default: FAULT_KINDS.join(',') },
    'down-seconds': { type: 'string', default: '5' },
    'redis-lose-data': { type: 'boolean', default: false },
    'quiescence-minutes': { type: 'string', default: '15' },
    'give-up-minutes': { type: 'string', default: '15' },
    customers: { type: 'string', default: '10' },
    port: { type: 'string', default: '3100' },
    out: { type: 'string', default: 'cdk.out.chaos' },
    'no-synth': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

function positive(name: string, raw: string, integer = true): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    process.stderr.write(`chaos: --${name} must be a positive ${integer ? 'integer' : 'number'}\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

const orderCount = positive('orders', values.orders);
const rate = positive('rate', values.rate, false);
const seed = positive('seed', values.seed);
const downMs = positive('down-seconds', values['down-seconds'], false) * 1000;
const quiescenceMs = positive('quiescence-minutes', values['quiescence-minutes'], false) * 60_000;
const giveUpMs = positive('give-up-minutes', values['give-up-minutes'], false) * 60_000;
const customerCount = Math.min(positive('customers', values.customers), orderCount);
const port = positive('port', values.port);
const faultKinds: FaultKind[] =
  values.faults === 'none'
    ? []
    : values.faults.split(',').map((k) => {
        if (!(FAULT_KINDS as readonly string[]).includes(k)) {
          process.stderr.write(`chaos: unknown fault ${k}\n${USAGE}`);
          process.exit(2);
        }
        return k as FaultKind;
      });

const say = (line: string) => process.stderr.write(`[chaos] ${line}\n`);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

class SetupError extends Error {}

const runId = `${Date.now().toString(36)}s${seed}`;
const prefix = runPrefix(runId);
const runDir = join(ROOT, '.local-cloud', 'chaos', runId);
const logFile = join(runDir, 'cloud.log');
const assemblyDir = join(ROOT, values.out);
const token = new JwtIssuer().issue({ sub: `chaos-${runId}` }, 24 * 3600);
const cloud = new CloudProcess({
  assemblyDir,
  port,
  logFile,
  probe: { path: '/orders/chaos-probe', token },
});

/** One request, retried (same body) on no answer and 5xx: for the set-up, before any fault. */
async function call(method: string, path: string, body: unknown, correlationId: string) {
  for (let attempt = 1; attempt <= 8; attempt++) {
    try {
      const response = await fetch(`${cloud.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'x-correlation-id': correlationId,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await response.text();
      if (response.status < 500) return { status: response.status, body: text ? JSON.parse(text) : {} };
    } catch {
      // retried below
    }
    await sleep(500 * attempt);
  }
  throw new SetupError(`${method} ${path}: no answer below 500 after 8 attempts`);
}

async function setUp(skus: ReturnType<typeof planSkus>): Promise<string[]> {
  for (const sku of skus) {
    const r = await call('PUT', `/inventory/${sku.sku}`, { available: sku.initial }, `${prefix}stock`);
    if (r.status !== 200)
      throw new SetupError(`PUT /inventory/${sku.sku}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  const customers: string[] = [];
  for (let i = 0; i < customerCount; i++) {
    const r = await call(
      'POST',
      '/customers',
      { email: `chaos-${runId}-${i}@example.com`, name: `Chaos ${i}` },
      `${prefix}customer-${i}`,
    );
    if (r.status !== 201 || typeof r.body.customerId !== 'string') {
      throw new SetupError(`POST /customers: ${r.status} ${JSON.stringify(r.body)}`);
    }
    customers.push(r.body.customerId);
  }
  // E-mails go to the address in the customers read model: it must be there before the orders.
  const deadline = Date.now() + 60_000;
  for (const id of customers) {
    while ((await call('GET', `/customers/${id}`, undefined, `${prefix}setup`)).status !== 200) {
      if (Date.now() > deadline) throw new SetupError(`customer ${id} never appeared in the read model`);
      await sleep(300);
    }
  }
  return customers;
}

interface Snapshot {
  busy: { queue: string; messages: number }[];
  /** Null: not looked at (a queue is still busy, and the table scans would only slow it down). */
  notFinal: number | null;
  viewsBehind: number | null;
}

/**
 * Where the run stands: the queues first (cheap); only when they are all empty, the event store and
 * the read model (full scans, which moto serves one at a time among the platform's own requests).
 */
async function snapshot(stores: Stores, customers: string[]): Promise<Snapshot> {
  const queues = (await stores.queueDepths()).filter((q) => q.consumed && q.messages > 0);
  const email = await stores.emailQueue(new Set());
  const rabbit = await stores.rabbitBacklog().catch(() => []);
  const busy = [
    ...queues.map((q) => ({ queue: `sqs ${q.label}`, messages: q.messages })),
    ...(email.busy > 0 ? [{ queue: 'redis notifications:emails', messages: email.busy }] : []),
    ...rabbit,
  ];
  if (busy.length > 0) return { busy, notFinal: null, viewsBehind: null };
  const events = await stores.events(prefix, customers);
  const streams = new Map<string, StoredEvent[]>();
  for (const e of events) streams.set(e.aggregateId, [...(streams.get(e.aggregateId) ?? []), e]);
  const orderIds = new Set(
    [...streams].filter(([, s]) => s.some((e) => e.type === 'OrderPlaced')).map(([id]) => id),
  );
  let notFinal = 0;
  const lastVersion = new Map<string, number>();
  for (const id of orderIds) {
    const stream = (streams.get(id) ?? []).sort((a, b) => a.version - b.version);
    if (!FINAL_STATUSES.has(statusOf(stream))) notFinal++;
    lastVersion.set(id, stream.at(-1)?.version ?? 0);
  }
  const views = await stores.views(orderIds);
  const viewsBehind = orderIds.size - views.filter((v) => v.version === lastVersion.get(v.orderId)).length;
  return { busy, notFinal, viewsBehind };
}

async function main(): Promise<number> {
  mkdirSync(runDir, { recursive: true });
  const engines = await ensureEngines();
  if (faultKinds.some((k) => k !== 'cloud')) {
    const status = await engineStatus(
      faultKinds.filter((k): k is Exclude<FaultKind, 'cloud'> => k !== 'cloud'),
    );
    const notOurs = status.filter((s) => s.state !== 'up');
    if (notOurs.length > 0) {
      throw new SetupError(
        `cannot restart ${notOurs.map((s) => `${s.engine} (${s.state})`).join(', ')}: only engines started by npm run engines are restarted`,
      );
    }
  }
  if (!values['no-synth']) {
    say(`synthesizing the app into ${values.out}`);
    const synth = spawnSync(
      join(ROOT, 'node_modules/.bin/cdk'),
      ['synth', '--quiet', '-c', 'stage=dev', '-o', assemblyDir],
      {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    if (synth.status !== 0) throw new SetupError('cdk synth failed');
  }
  const stores = new Stores(resourcesOf(assemblyDir), engines);
  say(`run ${runId}: starting the local cloud on ${cloud.url} (log ${logFile})`);
  const bootSeconds = await cloud.start();
  say(`local cloud serving after ${bootSeconds.toFixed(1)} s`);

  const skus = planSkus(runId, orderCount);
  const customers = await setUp(skus);
  const random = seededRandom(seed);
  const plans = planOrders({ runId, orders: orderCount, skus, customers, random });
  const deadLetterBaseline = new Map((await stores.queueDepths()).map((q) => [q.label, q.messages]));

  const loadSeconds = orderCount / rate;
  const schedule = faultSchedule(loadSeconds, faultKinds);
  say(
    `load: ${orderCount} orders at ${rate}/s (~${Math.round(loadSeconds)} s); faults ${schedule.map((f) => `${f.kind}@${f.atSeconds}s`).join(', ') || 'none'}`,
  );
  const loadStarted = Date.now();
  const inject = async (kind: FaultKind) => {
    if (kind === 'cloud') {
      await cloud.kill();
      await sleep(1000);
      await cloud.start();
      return;
    }
    await restartEngine(kind, {
      downMs,
      keepData: !values['redis-lose-data'],
      log: (line) => say(`  ${line}`),
    });
  };
  const [load, faults] = await Promise.all([
    runLoad({
      baseUrl: cloud.url,
      token,
      plans,
      rate,
      random: seededRandom(seed + 1),
      giveUpAfterMs: giveUpMs,
      onProgress: say,
    }),
    runFaults(schedule, inject, loadStarted, say),
  ]);
  const loadEnded = Date.now();
  say(
    `load done in ${load.seconds.toFixed(1)} s: ${load.orders.filter((o) => o.acknowledged).length} acknowledged`,
  );

  // Quiescence: every consumed queue empty, every order final and its read model caught up.
  let quiescedAfter: number | null = null;
  let last: Snapshot | undefined;
  while (Date.now() - loadEnded < quiescenceMs) {
    last = await snapshot(stores, customers);
    if (last.busy.length === 0 && last.notFinal === 0 && last.viewsBehind === 0) {
      quiescedAfter = (Date.now() - loadEnded) / 1000;
      break;
    }
    say(
      last.notFinal === null
        ? `quiescence: busy ${last.busy.map((b) => `${b.queue}=${b.messages}`).join(', ')}`
        : `quiescence: queues empty; ${last.notFinal} order(s) not final, ${last.viewsBehind} read model(s) behind`,
    );
    await sleep(10_000);
  }
  say(
    quiescedAfter === null
      ? 'quiescence NOT reached: checking the ledger as it is'
      : `quiescent ${quiescedAfter.toFixed(1)} s after the load`,
  );
  // A moment for the last e-mail markers and log lines after the queues emptied.
  await sleep(3000);

  const events = await stores.events(prefix, customers);
  const orderIds = new Set(events.filter((e) => e.type === 'OrderPlaced').map((e) => e.aggregateId));
  const subjects = new Set([...orderIds, ...customers]);
  const inventory = await stores.inventory(
    skus.map((s) => s.sku),
    orderIds,
  );
  const email = await stores.emailQueue(subjects);
  const deadLetters: { source: string; detail: string }[] = email.deadLetters.map((d) => ({
    source: 'redis notifications:emails dead letters',
    detail: d,
  }));
  // Dead letters of the run: the DLQs are shared (other runs and tests leave theirs), so each new
  // message is read and counted only when its body names the run (its key prefix or an order id).
  let foreignDeadLetters = 0;
  for (const q of await stores.queueDepths()) {
    const added = q.messages - (deadLetterBaseline.get(q.label) ?? 0);
    if (!q.deadLetter || added <= 0) continue;
    const messages = await stores.deadLetterMessages(q.label).catch(() => []);
    const ours = messages.filter(
      (m) => m.body.includes(prefix) || [...orderIds].some((id) => m.body.includes(id)),
    );
    foreignDeadLetters += Math.max(0, added - ours.length);
    if (ours.length === 0) continue;
    const reasons = new Map<string, number>();
    for (const m of ours) reasons.set(m.reason.slice(0, 200), (reasons.get(m.reason.slice(0, 200)) ?? 0) + 1);
    deadLetters.push({
      source: `sqs ${q.label}`,
      detail: `${ours.length} message(s) of the run: ${[...reasons].map(([r, n]) => `${n} × ${r}`).join('; ')}`,
    });
  }
  const emailSends = emailSendsFromLog(logFile);
  const input: LedgerInput = {
    orders: load.orders,
    customers,
    events,
    views: await stores.views(orderIds),
    stock: skus.map((s) => ({
      sku: s.sku,
      initial: s.initial,
      ...(inventory.available.has(s.sku) ? { available: inventory.available.get(s.sku) } : {}),
    })),
    reservations: inventory.reservations,
    emailMarkers: await stores.emailMarkers(subjects),
    emailSends,
    deadLetters,
    backlog: quiescedAfter === null ? (last?.busy ?? []) : [],
  };
  const ledger = checkLedger(input);
  const retriesTotal = Object.values(load.retries).reduce((a, b) => a + b, 0);
  const figures: ChaosFigures = figuresOf(
    {
      runId,
      seed,
      rate,
      orders: orderCount,
      acknowledged: load.orders.filter((o) => o.acknowledged).length,
      refused: load.orders.filter((o) => o.refused).length,
      unanswered: load.orders.filter((o) => !o.acknowledged && !o.refused).length,
      requests: load.requests,
      retries: { total: retriesTotal, byOutcome: load.retries },
      cancelsRequested: plans.filter((p) => p.cancel).length,
      faults,
      loadSeconds: load.seconds,
      secondsToQuiescence: quiescedAfter,
      emailProviderRecords: emailSends.length,
      foreignDeadLetters,
      logFile,
    },
    ledger,
  );
  await cloud.stop();
  process.stdout.write(values.json ? `${JSON.stringify(figures, null, 2)}\n` : `${formatText(figures)}\n`);
  return figures.lost + figures.stuck + figures.duplicated + figures.inconsistent > 0 ? 1 : 0;
}

const onSignal = (signal: NodeJS.Signals) => {
  say(`${signal}: stopping the local cloud`);
  void cloud.kill().finally(() => process.exit(130));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (error: unknown) => {
    say(
      error instanceof Error
        ? error instanceof SetupError
          ? error.message
          : (error.stack ?? error.message)
        : String(error),
    );
    await cloud.kill();
    process.exitCode = 2;
  },
);

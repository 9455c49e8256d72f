import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { PlatformFunction } from '../../lib/constructs/platform-function.js';
import { QueueWithDlq } from '../../lib/constructs/queue-with-dlq.js';
import { ensureEngines } from '../lib/engines.js';
import { LocalCloud } from '../local-cloud/runtime.js';
import { percentile, round } from './stats.js';
import type { BenchSuite, Figures } from './types.js';

/** moto's SQS does O(queue depth) work per call, so the backlog is kept modest. */
const MESSAGES = 300;

/** Seconds from spawning `npm start` (no synth, engines up) to the first HTTP answer of the app. */
async function timeStart(repoRoot: string, assemblyDir: string): Promise<number> {
  const port = 30_000 + Math.floor(Math.random() * 10_000);
  const t0 = performance.now();
  const child = spawn(
    'npx',
    ['tsx', 'scripts/start.ts', '--no-synth', '--out', assemblyDir, '--port', String(port)],
    {
      cwd: repoRoot,
      stdio: 'ignore',
      detached: true,
    },
  );
  try {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const answered = await fetch(`http://127.0.0.1:${port}/ping`)
        .then((r) => r.status > 0)
        .catch(() => false);
      if (answered) return (performance.now() - t0) / 1000;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('npm start did not answer within 60 s');
  } finally {
    if (child.pid) process.kill(-child.pid, 'SIGINT');
  }
}
/** Latency is measured apart from throughput, at a steady trickle, so that it is not queueing time. */
const LATENCY_SAMPLES = 100;

function buildApp(outdir: string, repoRoot: string): void {
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new Stack(app, `Bench-Local-${Date.now().toString(36)}`, {
    env: { account: '123456789012', region: 'us-east-1' },
  });
  const queue = new QueueWithDlq(stack, 'Work', { consumerTimeout: Duration.seconds(10) });
  const fn = new PlatformFunction(stack, 'Noop', {
    entry: join(repoRoot, 'bench/local-cloud/sqs-noop.ts'),
    serviceName: 'bench',
    timeout: Duration.seconds(10),
  });
  queue.addConsumer(fn.function, { batchSize: 10, maxConcurrency: 2 });
  // One open route, so that the start-up figure can wait for a first answered request.
  const api = new apigw.RestApi(stack, 'Api', { deployOptions: { stageName: 'bench' } });
  api.root.addResource('ping').addMethod('GET', new apigw.LambdaIntegration(fn.function));
  app.synth();
}

async function sendAll(sqs: SQSClient, queueUrl: string, count: number, body: () => string): Promise<void> {
  const batches: Promise<unknown>[] = [];
  for (let i = 0; i < count; i += 10) {
    const entries = Array.from({ length: Math.min(10, count - i) }, (_, n) => ({
      Id: String(n),
      MessageBody: body(),
    }));
    batches.push(sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries })));
    if (batches.length >= 8) await Promise.all(batches.splice(0));
  }
  await Promise.all(batches);
}

/**
 * The same receive-delete work without Lambda in the loop, with as many pollers as the mapping:
 * the emulator's own ceiling.
 */
async function rawConsume(sqs: SQSClient, queueUrl: string, count: number, pollers: number): Promise<void> {
  let seen = 0;
  const poll = async () => {
    while (seen < count) {
      const r = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      const messages = r.Messages ?? [];
      if (messages.length === 0) continue;
      seen += messages.length;
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((m, n) => ({ Id: String(n), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: pollers }, poll));
}

/**
 * `local.*`: the local cloud running a synthesized queue-to-function app on moto. Events per second
 * through an SQS mapping (batch 10, no-op handler) against a bare receive-delete loop on the same
 * queue service in the same run; send-to-handler delay; cold and warm invoke of a sandbox.
 */
export const localCloudSuite: BenchSuite = {
  name: 'local',
  description: 'local cloud: SQS mapping throughput and latency, sandbox invoke times',
  async run(ctx) {
    ctx.log('local: engines (moto)');
    const engines = await ensureEngines(['moto'], { log: (l) => ctx.log(`local: ${l}`) });
    const outdir = mkdtempSync(join(tmpdir(), 'bench-local-'));
    ctx.log('local: synthesizing the benchmark app');
    buildApp(outdir, ctx.repoRoot);
    const delays: number[] = [];
    const cloud = await LocalCloud.start({
      assemblyDir: outdir,
      port: 0,
      target: { endpoint: engines.awsEndpointUrl, region: 'us-east-1', accountId: '123456789012' },
      log: () => undefined,
      functionLog: (_fn, line) => {
        const m = /DELAY (\d+)/.exec(line);
        if (m) delays.push(Number(m[1]));
      },
    });
    try {
      const queue = cloud.resources
        .ofType('AWS::SQS::Queue')
        .find((q) => q.logicalId.startsWith('WorkQueue'));
      if (!queue) throw new Error('benchmark queue not provisioned');
      const fn = cloud.fn('Noop');

      ctx.log('local: cold and warm invoke');
      const colds: number[] = [];
      for (let i = 0; i < 5; i++) {
        await fn.reload();
        const t = performance.now();
        await fn.invoke({ Records: [] });
        colds.push(performance.now() - t);
      }
      const warms: number[] = [];
      for (let i = 0; i < 200; i++) {
        const t = performance.now();
        await fn.invoke({ Records: [] });
        warms.push(performance.now() - t);
      }

      ctx.log(`local: ${MESSAGES} messages through the SQS mapping`);
      await sendAll(cloud.clients.sqs, queue.ref, 20, () => String(Date.now())); // warm the pollers
      const warmupDeadline = Date.now() + 30_000;
      while (delays.length < 20 && Date.now() < warmupDeadline) await new Promise((r) => setTimeout(r, 50));
      delays.length = 0;
      const t0 = performance.now();
      await sendAll(cloud.clients.sqs, queue.ref, MESSAGES, () => String(Date.now()));
      const deadline = Date.now() + 180_000;
      while (delays.length < MESSAGES && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      if (delays.length < MESSAGES)
        throw new Error(`only ${delays.length}/${MESSAGES} messages reached the handler`);
      const mappingRate = MESSAGES / ((performance.now() - t0) / 1000);

      ctx.log(`local: send-to-handler delay, ${LATENCY_SAMPLES} messages at 20/s`);
      delays.length = 0;
      for (let i = 0; i < LATENCY_SAMPLES; i++) {
        await cloud.clients.sqs.send(
          new SendMessageCommand({ QueueUrl: queue.ref, MessageBody: String(Date.now()) }),
        );
        await new Promise((r) => setTimeout(r, 50));
      }
      const latencyDeadline = Date.now() + 60_000;
      while (delays.length < LATENCY_SAMPLES && Date.now() < latencyDeadline)
        await new Promise((r) => setTimeout(r, 20));
      await Promise.all(cloud.eventSources.map((s) => s.stop()));

      ctx.log('local: baseline, a bare receive-delete loop on a queue like it');
      // A fresh queue: the stopped pollers' last long polls may still hold messages on the first one.
      const baselineUrl = (
        await cloud.clients.sqs.send(
          new CreateQueueCommand({
            QueueName: `${String(queue.attrs.QueueName).slice(0, 60)}-baseline`,
            Attributes: { VisibilityTimeout: '60' },
          }),
        )
      ).QueueUrl as string;
      const t1 = performance.now();
      await Promise.all([
        sendAll(cloud.clients.sqs, baselineUrl, MESSAGES, () => String(Date.now())),
        rawConsume(cloud.clients.sqs, baselineUrl, MESSAGES, 2),
      ]);
      const rawRate = MESSAGES / ((performance.now() - t1) / 1000);

      await cloud.stop();
      ctx.log('local: `npm start --no-synth` to the first answered request');
      const startSeconds = await timeStart(ctx.repoRoot, outdir);

      const figures: Figures = {
        startSeconds: { value: round(startSeconds, 2), unit: 's' },
        'sqs.eventsPerSec': { value: round(mappingRate, 1), unit: 'events/s', baseline: round(rawRate, 1) },
        'sqs.sendToHandlerP50Ms': { value: round(percentile(delays, 50), 1), unit: 'ms' },
        'sqs.sendToHandlerP95Ms': { value: round(percentile(delays, 95), 1), unit: 'ms' },
        'invoke.coldMs': { value: round(percentile(colds, 50), 2), unit: 'ms' },
        'invoke.warmMs': { value: round(percentile(warms, 50), 3), unit: 'ms' },
      };
      return figures;
    } finally {
      await cloud.stop();
      rmSync(outdir, { recursive: true, force: true });
    }
  },
};

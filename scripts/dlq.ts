/**
 * Looks into a fulfilment service's dead-letter queue and moves its messages back.
 *
 *   npm run dlq -- list inventory                       # the local cloud of `npm start`
 *   npm run dlq -- list payment --max 20 --json
 *   npm run dlq -- redrive payment [--manual]
 *   npx cdk deploy --all -c stage=prod --outputs-file outputs.json
 *   npm run dlq -- redrive shipping --outputs-file outputs.json --stage prod
 *   npm run dlq -- list --dlq-url <url>                 # any queue, no outputs file needed
 *   npm run dlq -- redrive --dlq-url <url> --source-url <url>
 *
 * A service name (inventory, payment, shipping, notification, analytics) is resolved through the
 * Fulfilment stack's outputs `<service>DeadLetterQueueUrl` and `<service>QueueUrl`. `list` leaves
 * every message in the DLQ; `redrive` moves them all back to the source queue, never losing one
 * (see scripts/lib/dlq.ts). Credentials and region come from the usual AWS SDK configuration.
 */
import { parseArgs } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import { type DeadLetter, listDeadLetters, redrive } from './lib/dlq.js';
import { readStackOutputs, type StackOutputs, useEndpointFor } from './lib/stack-outputs.js';
import { LOCAL_OUTPUTS_FILE } from './local-cloud/runtime.js';

const USAGE = `usage: npm run dlq -- <list|redrive> <service> [options]
       npm run dlq -- <list|redrive> --dlq-url <url> [--source-url <url>] [options]

options:
  --outputs-file F   stack outputs (default ${LOCAL_OUTPUTS_FILE}, written by \`npm start\`)
  --stage S          stage of the Platform-<Stage>-Fulfilment stack (default dev)
  --max N            list: at most N messages (default 100); redrive: move at most N
  --manual           redrive: move message by message, without SQS's message move task
  --json             print JSON (full bodies) instead of text
`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'outputs-file': { type: 'string', default: LOCAL_OUTPUTS_FILE },
    stage: { type: 'string', default: 'dev' },
    max: { type: 'string' },
    json: { type: 'boolean', default: false },
    manual: { type: 'boolean', default: false },
    'dlq-url': { type: 'string' },
    'source-url': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

function fail(message: string): never {
  process.stderr.write(`dlq: ${message}\n`);
  process.exit(2);
}

if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const [command, queue, ...extra] = positionals;
if (command !== 'list' && command !== 'redrive') fail(`the command is list or redrive\n${USAGE}`);
if (extra.length > 0) fail(`unexpected arguments: ${extra.join(' ')}`);
const max = values.max === undefined ? undefined : Number(values.max);
if (max !== undefined && (!Number.isInteger(max) || max < 1)) fail('--max is a positive integer');

let dlqUrl: string;
let sourceUrl: string | undefined;
if (values['dlq-url']) {
  dlqUrl = values['dlq-url'];
  sourceUrl = values['source-url'];
  // A queue URL on this machine is the local emulator's.
  if (/^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//.test(dlqUrl)) {
    process.env.AWS_ENDPOINT_URL ??= new URL(dlqUrl).origin;
  }
} else {
  if (!queue) fail(`name a service, or give --dlq-url\n${USAGE}`);
  if (values['source-url']) fail('--source-url goes with --dlq-url');
  const file = values['outputs-file'];
  let fulfilment: StackOutputs;
  try {
    fulfilment = readStackOutputs(file, values.stage, 'Fulfilment');
  } catch (error) {
    fail((error as Error).message);
  }
  const { outputs, stackName } = fulfilment;
  const services = Object.keys(outputs)
    .filter((key) => key.endsWith('DeadLetterQueueUrl'))
    .map((key) => key.slice(0, -'DeadLetterQueueUrl'.length));
  const found = outputs[`${queue}DeadLetterQueueUrl`];
  if (!found) fail(`${stackName} has no DLQ for "${queue}" (services: ${services.join(', ') || 'none'})`);
  dlqUrl = found;
  sourceUrl = outputs[`${queue}QueueUrl`];
  if (!sourceUrl && command === 'redrive') fail(`${file} has no output ${stackName}.${queue}QueueUrl`);
  useEndpointFor(file);
}
if (command === 'redrive' && !sourceUrl) fail('redrive needs --source-url with --dlq-url');
if (process.env.AWS_ENDPOINT_URL) {
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
}

const sqs = new SQSClient({});
const label = queue ? `the ${queue} DLQ` : dlqUrl;
const BODY_PREVIEW = 200;

function printMessage(message: DeadLetter, index: number): void {
  const oneLine = message.body.replace(/\s+/g, ' ');
  const body =
    oneLine.length > BODY_PREVIEW ? `${oneLine.slice(0, BODY_PREVIEW)}… (${oneLine.length} chars)` : oneLine;
  process.stdout.write(
    `${index + 1}. ${message.messageId}  received ${message.receiveCount ?? '?'}×  sent ${message.sentAt ?? '?'}\n` +
      (message.reason === undefined ? '' : `   reason: ${message.reason}\n`) +
      `   body:   ${body}\n`,
  );
}

try {
  if (command === 'list') {
    const result = await listDeadLetters(sqs, dlqUrl, { max: max ?? 100 });
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ service: queue ?? null, dlqUrl, ...result }, null, 2)}\n`);
    } else {
      result.messages.forEach(printMessage);
      process.stdout.write(
        `${result.count} message(s) in ${label}` +
          (result.truncated
            ? ` (--max ${max ?? 100} reached; about ${result.approximateTotal ?? '?'} in all)`
            : '') +
          ', left in place\n',
      );
    }
    if (result.notReleased > 0) {
      process.stderr.write(
        `dlq: ${result.notReleased} message(s) could not be made visible again; they reappear within 30 s\n`,
      );
    }
  } else {
    let lastReport = performance.now();
    const result = await redrive(
      sqs,
      { dlqUrl, sourceUrl: sourceUrl as string },
      {
        manual: values.manual,
        ...(max === undefined ? {} : { max }),
        onProgress: (moved) => {
          if (performance.now() - lastReport < 2000) return;
          lastReport = performance.now();
          process.stderr.write(`… ${moved} moved\n`);
        },
      },
    );
    if (result.fallbackReason) process.stderr.write(`dlq: ${result.fallbackReason}; moving one by one\n`);
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ service: queue ?? null, dlqUrl, sourceUrl, ...result }, null, 2)}\n`,
      );
    } else {
      process.stdout.write(
        `moved ${result.moved} message(s) from ${label} to ${sourceUrl} ` +
          `(${result.mode === 'move-task' ? 'SQS message move task' : 'one by one'}); ` +
          `about ${result.remaining ?? '?'} left in the DLQ\n`,
      );
    }
  }
} catch (error) {
  process.stderr.write(`dlq: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

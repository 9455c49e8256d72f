import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type FunctionSpec,
  type InvokeResult,
  LocalFunction,
  type LocalFunctionOptions,
} from '../../../scripts/local-cloud/lambda/local-function.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/lambda/', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TRACE_HEADER = /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/;

const started: LocalFunction[] = [];

/** A function over a fixture asset, with its log lines collected. */
function localFunction(
  name: string,
  fixture: string,
  spec: Partial<FunctionSpec> = {},
  options: LocalFunctionOptions = {},
): { fn: LocalFunction; lines: string[] } {
  const lines: string[] = [];
  const fn = new LocalFunction(
    {
      name,
      assetDir: join(FIXTURES, fixture),
      handler: 'index.handler',
      timeoutSeconds: 3,
      memoryMb: 128,
      environment: {},
      ...spec,
    },
    { log: (_fn, line) => lines.push(line), ...options },
  );
  started.push(fn);
  return { fn, lines };
}

type Ok = Extract<InvokeResult, { ok: true }>;
type Failed = Extract<InvokeResult, { ok: false }>;

function succeeded(result: InvokeResult): Ok {
  if (!result.ok)
    throw new Error(`expected success, got ${result.kind} ${result.errorType}: ${result.errorMessage}`);
  return result;
}

function failed(result: InvokeResult): Failed {
  if (result.ok) throw new Error(`expected failure, got ${JSON.stringify(result.result)}`);
  return result;
}

/** Log lines written by the handler during one invocation (between START and END). */
function invocationLines(lines: readonly string[], requestId: string): string[] {
  const start = lines.indexOf(`START RequestId: ${requestId} Version: $LATEST`);
  const end = lines.indexOf(`END RequestId: ${requestId}`);
  return lines.slice(start + 1, end);
}

const timed = async <T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> => {
  const t0 = performance.now();
  const value = await work();
  return { value, ms: performance.now() - t0 };
};

afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(started.splice(0).map((fn) => fn.stop()));
});

describe('LocalFunction isolation', () => {
  it('gives each function its own process.env and each sandbox its own module state, reused while warm', async () => {
    // GIVEN two functions from the same asset with different environments
    const alpha = localFunction('alpha', 'echo', { environment: { GREETING: 'hello' } }).fn;
    const beta = localFunction('beta', 'echo', { environment: { GREETING: 'bonjour' } }).fn;

    // WHEN alpha is invoked twice and beta once (each handler writes process.env.MARK)
    const first = succeeded(await alpha.invoke({ n: 1 }));
    const second = succeeded(await alpha.invoke({ n: 2 }));
    const other = succeeded(await beta.invoke({ n: 3 }));

    // THEN alpha's sandbox is loaded once and reused: its counter goes on, its env write persists
    expect(first).toMatchObject({
      coldStart: true,
      result: { invocations: 1, greeting: 'hello', previousMark: null },
    });
    expect(second).toMatchObject({
      coldStart: false,
      result: { invocations: 2, event: { n: 2 }, previousMark: 'alpha' },
    });
    expect((second.result as { loadedAt: number }).loadedAt).toBe(
      (first.result as { loadedAt: number }).loadedAt,
    );
    // AND beta shares neither alpha's module state nor its environment, nor does the parent process
    expect(other).toMatchObject({
      coldStart: true,
      result: { invocations: 1, greeting: 'bonjour', previousMark: null },
    });
    expect(process.env.MARK).toBeUndefined();
    expect(first.initDurationMs).toBeGreaterThan(0);
    expect(second.initDurationMs).toBeUndefined();
  });

  it('runs overlapping invocations in separate sandboxes, each loading the module for itself', async () => {
    // GIVEN a function that may run two sandboxes
    const { fn } = localFunction('pair', 'echo', { reservedConcurrency: 2 });

    // WHEN two invocations overlap, then a third follows
    const [a, b] = await Promise.all([fn.invoke({ delayMs: 100 }), fn.invoke({ delayMs: 100 })]);
    const activeAfterOverlap = fn.activeSandboxes;
    const c = succeeded(await fn.invoke({}));

    // THEN both overlapping ones were cold starts in fresh sandboxes, and the third reused one warm
    expect(
      [succeeded(a), succeeded(b)].map((r) => [
        r.coldStart,
        (r.result as { invocations: number }).invocations,
      ]),
    ).toEqual([
      [true, 1],
      [true, 1],
    ]);
    expect(activeAfterOverlap).toBe(2);
    expect(c).toMatchObject({ coldStart: false, result: { invocations: 2 } });
  });

  it("sets Lambda's environment variables, with the parent's credentials and endpoints unless the function sets them", async () => {
    // GIVEN credentials and an endpoint override in the parent, and a function overriding one of them
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'parent-key');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'parent-secret');
    vi.stubEnv('AWS_ENDPOINT_URL_SQS', 'http://127.0.0.1:9324');
    vi.stubEnv('UNRELATED_PARENT_VARIABLE', 'leak');
    const { fn } = localFunction('env-fn', 'probe', {
      memoryMb: 256,
      region: 'eu-west-1',
      environment: {
        AWS_SECRET_ACCESS_KEY: 'function-secret',
        NODE_OPTIONS: '--enable-source-maps',
        TABLE: 'orders',
      },
    });
    const keys = [
      'AWS_LAMBDA_FUNCTION_NAME',
      'AWS_LAMBDA_FUNCTION_VERSION',
      'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
      'AWS_REGION',
      'AWS_DEFAULT_REGION',
      'AWS_LAMBDA_LOG_GROUP_NAME',
      'AWS_LAMBDA_LOG_STREAM_NAME',
      'AWS_EXECUTION_ENV',
      'LAMBDA_TASK_ROOT',
      '_HANDLER',
      'TZ',
      'NODE_OPTIONS',
      'TABLE',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_ENDPOINT_URL_SQS',
      'UNRELATED_PARENT_VARIABLE',
    ];

    // WHEN the handler reads its environment
    const env = succeeded(await fn.invoke({ action: 'env', keys })).result as Record<string, string | null>;

    // THEN it sees exactly what Lambda (and the local cloud) put there
    expect(env).toMatchObject({
      AWS_LAMBDA_FUNCTION_NAME: 'env-fn',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/env-fn',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      _HANDLER: 'index.handler',
      TZ: ':UTC',
      NODE_OPTIONS: '--enable-source-maps',
      TABLE: 'orders',
      AWS_ACCESS_KEY_ID: 'parent-key',
      AWS_SECRET_ACCESS_KEY: 'function-secret',
      AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:9324',
      UNRELATED_PARENT_VARIABLE: null,
    });
    expect(env.AWS_LAMBDA_LOG_STREAM_NAME).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    // AND the task root holds the function's code, outside the repository
    const taskRoot = env.LAMBDA_TASK_ROOT ?? '';
    expect(existsSync(join(taskRoot, 'index.mjs'))).toBe(true);
    expect(taskRoot.startsWith(REPO_ROOT)).toBe(false);
  });
});

describe('LocalFunction context', () => {
  it('passes the Lambda context: names, ARN, memory, unique request ids, a decreasing remaining time', async () => {
    // GIVEN a function with a 3 s timeout in a given account and region
    const { fn } = localFunction('ctx-fn', 'probe', {
      memoryMb: 256,
      region: 'eu-west-1',
      accountId: '123456789012',
    });

    // WHEN it is invoked twice
    const first = succeeded(await fn.invoke({ action: 'context' }));
    const second = succeeded(await fn.invoke({ action: 'context' }));

    // THEN the context carries the function's identity and this invocation's request id
    const context = first.result as Record<string, unknown>;
    expect(context).toMatchObject({
      functionName: 'ctx-fn',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:ctx-fn',
      memoryLimitInMB: '256',
      awsRequestId: first.requestId,
      logGroupName: '/aws/lambda/ctx-fn',
      callbackWaitsForEmptyEventLoop: true,
      identity: 'undefined',
      clientContext: 'undefined',
    });
    expect(first.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect((second.result as { awsRequestId: string }).awsRequestId).toBe(second.requestId);
    expect(second.requestId).not.toBe(first.requestId);
    // AND the remaining time starts near the timeout and decreases (the handler sleeps 50 ms)
    const before = context.remainingBefore as number;
    const after = context.remainingAfter as number;
    expect(before).toBeLessThanOrEqual(3000);
    expect(before).toBeGreaterThan(2800);
    expect(before - after).toBeGreaterThanOrEqual(40);
    // AND each invocation gets a fresh, unsampled X-Ray trace header
    const traces = [first, second].map((r) => (r.result as { traceId: string }).traceId);
    for (const trace of traces) expect(trace).toMatch(TRACE_HEADER);
    expect(traces[0]).not.toBe(traces[1]);
  });
});

describe('LocalFunction failures', () => {
  it('times out after timeoutSeconds with Lambda’s message, and resets the sandbox', async () => {
    // GIVEN a function with a 1 s timeout whose handler sleeps 5 s
    const { fn, lines } = localFunction('slow', 'probe', { timeoutSeconds: 1 });

    // WHEN it is invoked
    const { value, ms } = await timed(() => fn.invoke({ action: 'sleep', ms: 5000 }));

    // THEN the invocation fails as a timeout after about 1 s
    expect(failed(value)).toMatchObject({
      kind: 'timeout',
      errorType: 'Sandbox.Timedout',
      errorMessage: 'Task timed out after 1.00 seconds',
    });
    expect(ms).toBeGreaterThanOrEqual(990);
    expect(ms).toBeLessThan(1800);
    expect(lines.some((l) => l.endsWith(`${value.requestId} Task timed out after 1.00 seconds`))).toBe(true);
    expect(lines.find((l) => l.startsWith(`REPORT RequestId: ${value.requestId}`))).toContain(
      'Status: timeout',
    );
    // AND the sandbox is gone: the next invocation is a cold start
    expect(fn.activeSandboxes).toBe(0);
    expect(succeeded(await fn.invoke({ action: 'undefined' }))).toMatchObject({
      coldStart: true,
      result: null,
    });
  });

  it('reports a thrown error with its type, message and stack lines, keeping the sandbox warm', async () => {
    // GIVEN a warm function
    const { fn, lines } = localFunction('thrower', 'probe');
    succeeded(await fn.invoke({ action: 'undefined' }));

    // WHEN the handler throws a TypeError, then a string
    const error = failed(await fn.invoke({ action: 'throw', message: 'bad input' }));
    const thrownString = failed(await fn.invoke({ action: 'throw-string' }));

    // THEN the result has the shape of Lambda's function error response
    expect(error).toMatchObject({
      kind: 'error',
      errorType: 'TypeError',
      errorMessage: 'bad input',
      coldStart: false,
    });
    expect(error.stack?.[0]).toBe('TypeError: bad input');
    expect(error.stack?.[1]).toMatch(/^ {4}at handler \(file:\/\/.*\/index\.mjs:\d+:\d+\)$/);
    expect(thrownString).toMatchObject({ errorType: 'string', errorMessage: 'plain string', stack: [] });
    expect(lines.some((l) => l.includes('\tERROR\tInvoke Error \t{"errorType":"TypeError"'))).toBe(true);
    // AND errors do not reset the sandbox
    expect(succeeded(await fn.invoke({ action: 'undefined' })).coldStart).toBe(false);
  });

  it('fails a result that is not JSON-serialisable, and returns null for undefined', async () => {
    // GIVEN a function
    const { fn } = localFunction('json', 'probe');

    // WHEN its handler returns a circular object, then undefined
    const circular = failed(await fn.invoke({ action: 'circular' }));
    const nothing = succeeded(await fn.invoke({ action: 'undefined' }));

    // THEN as in Lambda the first fails to serialise and the second is null
    expect(circular).toMatchObject({
      kind: 'error',
      errorType: 'Error',
      errorMessage: 'Unable to stringify response body',
    });
    expect(nothing.result).toBeNull();
  });

  it('replaces a sandbox that exits or throws from a timer, as a Runtime.ExitError crash', async () => {
    // GIVEN a function
    const { fn, lines } = localFunction('crasher', 'probe');

    // WHEN the handler calls process.exit(3)
    const exited = failed(await fn.invoke({ action: 'exit', code: 3 }));
    // AND then, in a new sandbox, throws from a timer
    const recovered = succeeded(await fn.invoke({ action: 'undefined' }));
    const uncaught = failed(await fn.invoke({ action: 'timer-throw' }));
    const again = succeeded(await fn.invoke({ action: 'undefined' }));

    // THEN both are crashes, and every invocation after a crash is a cold start in a new sandbox
    expect(exited).toMatchObject({ kind: 'crash', errorType: 'Runtime.ExitError' });
    expect(exited.errorMessage).toBe(
      `RequestId: ${exited.requestId} Error: Runtime exited with error: exit status 3`,
    );
    expect(recovered.coldStart).toBe(true);
    expect(uncaught).toMatchObject({ kind: 'crash', errorType: 'Runtime.ExitError', coldStart: false });
    expect(uncaught.errorMessage).toContain('exit status 129');
    expect(uncaught.stack?.[0]).toBe('Error: boom in timer');
    expect(lines.some((l) => l.includes(`${uncaught.requestId}\tERROR\tUncaught Exception \t`))).toBe(true);
    expect(again.coldStart).toBe(true);
    expect(fn.activeSandboxes).toBe(1);
  });

  it('throttles an invocation when every sandbox is busy at the reserved concurrency', async () => {
    // GIVEN a function with a reserved concurrency of 1, busy with a slow invocation
    const { fn } = localFunction('single', 'probe', { reservedConcurrency: 1 });
    const slow = fn.invoke({ action: 'sleep', ms: 300 });

    // WHEN a second invocation arrives meanwhile
    const { value: throttled, ms } = await timed(() => fn.invoke({ action: 'undefined' }));

    // THEN it is rejected at once with TooManyRequestsException, and the first one completes
    expect(failed(throttled)).toMatchObject({ kind: 'throttled', errorType: 'TooManyRequestsException' });
    expect(ms).toBeLessThan(50);
    expect(succeeded(await slow).result).toEqual({ slept: 300 });
    // AND once it is done, the sandbox serves the next invocation
    expect(succeeded(await fn.invoke({ action: 'undefined' })).coldStart).toBe(false);
  });

  it('throttles everything at a reserved concurrency of 0', async () => {
    const { fn } = localFunction('disabled', 'echo', { reservedConcurrency: 0 });
    expect(failed(await fn.invoke({}))).toMatchObject({
      kind: 'throttled',
      errorType: 'TooManyRequestsException',
    });
    expect(fn.activeSandboxes).toBe(0);
  });

  it('reports init errors as Lambda does: a missing export, a package that is not bundled', async () => {
    // GIVEN an asset without the handler's export, and one importing a package it did not bundle
    // (zod is installed in this repository: it must not resolve from there)
    const noExport = localFunction('no-export', 'no-export').fn;
    const leak = localFunction('leak', 'leak').fn;

    // WHEN they are invoked
    const missing = failed(await noExport.invoke({}));
    const unbundled = failed(await leak.invoke({}));

    // THEN the invocations fail with the runtime's init errors, and the sandboxes are dropped
    expect(missing).toMatchObject({
      kind: 'error',
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: 'index.handler is undefined or not exported',
      coldStart: true,
    });
    expect(unbundled).toMatchObject({ kind: 'error', errorType: 'Error' });
    expect(unbundled.errorMessage).toMatch(/^Cannot find package 'zod' imported from .*index\.mjs$/);
    expect(noExport.activeSandboxes + leak.activeSandboxes).toBe(0);
  });
});

describe('LocalFunction programming models and bundles', () => {
  it('supports callback-style handlers, waiting for an empty event loop unless told not to', async () => {
    // GIVEN a callback-style handler (event, context, callback)
    const { fn } = localFunction('callback', 'callback');

    // WHEN it calls back with a result, with an error, and with a timer still pending
    const result = succeeded(await fn.invoke({ n: 21 }));
    const error = failed(await fn.invoke({ fail: true }));
    const waited = await timed(() => fn.invoke({ n: 1, lingerMs: 300 }));
    const notWaited = await timed(() => fn.invoke({ n: 2, lingerMs: 300, dontWait: true }));

    // THEN results and errors come back as for async handlers
    expect(result.result).toEqual({ doubled: 42 });
    expect(error).toMatchObject({ kind: 'error', errorType: 'RangeError', errorMessage: 'callback failure' });
    // AND by default the response waits for the pending timer; with callbackWaitsForEmptyEventLoop=false it doesn't
    expect(succeeded(waited.value).result).toEqual({ doubled: 2 });
    expect(waited.ms).toBeGreaterThanOrEqual(290);
    expect(succeeded(notWaited.value).result).toEqual({ doubled: 4 });
    expect(notWaited.ms).toBeLessThan(200);
  });

  it('loads a CommonJS index.js bundle as CommonJS (despite this repo’s "type": "module") and require()s the SDK', async () => {
    const { fn } = localFunction('cjs', 'cjs');
    expect(succeeded(await fn.invoke({ q: 1 })).result).toEqual({
      calls: 1,
      moduleType: 'object',
      client: 'function',
      input: { q: 1 },
    });
  });

  it('resolves @aws-sdk/* imports of an ESM bundle that left them external (import and createRequire)', async () => {
    // GIVEN an ESM bundle importing @aws-sdk/client-sqs and requiring @aws-sdk/client-sns
    const { fn } = localFunction('sdk', 'sdk', { region: 'eu-central-1' });

    // WHEN it constructs clients (no network)
    const result = succeeded(await fn.invoke({})).result;

    // THEN the SDK resolved from the runtime-provided modules and reads the Lambda region
    expect(result).toEqual({
      region: 'eu-central-1',
      command: 'ListQueuesCommand',
      send: 'function',
      sns: 'function',
    });
  });

  it('finds a handler in a subdirectory with a nested export path', async () => {
    const { fn } = localFunction('nested', 'nested', { handler: 'dist/app.handlers.main' });
    expect(succeeded(await fn.invoke({})).result).toEqual({ from: 'dist/app.mjs' });
  });
});

describe('LocalFunction with a Powertools bundle', () => {
  let assetDir = '';

  beforeAll(async () => {
    // An asset as NodejsFunction builds it: minified ESM with a source map, @aws-sdk/* external.
    assetDir = await mkdtemp(join(tmpdir(), 'lambda-runner-powertools-'));
    await build({
      stdin: {
        contents: `
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';

const logger = new Logger();
const tracer = new Tracer();
const sqs = tracer.captureAWSv3Client(new SQSClient({}));

export const handler = async (event: { who: string; fail?: boolean }, context: Context) => {
  logger.addContext(context);
  const segment = tracer.getSegment();
  const subsegment = segment?.addNewSubsegment('work');
  if (subsegment) tracer.setSegment(subsegment);
  tracer.putAnnotation('who', event.who);
  logger.info('greeting', { who: event.who });
  subsegment?.close();
  if (segment) tracer.setSegment(segment);
  if (event.fail) throw new Error('mapped failure');
  return { tracing: tracer.isTracingEnabled(), traceRoot: tracer.getRootXrayTraceId(), send: typeof sqs.send };
};
`,
        resolveDir: REPO_ROOT,
        sourcefile: 'powertools-handler.ts',
        loader: 'ts',
      },
      outfile: join(assetDir, 'index.mjs'),
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      minify: true,
      sourcemap: true,
      external: ['@aws-sdk/*'],
      banner: {
        js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      },
      logLevel: 'silent',
    });
  });

  afterAll(async () => {
    await rm(assetDir, { recursive: true, force: true });
  });

  it('runs Logger and Tracer with tracing on, logging JSON with the function name and trace id', async () => {
    // GIVEN the Powertools bundle with PlatformFunction's environment
    const { fn, lines } = localFunction('orders-fn', '', {
      assetDir,
      memoryMb: 512,
      environment: {
        POWERTOOLS_SERVICE_NAME: 'orders',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
      },
    });

    // WHEN it is invoked
    const first = succeeded(await fn.invoke({ who: 'ada' }));

    // THEN tracing is enabled and sees this invocation's trace id, and the client was instrumented
    const result = first.result as { tracing: boolean; traceRoot: string; send: string };
    expect(result).toMatchObject({ tracing: true, send: 'function' });
    expect(result.traceRoot).toMatch(/^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    // AND the Logger wrote one JSON line with the Lambda context
    const logged = invocationLines(lines, first.requestId)
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      level: 'INFO',
      message: 'greeting',
      service: 'orders',
      cold_start: true,
      function_name: 'orders-fn',
      function_memory_size: '512',
      function_request_id: first.requestId,
      xray_trace_id: result.traceRoot,
      who: 'ada',
    });

    // AND an error's stack is source-mapped to the TypeScript source (NODE_OPTIONS=--enable-source-maps)
    const error = failed(await fn.invoke({ who: 'bob', fail: true }));
    expect(error.errorMessage).toBe('mapped failure');
    expect(error.stack?.[1]).toMatch(/powertools-handler\.ts:\d+:\d+\)$/);
  });
});

describe('LocalFunction lifecycle and logs', () => {
  it('writes handler output line by line between START and END, with REPORT lines like Lambda’s', async () => {
    // GIVEN a function
    const { fn, lines } = localFunction('logger', 'probe');

    // WHEN it logs through console.log, console.error and process.stdout.write (without a newline), twice
    const cold = succeeded(await fn.invoke({ action: 'log' }));
    const warm = succeeded(await fn.invoke({ action: 'log' }));

    // THEN each line reaches the log in order, the partial one at the end of the invocation
    expect(invocationLines(lines, cold.requestId)).toEqual(['line one', 'line two', 'to stderr', 'partial']);
    expect(invocationLines(lines, warm.requestId)).toEqual(['line one', 'line two', 'to stderr', 'partial']);
    // AND INIT_START precedes the cold start, whose REPORT alone has an Init Duration
    expect(lines[0]).toMatch(/^INIT_START Runtime Version: nodejs22\.x/);
    const report = (id: string): string => lines.find((l) => l.startsWith(`REPORT RequestId: ${id}`)) ?? '';
    expect(report(cold.requestId)).toMatch(
      /^REPORT RequestId: \S+\tDuration: \d+\.\d{2} ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d{2} ms$/,
    );
    expect(report(warm.requestId)).not.toContain('Init Duration');
  });

  it('reload drops the sandboxes: the next invocation is cold and sees the new configuration', async () => {
    // GIVEN a warm function
    const { fn } = localFunction('reloaded', 'echo', { environment: { GREETING: 'v1' } });
    succeeded(await fn.invoke({}));

    // WHEN it is reloaded with a new environment
    await fn.reload({ ...fn.spec, environment: { GREETING: 'v2' } });
    const after = succeeded(await fn.invoke({}));

    // THEN the next invocation starts a new sandbox with the new environment
    expect(after).toMatchObject({ coldStart: true, result: { invocations: 1, greeting: 'v2' } });
    expect(fn.activeSandboxes).toBe(1);
  });

  it('terminates sandboxes idle for idleMs', async () => {
    const { fn } = localFunction('idler', 'echo', {}, { idleMs: 100 });
    succeeded(await fn.invoke({}));
    expect(fn.activeSandboxes).toBe(1);
    await vi.waitFor(() => expect(fn.activeSandboxes).toBe(0), { timeout: 2000, interval: 20 });
    expect(succeeded(await fn.invoke({})).coldStart).toBe(true);
  });

  it('stop ends the invocations in flight, terminates the sandboxes and refuses new invocations', async () => {
    // GIVEN an invocation in flight
    const { fn } = localFunction('stopper', 'probe');
    const inFlight = fn.invoke({ action: 'sleep', ms: 2000 });
    await vi.waitFor(() => expect(fn.activeSandboxes).toBe(1));

    // WHEN the function is stopped
    await fn.stop();

    // THEN the invocation ends as a crash, no sandbox is left, and later invocations fail
    expect(failed(await inFlight)).toMatchObject({ kind: 'crash', errorType: 'Runtime.ExitError' });
    expect(fn.activeSandboxes).toBe(0);
    expect(failed(await fn.invoke({}))).toMatchObject({ errorType: 'ResourceNotFoundException' });
  });

  it('keeps warm invocations cheap', async () => {
    // GIVEN a warm echo function
    const { fn } = localFunction('fast', 'echo');
    succeeded(await fn.invoke({}));

    // WHEN it is invoked 50 times in a row
    const times: number[] = [];
    for (let i = 0; i < 50; i++) times.push((await timed(() => fn.invoke({ i }))).ms);

    // THEN the median stays far below a millisecond-scale budget (generous for loaded machines)
    times.sort((a, b) => a - b);
    expect(times[25]).toBeLessThan(5);
  });
});

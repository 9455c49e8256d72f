/**
 * The runtime of one sandbox (a worker thread): loads the handler once (the cold start), then runs
 * one invocation at a time as the Node.js runtime interface client does, and reports over the
 * worker's message port. Compiled to a script by sandbox-runtime.ts; it only runs inside a Worker.
 */
import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { buildInvocation, type Completion, EmptyEventLoopWatcher, type LambdaContext } from './context.js';
import type { ErrorShape, InvokeMessage, ParentMessage, SandboxData, WorkerMessage } from './protocol.js';

type Handler = (
  event: unknown,
  context: LambdaContext,
  callback: (error?: unknown, result?: unknown) => void,
) => unknown;

const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');

const port = ((): MessagePort => {
  if (parentPort === null) throw new Error('the Lambda sandbox runtime must run in a worker thread');
  return parentPort;
})();
const data = workerData as SandboxData;
const post = (message: WorkerMessage): void => port.postMessage(message);

/** Error thrown by the runtime itself (`Runtime.ImportModuleError`...), with Lambda's shape. */
class RuntimeError extends Error {
  constructor(
    readonly errorType: string,
    message: string,
    readonly inner?: unknown,
  ) {
    super(message);
  }
}

/** Frames of the runtime itself (the eval'd script) are noise in the user's stack. */
const isRuntimeFrame = (line: string): boolean => line.includes('[worker eval]');

function traceOf(error: Error): string[] {
  return typeof error.stack === 'string' ? error.stack.split('\n').filter((l) => !isRuntimeFrame(l)) : [];
}

/** As the runtime's `Errors.toRapidResponse`: name, message and stack of errors; typeof otherwise. */
function toErrorShape(error: unknown): ErrorShape {
  try {
    if (error instanceof RuntimeError) {
      const cause = error.inner instanceof Error ? traceOf(error.inner).slice(1) : [];
      return {
        errorType: error.errorType,
        errorMessage: error.message,
        trace: [`${error.errorType}: ${error.message}`, ...cause],
      };
    }
    if (error instanceof Error) {
      return { errorType: error.name, errorMessage: error.message, trace: traceOf(error) };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
      trace: [],
    };
  }
}

/** Sends everything written to stdout/stderr (console, Powertools, process.stdout.write) to the parent. */
function captureOutput(stream: NodeJS.WriteStream, fd: 1 | 2): void {
  const write = (chunk: unknown, encoding?: unknown, cb?: unknown): boolean => {
    let text: string;
    if (typeof chunk === 'string') text = chunk;
    else if (chunk instanceof Uint8Array) {
      text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString(
        typeof encoding === 'string' && Buffer.isEncoding(encoding) ? encoding : 'utf8',
      );
    } else text = String(chunk);
    post({ t: 'log', fd, text });
    const done = typeof encoding === 'function' ? encoding : cb;
    if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
    return true;
  };
  stream.write = write as typeof stream.write;
}

function resolveNested(root: unknown, path: string): unknown {
  let value = root;
  for (const key of path.split('.')) {
    if (value === null || value === undefined) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Loads the handler as the runtime's UserFunction.load does (same lookup, same errors). */
async function loadHandler(taskRoot: string, handlerString: string): Promise<Handler> {
  if (handlerString.includes('..')) {
    throw new RuntimeError(
      'Runtime.MalformedHandlerName',
      `'${handlerString}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const moduleAndHandler = basename(handlerString);
  const moduleRoot = handlerString.slice(0, handlerString.length - moduleAndHandler.length);
  const match = /^([^.]*)\.(.*)$/.exec(moduleAndHandler);
  const moduleName = match?.[1];
  const handlerPath = match?.[2];
  if (moduleName === undefined || handlerPath === undefined) {
    throw new RuntimeError('Runtime.MalformedHandlerName', 'Bad handler');
  }

  const base = resolve(taskRoot, moduleRoot, moduleName);
  let mod: unknown;
  try {
    const file = ['', '.js', '.mjs', '.cjs'].map((ext) => base + ext).find(isFile);
    if (file === undefined) {
      throw Object.assign(new Error(`Cannot find module '${moduleName}'`), { code: 'MODULE_NOT_FOUND' });
    }
    mod = await import(pathToFileURL(file).href);
  } catch (error) {
    if (error instanceof SyntaxError) {
      throw new RuntimeError('Runtime.UserCodeSyntaxError', String(error), error);
    }
    if ((error as { code?: unknown } | null)?.code === 'MODULE_NOT_FOUND') {
      throw new RuntimeError('Runtime.ImportModuleError', String(error), error);
    }
    throw error;
  }
  // A CommonJS module imported as ESM exposes module.exports as `default`.
  const handler =
    resolveNested(mod, handlerPath) ?? resolveNested((mod as { default?: unknown }).default, handlerPath);
  if (handler === undefined || handler === null || handler === false) {
    throw new RuntimeError('Runtime.HandlerNotFound', `${handlerString} is undefined or not exported`);
  }
  if (typeof handler !== 'function') {
    throw new RuntimeError('Runtime.HandlerNotFound', `${handlerString} is not a function`);
  }
  return handler as Handler;
}

let maxHeapBytes = 0;
function heapBytes(): number {
  const used = getHeapStatistics().used_heap_size;
  if (used > maxHeapBytes) maxHeapBytes = used;
  return maxHeapBytes;
}

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  value !== null &&
  (typeof value === 'object' || typeof value === 'function') &&
  typeof (value as { then?: unknown }).then === 'function';

function invoke(handler: Handler, watcher: EmptyEventLoopWatcher, message: InvokeMessage): void {
  const { requestId } = message;
  process.env._X_AMZN_TRACE_ID = message.traceId;
  const started = performance.now();

  const complete = (completion: Completion): void => {
    const durationMs = performance.now() - started;
    if (completion.ok) {
      let payload: string | undefined;
      try {
        payload = JSON.stringify(completion.value === undefined ? null : completion.value);
      } catch {
        // As the runtime's RAPID client: the result could not be serialised, which fails the invocation.
      }
      if (payload !== undefined) {
        post({ t: 'result', requestId, ok: true, payload, durationMs, heapBytes: heapBytes() });
        return;
      }
      completion = { ok: false, error: new Error('Unable to stringify response body') };
    }
    post({
      t: 'result',
      requestId,
      ok: false,
      error: toErrorShape(completion.error),
      durationMs,
      heapBytes: heapBytes(),
    });
  };

  const invocation = buildInvocation({
    requestId,
    deadlineMs: message.deadlineMs,
    functionArn: data.functionArn,
    env: process.env,
    watcher,
    complete,
  });
  try {
    if ((handler as unknown as Record<symbol, unknown>)[STREAMING] !== undefined) {
      throw new RuntimeError(
        'Runtime.MalformedStreamingHandler',
        'Response streaming is not supported locally.',
      );
    }
    const event: unknown = JSON.parse(message.event);
    const returned = handler(event, invocation.context, invocation.callback);
    if (isThenable(returned)) invocation.settleWith(returned);
    else invocation.completeWithNullWhenIdle();
  } catch (error) {
    invocation.callback(error);
  }
}

async function main(): Promise<void> {
  captureOutput(process.stdout, 1);
  captureOutput(process.stderr, 2);

  // As the runtime: report the error to the pending invocation, then exit (129 / 128).
  process.on('uncaughtException', (error) => {
    post({ t: 'fatal', error: toErrorShape(error), exitCode: 129 });
    process.exit(129);
  });
  process.on('unhandledRejection', (reason) => {
    const shape = toErrorShape(reason);
    const error: ErrorShape = {
      errorType: 'Runtime.UnhandledPromiseRejection',
      errorMessage: reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason),
      trace: [`Runtime.UnhandledPromiseRejection: ${shape.errorMessage}`, ...shape.trace.slice(1)],
    };
    post({ t: 'fatal', error, exitCode: 128 });
    process.exit(128);
  });

  if (data.enableSourceMaps) process.setSourceMapsEnabled(true);
  (globalThis as { awslambda?: unknown }).awslambda = {
    streamifyResponse: (handler: Record<symbol, unknown>) => {
      handler[STREAMING] = 'response';
      return handler;
    },
  };

  const watcher = await EmptyEventLoopWatcher.calibrate();
  const started = performance.now();
  let handler: Handler;
  try {
    handler = await loadHandler(data.taskRoot, data.handler);
  } catch (error) {
    post({ t: 'initError', error: toErrorShape(error) });
    return;
  }
  port.on('message', (message: ParentMessage) => {
    if (message.t === 'invoke') invoke(handler, watcher, message);
  });
  post({ t: 'ready', initMs: performance.now() - started });
}

void main();

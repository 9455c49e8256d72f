import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import {
  DEFAULT_ACCOUNT_ID,
  DEFAULT_REGION,
  LAMBDA_RUNTIME,
  lambdaEnvironment,
  newLogStreamName,
  newTraceHeader,
} from './environment.js';
import type { ErrorShape, InvokeMessage, SandboxData, WorkerMessage } from './protocol.js';
import { sandboxRuntimeScript } from './sandbox-runtime.js';
import { createTaskRoot, removeTaskRoot } from './task-root.js';

export interface FunctionSpec {
  /** Function name (used in logs, context, ARN). */
  readonly name: string;
  /** Absolute dir with index.mjs or index.js (a `cdk.out/asset.<hash>` dir). */
  readonly assetDir: string;
  /** `file.export`; file may be a path like `dist/app.handler`. */
  readonly handler: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly environment: Record<string, string>;
  /** Max concurrent sandboxes; default from options (10). 0 throttles every invocation, as in Lambda. */
  readonly reservedConcurrency?: number;
  readonly region?: string;
  readonly accountId?: string;
}

export type InvokeResult =
  | {
      ok: true;
      requestId: string;
      result: unknown;
      durationMs: number;
      coldStart: boolean;
      /** Sandbox start plus module load, on a cold start. */
      initDurationMs?: number;
    }
  | {
      ok: false;
      requestId: string;
      kind: 'error' | 'timeout' | 'throttled' | 'crash';
      errorType: string;
      errorMessage: string;
      stack?: string[];
      durationMs: number;
      coldStart?: boolean;
      initDurationMs?: number;
    };

export interface LocalFunctionOptions {
  /** Receives every log line: handler output and the START/END/REPORT lines. Default: `[name] line` on stderr. */
  readonly log?: (fn: string, line: string) => void;
  /** Concurrency cap when the spec has no reservedConcurrency. @default 10 */
  readonly defaultConcurrency?: number;
  /** Terminate a sandbox idle for this long. @default never */
  readonly idleMs?: number;
  /** Parent dir of the task roots (copies of the asset). @default `<os tmpdir>/local-cloud-lambda` */
  readonly workDir?: string;
  /** node_modules whose @aws-sdk stands for the runtime-provided SDK. @default this repository's */
  readonly runtimeModules?: string;
  /** Limit of the init phase (module load), as Lambda's 10 s. @default 10_000 */
  readonly initTimeoutMs?: number;
}

/** Lambda's limit for a synchronous response payload. */
const MAX_RESPONSE_BYTES = 6_291_556;
const MiB = 1024 * 1024;

type ResultMessage = Extract<WorkerMessage, { t: 'result' }>;
type Ended = { readonly kind: 'exit'; readonly code: number } | { readonly kind: 'stopped' };
type RunOutcome =
  | { readonly kind: 'result'; readonly message: ResultMessage }
  | { readonly kind: 'timeout' }
  | Ended;
type InitOutcome =
  | { readonly ok: true; readonly initMs: number }
  | { readonly ok: false; readonly kind: 'error'; readonly error: ErrorShape; readonly initMs: number }
  | { readonly ok: false; readonly kind: 'timeout'; readonly initMs: number }
  | ({ readonly ok: false; readonly initMs: number } & Ended);

/** One version of the function's code and configuration, with its task root. */
interface Generation {
  readonly spec: FunctionSpec;
  readonly region: string;
  readonly arn: string;
  taskRoot?: Promise<string>;
  sandboxes: number;
  retired: boolean;
}

interface Pending {
  readonly requestId: string;
  readonly timer: NodeJS.Timeout;
  readonly resolve: (outcome: RunOutcome) => void;
}

/** One execution environment: a worker thread with its own env and module state. */
class Sandbox {
  state: 'init' | 'idle' | 'busy' | 'dead' = 'init';
  worker: Worker | undefined;
  pending: Pending | undefined;
  idleTimer: NodeJS.Timeout | undefined;
  /** The uncaught error reported just before the sandbox exits. */
  fatal: ErrorShape | undefined;
  workerError: Error | undefined;
  heapBytes = 0;
  readonly output: Record<1 | 2, string> = { 1: '', 2: '' };
  readonly startedAt = performance.now();
  readonly ready: Promise<InitOutcome>;
  settleInit: (outcome: InitOutcome) => void = () => {};

  constructor(readonly generation: Generation) {
    this.ready = new Promise((resolve) => {
      this.settleInit = (outcome) => {
        this.settleInit = () => {};
        resolve(outcome);
      };
    });
  }
}

const defaultLog = (fn: string, line: string): void => {
  process.stderr.write(`[${fn}] ${line}\n`);
};

const exitMessage = (requestId: string, code: number): string =>
  code === 0
    ? `RequestId: ${requestId} Error: Runtime exited without providing a reason`
    : `RequestId: ${requestId} Error: Runtime exited with error: exit status ${code}`;

/**
 * Runs one Lambda function the way Lambda isolates it: each execution environment is a worker thread
 * with exactly the Lambda environment and its own module state, loaded once (cold start) and reused
 * (warm); one invocation at a time per environment, up to the concurrency limit, beyond which
 * invocations are throttled; timeouts and crashes reset the environment.
 */
export class LocalFunction {
  private generation: Generation;
  private readonly sandboxes = new Set<Sandbox>();
  /** Idle sandboxes, most recently used last. */
  private idle: Sandbox[] = [];
  private readonly terminations = new Set<Promise<unknown>>();
  private readonly taskRoots = new Set<Promise<string>>();
  private readonly log: (fn: string, line: string) => void;
  private stopped = false;

  constructor(
    spec: FunctionSpec,
    private readonly options: LocalFunctionOptions = {},
  ) {
    this.log = options.log ?? defaultLog;
    this.generation = this.newGeneration(spec);
  }

  /** Live sandboxes: starting, busy or idle. */
  get activeSandboxes(): number {
    return this.sandboxes.size;
  }

  get spec(): FunctionSpec {
    return this.generation.spec;
  }

  /** The function's ARN, as in the context's invokedFunctionArn. */
  get arn(): string {
    return this.generation.arn;
  }

  async invoke(event: unknown): Promise<InvokeResult> {
    const requestId = randomUUID();
    if (this.stopped) {
      return this.failure(
        requestId,
        'crash',
        'ResourceNotFoundException',
        `Function not found: ${this.arn} (stopped)`,
      );
    }
    // No payload is an empty object for Lambda.
    const eventJson = event === undefined ? '{}' : JSON.stringify(event);

    let sandbox = this.idle.pop();
    const coldStart = sandbox === undefined;
    if (sandbox === undefined) {
      const limit = this.spec.reservedConcurrency ?? this.options.defaultConcurrency ?? 10;
      if (this.sandboxes.size >= limit) {
        return this.failure(requestId, 'throttled', 'TooManyRequestsException', 'Rate Exceeded.');
      }
      sandbox = this.spawn();
    } else {
      clearTimeout(sandbox.idleTimer);
      sandbox.worker?.ref();
    }
    sandbox.state = 'busy';
    const { spec } = sandbox.generation;

    let initDurationMs: number | undefined;
    if (coldStart) {
      const init = await sandbox.ready;
      initDurationMs = init.initMs;
      if (!init.ok) return this.initFailed(sandbox, requestId, init);
    }

    this.emit(`START RequestId: ${requestId} Version: $LATEST`);
    const started = performance.now();
    const outcome = await this.run(sandbox, requestId, eventJson);
    const elapsedMs = performance.now() - started;

    let result: InvokeResult;
    let status = '';
    if (outcome.kind === 'result') {
      const message = outcome.message;
      sandbox.heapBytes = message.heapBytes;
      const durationMs = message.durationMs;
      if (message.ok && message.payload.length * 3 > MAX_RESPONSE_BYTES) {
        result = this.largeResult(requestId, message.payload, durationMs, coldStart, initDurationMs);
      } else if (message.ok) {
        result = { ok: true, requestId, result: JSON.parse(message.payload), durationMs, coldStart };
        if (initDurationMs !== undefined) result.initDurationMs = initDurationMs;
      } else {
        const { errorType, errorMessage, trace } = message.error;
        this.emit(
          `${new Date().toISOString()}\t${requestId}\tERROR\tInvoke Error \t${JSON.stringify({ errorType, errorMessage, stack: trace })}`,
        );
        result = this.failure(requestId, 'error', errorType, errorMessage, durationMs, [...trace]);
      }
      if (!result.ok) status = `\tStatus: error\tError Type: ${result.errorType}`;
      this.release(sandbox);
    } else if (outcome.kind === 'timeout') {
      const message = `Task timed out after ${spec.timeoutSeconds.toFixed(2)} seconds`;
      this.emit(`${new Date().toISOString()} ${requestId} ${message}`);
      result = this.failure(requestId, 'timeout', 'Sandbox.Timedout', message, elapsedMs);
      status = '\tStatus: timeout';
    } else {
      result = this.ended(sandbox, requestId, outcome, elapsedMs);
      status = `\tStatus: error\tError Type: ${result.ok ? '' : result.errorType}`;
    }
    if (!result.ok) {
      result.coldStart = coldStart;
      if (initDurationMs !== undefined) result.initDurationMs = initDurationMs;
    }

    this.emit(`END RequestId: ${requestId}`);
    const duration = result.durationMs;
    const init = initDurationMs === undefined ? '' : `\tInit Duration: ${initDurationMs.toFixed(2)} ms`;
    this.emit(
      `REPORT RequestId: ${requestId}\tDuration: ${duration.toFixed(2)} ms\tBilled Duration: ${Math.max(1, Math.ceil(duration))} ms` +
        `\tMemory Size: ${spec.memoryMb} MB\tMax Memory Used: ${Math.ceil(sandbox.heapBytes / MiB)} MB${init}${status}`,
    );
    return result;
  }

  /** Drops every sandbox (busy ones when their invocation ends); the next invocation is cold. */
  async reload(spec?: FunctionSpec): Promise<void> {
    const previous = this.generation;
    this.generation = this.newGeneration(spec ?? previous.spec);
    previous.retired = true;
    const idle = this.idle;
    this.idle = [];
    for (const sandbox of idle) this.kill(sandbox);
    this.releaseGeneration(previous);
    await this.settleTerminations();
  }

  /** Terminates every sandbox, failing the invocations in flight, and removes the task roots. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.idle = [];
    for (const sandbox of [...this.sandboxes]) this.kill(sandbox, { kind: 'stopped' });
    await this.settleTerminations();
    const roots = await Promise.allSettled(this.taskRoots);
    this.taskRoots.clear();
    await Promise.all(roots.map((r) => (r.status === 'fulfilled' ? removeTaskRoot(r.value) : undefined)));
  }

  private newGeneration(spec: FunctionSpec): Generation {
    const region = spec.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? DEFAULT_REGION;
    const arn = `arn:aws:lambda:${region}:${spec.accountId ?? DEFAULT_ACCOUNT_ID}:function:${spec.name}`;
    return { spec, region, arn, sandboxes: 0, retired: false };
  }

  private taskRootOf(generation: Generation): Promise<string> {
    if (generation.taskRoot === undefined) {
      const root = createTaskRoot(generation.spec.assetDir, generation.spec.name, {
        workDir: this.options.workDir,
        runtimeModules: this.options.runtimeModules,
      });
      generation.taskRoot = root;
      this.taskRoots.add(root);
      root.catch(() => this.taskRoots.delete(root));
    }
    return generation.taskRoot;
  }

  /** Removes the task root of a retired generation once its last sandbox is gone. */
  private releaseGeneration(generation: Generation): void {
    if (!generation.retired || generation.sandboxes > 0 || generation.taskRoot === undefined) return;
    const root = generation.taskRoot;
    generation.taskRoot = undefined;
    this.taskRoots.delete(root);
    const removal = root.then(removeTaskRoot, () => undefined);
    this.track(removal);
  }

  private emit(line: string): void {
    this.log(this.generation.spec.name, line);
  }

  private failure(
    requestId: string,
    kind: 'error' | 'timeout' | 'throttled' | 'crash',
    errorType: string,
    errorMessage: string,
    durationMs = 0,
    stack?: string[],
  ): InvokeResult {
    const result: InvokeResult = { ok: false, requestId, kind, errorType, errorMessage, durationMs };
    if (stack !== undefined) result.stack = stack;
    return result;
  }

  private largeResult(
    requestId: string,
    payload: string,
    durationMs: number,
    coldStart: boolean,
    initDurationMs: number | undefined,
  ): InvokeResult {
    if (Buffer.byteLength(payload) <= MAX_RESPONSE_BYTES) {
      const result: InvokeResult = {
        ok: true,
        requestId,
        result: JSON.parse(payload),
        durationMs,
        coldStart,
      };
      if (initDurationMs !== undefined) result.initDurationMs = initDurationMs;
      return result;
    }
    return this.failure(
      requestId,
      'error',
      'Function.ResponseSizeTooLarge',
      `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
      durationMs,
    );
  }

  /** Result of an invocation whose sandbox went away: it exited (crash) or the function was stopped. */
  private ended(sandbox: Sandbox, requestId: string, outcome: Ended, durationMs: number): InvokeResult {
    if (outcome.kind === 'stopped') {
      return this.failure(
        requestId,
        'crash',
        'Runtime.ExitError',
        `RequestId: ${requestId} Error: Runtime exited: the local function was stopped`,
        durationMs,
      );
    }
    const outOfMemory =
      (sandbox.workerError as NodeJS.ErrnoException | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY';
    const errorType = outOfMemory ? 'Runtime.OutOfMemory' : 'Runtime.ExitError';
    const errorMessage = outOfMemory
      ? `RequestId: ${requestId} Error: Runtime exited with error: signal: killed`
      : exitMessage(requestId, outcome.code);
    this.emit(errorMessage);
    this.emit(errorType);
    const stack = sandbox.fatal?.trace ?? sandbox.workerError?.stack?.split('\n');
    return this.failure(
      requestId,
      'crash',
      errorType,
      errorMessage,
      durationMs,
      stack === undefined ? undefined : [...stack],
    );
  }

  private initFailed(
    sandbox: Sandbox,
    requestId: string,
    init: Exclude<InitOutcome, { ok: true }>,
  ): InvokeResult {
    const initMs = init.initMs;
    const report = (status: string): void =>
      this.emit(`INIT_REPORT Init Duration: ${initMs.toFixed(2)} ms\tPhase: init\tStatus: ${status}`);
    let result: InvokeResult;
    if (init.kind === 'error') {
      const { errorType, errorMessage, trace } = init.error;
      this.emit(
        `${new Date().toISOString()}\tundefined\tERROR\tUncaught Exception \t${JSON.stringify({ errorType, errorMessage, stack: trace })}`,
      );
      report(`error\tError Type: ${errorType}`);
      this.kill(sandbox);
      result = this.failure(requestId, 'error', errorType, errorMessage, 0, [...trace]);
    } else if (init.kind === 'timeout') {
      report('timeout');
      const limit = (this.options.initTimeoutMs ?? 10_000) / 1000;
      result = this.failure(
        requestId,
        'timeout',
        'Sandbox.Timedout',
        `Init timed out after ${limit.toFixed(2)} seconds`,
      );
    } else {
      result = this.ended(sandbox, requestId, init, 0);
      report(`error\tError Type: ${result.ok ? '' : result.errorType}`);
    }
    if (!result.ok) {
      result.coldStart = true;
      result.initDurationMs = initMs;
    }
    return result;
  }

  private spawn(): Sandbox {
    const generation = this.generation;
    const sandbox = new Sandbox(generation);
    generation.sandboxes++;
    this.sandboxes.add(sandbox);
    this.emit(
      `INIT_START Runtime Version: ${LAMBDA_RUNTIME} (local: Node.js ${process.version} worker thread)`,
    );
    void this.start(sandbox);
    return sandbox;
  }

  private async start(sandbox: Sandbox): Promise<void> {
    const { spec, arn, region } = sandbox.generation;
    const initMs = (): number => performance.now() - sandbox.startedAt;
    let script: string;
    let taskRoot: string;
    try {
      [script, taskRoot] = await Promise.all([sandboxRuntimeScript(), this.taskRootOf(sandbox.generation)]);
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      const shape: ErrorShape = {
        errorType: 'Runtime.ImportModuleError',
        errorMessage: `Error: cannot prepare the task root from ${spec.assetDir}: ${err.message}`,
        trace: err.stack?.split('\n') ?? [],
      };
      sandbox.settleInit({ ok: false, kind: 'error', error: shape, initMs: initMs() });
      return;
    }
    if (sandbox.state === 'dead') return;

    const env = lambdaEnvironment(spec.environment, {
      functionName: spec.name,
      memoryMb: spec.memoryMb,
      handler: spec.handler,
      region,
      taskRoot,
      logStreamName: newLogStreamName(),
    });
    const workerData: SandboxData = {
      taskRoot,
      handler: spec.handler,
      functionArn: arn,
      enableSourceMaps: /(^|\s)--enable-source-maps(\s|$)/.test(env.NODE_OPTIONS ?? ''),
    };
    const worker = new Worker(script, {
      eval: true,
      env,
      workerData,
      // No piped stdio: the sandbox forwards its output over the message port itself (in order with
      // its results), and piped streams would keep the process alive while the sandbox idles.
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: Math.max(spec.memoryMb, 64) },
    });
    sandbox.worker = worker;
    worker.on('message', (message: WorkerMessage) => this.onMessage(sandbox, message));
    worker.on('error', (error) => {
      sandbox.workerError = error;
    });
    worker.on('exit', (code) => this.onExit(sandbox, code));

    const initTimeoutMs = this.options.initTimeoutMs ?? 10_000;
    const timer = setTimeout(() => {
      sandbox.settleInit({ ok: false, kind: 'timeout', initMs: initMs() });
      this.kill(sandbox);
    }, initTimeoutMs);
    await sandbox.ready;
    clearTimeout(timer);
  }

  private onMessage(sandbox: Sandbox, message: WorkerMessage): void {
    switch (message.t) {
      case 'log':
        this.output(sandbox, message.fd, message.text);
        return;
      case 'ready':
        sandbox.settleInit({ ok: true, initMs: performance.now() - sandbox.startedAt });
        return;
      case 'initError':
        this.flushOutput(sandbox);
        sandbox.settleInit({
          ok: false,
          kind: 'error',
          error: message.error,
          initMs: performance.now() - sandbox.startedAt,
        });
        return;
      case 'fatal': {
        sandbox.fatal = message.error;
        this.flushOutput(sandbox);
        const { errorType, errorMessage, trace } = message.error;
        const requestId = sandbox.pending?.requestId ?? 'undefined';
        this.emit(
          `${new Date().toISOString()}\t${requestId}\tERROR\tUncaught Exception \t${JSON.stringify({ errorType, errorMessage, stack: trace })}`,
        );
        return;
      }
      case 'result': {
        const pending = sandbox.pending;
        if (pending === undefined || pending.requestId !== message.requestId) return;
        sandbox.pending = undefined;
        clearTimeout(pending.timer);
        this.flushOutput(sandbox);
        pending.resolve({ kind: 'result', message });
        return;
      }
    }
  }

  private onExit(sandbox: Sandbox, code: number): void {
    this.flushOutput(sandbox);
    const wasIdle = sandbox.state === 'idle';
    this.forget(sandbox);
    sandbox.settleInit({ ok: false, kind: 'exit', code, initMs: performance.now() - sandbox.startedAt });
    const pending = sandbox.pending;
    if (pending !== undefined) {
      sandbox.pending = undefined;
      clearTimeout(pending.timer);
      pending.resolve({ kind: 'exit', code });
    } else if (wasIdle) {
      this.emit(`sandbox exited while idle (exit status ${code}); the next invocation is cold`);
    }
  }

  private run(sandbox: Sandbox, requestId: string, event: string): Promise<RunOutcome> {
    const worker = sandbox.worker;
    if (worker === undefined || sandbox.state === 'dead') return Promise.resolve({ kind: 'exit', code: 1 });
    const timeoutMs = sandbox.generation.spec.timeoutSeconds * 1000;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (sandbox.pending?.requestId !== requestId) return;
        sandbox.pending = undefined;
        resolve({ kind: 'timeout' });
        this.kill(sandbox);
      }, timeoutMs);
      sandbox.pending = { requestId, timer, resolve };
      const message: InvokeMessage = {
        t: 'invoke',
        requestId,
        event,
        deadlineMs: Date.now() + timeoutMs,
        traceId: newTraceHeader(),
      };
      worker.postMessage(message);
    });
  }

  /** Back to the idle pool after an invocation, unless the code changed or the function stopped. */
  private release(sandbox: Sandbox): void {
    if (sandbox.state === 'dead') return;
    if (this.stopped || sandbox.generation.retired) {
      this.kill(sandbox);
      return;
    }
    sandbox.state = 'idle';
    sandbox.worker?.unref();
    this.idle.push(sandbox);
    const idleMs = this.options.idleMs;
    if (idleMs !== undefined) {
      sandbox.idleTimer = setTimeout(() => {
        if (sandbox.state !== 'idle') return;
        this.idle = this.idle.filter((s) => s !== sandbox);
        this.kill(sandbox);
      }, idleMs);
      sandbox.idleTimer.unref();
    }
  }

  /** Terminates a sandbox; an invocation in flight ends with `ended` (a crash) if given. */
  private kill(sandbox: Sandbox, ended?: Ended): void {
    const pending = sandbox.pending;
    if (pending !== undefined && ended !== undefined) {
      sandbox.pending = undefined;
      clearTimeout(pending.timer);
      pending.resolve(ended);
    }
    if (ended !== undefined) sandbox.settleInit({ ok: false, initMs: 0, ...ended });
    this.forget(sandbox);
    const worker = sandbox.worker;
    if (worker !== undefined) this.track(worker.terminate());
  }

  /** Marks a sandbox dead and frees its concurrency slot (once). */
  private forget(sandbox: Sandbox): void {
    clearTimeout(sandbox.idleTimer);
    if (sandbox.state === 'dead') return;
    if (sandbox.state === 'idle') this.idle = this.idle.filter((s) => s !== sandbox);
    sandbox.state = 'dead';
    this.sandboxes.delete(sandbox);
    sandbox.generation.sandboxes--;
    this.releaseGeneration(sandbox.generation);
  }

  private track(promise: Promise<unknown>): void {
    const settled = promise.then(
      () => undefined,
      () => undefined,
    );
    this.terminations.add(settled);
    void settled.then(() => this.terminations.delete(settled));
  }

  private async settleTerminations(): Promise<void> {
    while (this.terminations.size > 0) await Promise.all(this.terminations);
  }

  /** Splits a sandbox's output in lines; a partial line waits for its end (or the end of the invocation). */
  private output(sandbox: Sandbox, fd: 1 | 2, text: string): void {
    const buffered = sandbox.output[fd] + text;
    const lines = buffered.split('\n');
    sandbox.output[fd] = lines.pop() ?? '';
    for (const line of lines) this.emit(line.endsWith('\r') ? line.slice(0, -1) : line);
  }

  private flushOutput(sandbox: Sandbox): void {
    for (const fd of [1, 2] as const) {
      const rest = sandbox.output[fd];
      if (rest !== '') {
        sandbox.output[fd] = '';
        this.emit(rest);
      }
    }
  }
}

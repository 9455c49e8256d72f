/**
 * The Lambda context object and the callback programming model, as the Node.js runtime interface
 * client (nodejs22.x) builds them: the first of callback/done/succeed/fail (or the handler's promise)
 * completes the invocation; with `callbackWaitsForEmptyEventLoop` (the default) a callback result is
 * sent only once the event loop is empty, and a handler that neither returns a promise nor calls back
 * completes with `null` at that point. Runs inside the sandbox.
 */

export interface LambdaContext {
  callbackWaitsForEmptyEventLoop: boolean;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly awsRequestId: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  readonly identity: undefined;
  readonly clientContext: undefined;
  getRemainingTimeInMillis(): number;
  done(error?: unknown, result?: unknown): void;
  succeed(result?: unknown): void;
  fail(error?: unknown): void;
}

export type LambdaCallback = (error?: unknown, result?: unknown) => void;

export type Completion =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: unknown };

/**
 * Runs a function once the event loop holds nothing but the sandbox's own message ports, which is
 * what the runtime's `beforeExit` listener observes in a real execution environment. One slot, as in
 * the runtime: setting it again replaces the pending function.
 */
export class EmptyEventLoopWatcher {
  private pending: (() => void) | undefined;
  private polling = false;

  /** @param baseline resources reported from inside a timer callback with nothing else pending. */
  constructor(private readonly baseline: number) {}

  /** Counts what keeps the event loop alive, leaving out message ports (the sandbox's own channel). */
  static activeResources(): number {
    let n = 0;
    for (const resource of process.getActiveResourcesInfo()) if (resource !== 'MessagePort') n++;
    return n;
  }

  /** Measures the baseline: what a polling timer sees of itself. Call before loading user code. */
  static calibrate(): Promise<EmptyEventLoopWatcher> {
    return new Promise((resolve) => {
      setTimeout(() => resolve(new EmptyEventLoopWatcher(EmptyEventLoopWatcher.activeResources())), 0);
    });
  }

  set(fn: () => void): void {
    this.pending = fn;
    if (!this.polling) {
      this.polling = true;
      setTimeout(() => this.poll(), 0);
    }
  }

  reset(): void {
    this.pending = undefined;
  }

  private poll(): void {
    if (this.pending === undefined) {
      this.polling = false;
      return;
    }
    if (EmptyEventLoopWatcher.activeResources() > this.baseline) {
      setTimeout(() => this.poll(), 1);
      return;
    }
    const fn = this.pending;
    this.pending = undefined;
    this.polling = false;
    fn();
  }
}

export interface InvocationInput {
  readonly requestId: string;
  readonly deadlineMs: number;
  readonly functionArn: string;
  readonly env: NodeJS.ProcessEnv;
  readonly watcher: EmptyEventLoopWatcher;
  /** Called exactly once with the outcome of the invocation. */
  readonly complete: (completion: Completion) => void;
}

export interface Invocation {
  readonly context: LambdaContext;
  readonly callback: LambdaCallback;
  /** For handlers that return something other than a promise: complete with null when the loop empties. */
  readonly completeWithNullWhenIdle: () => void;
  /** For handlers that return a promise: its settlement completes the invocation (first call wins). */
  readonly settleWith: (promise: PromiseLike<unknown>) => void;
}

export function buildInvocation(input: InvocationInput): Invocation {
  const { watcher } = input;
  let finished = false;
  let waitForEmptyEventLoop = true;

  const complete = (completion: Completion): void => input.complete(completion);
  const firstCallOnly =
    <A extends unknown[]>(fn: (...args: A) => void) =>
    (...args: A): void => {
      if (finished) return;
      finished = true;
      fn(...args);
    };

  const done = firstCallOnly((error?: unknown, result?: unknown) => {
    watcher.reset();
    if (error !== undefined && error !== null) complete({ ok: false, error });
    else complete({ ok: true, value: result });
  });
  const callback = firstCallOnly((error?: unknown, result?: unknown) => {
    watcher.reset();
    if (error !== undefined && error !== null) complete({ ok: false, error });
    else if (!waitForEmptyEventLoop) complete({ ok: true, value: result });
    else watcher.set(() => complete({ ok: true, value: result }));
  });
  const succeed = (result?: unknown): void => done(null, result);
  const fail = (error?: unknown): void => {
    if (error === undefined || error === null) done('handled');
    else done(error, null);
  };

  const env = input.env;
  const deadlineMs = input.deadlineMs;
  const context: LambdaContext = {
    get callbackWaitsForEmptyEventLoop() {
      return waitForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value: boolean) {
      waitForEmptyEventLoop = value;
    },
    functionName: env.AWS_LAMBDA_FUNCTION_NAME ?? '',
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
    invokedFunctionArn: input.functionArn,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '',
    awsRequestId: input.requestId,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME ?? '',
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME ?? '',
    identity: undefined,
    clientContext: undefined,
    getRemainingTimeInMillis: () => deadlineMs - Date.now(),
    done,
    succeed,
    fail,
  };

  return {
    context,
    callback,
    completeWithNullWhenIdle: () => {
      if (!finished) watcher.set(() => done(null, null));
    },
    settleWith: (promise) => {
      promise.then(succeed, fail);
    },
  };
}

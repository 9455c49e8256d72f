/**
 * Messages between a LocalFunction (parent thread) and one of its sandboxes (a worker thread).
 * Everything crosses as structured clones of plain data; events and results cross as JSON strings,
 * as they do between the Lambda service and a runtime.
 */

/** A function error as Lambda's sync Invoke reports it (`trace` is `error.stack` split in lines). */
export interface ErrorShape {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: readonly string[];
}

/** What a sandbox needs to start: given as `workerData`. */
export interface SandboxData {
  /** Directory holding the function's code (Lambda's /var/task). */
  readonly taskRoot: string;
  /** Handler string, e.g. `index.handler` or `dist/app.handler`. */
  readonly handler: string;
  readonly functionArn: string;
  /** Apply `--enable-source-maps` found in NODE_OPTIONS (a worker can't take NODE_OPTIONS itself). */
  readonly enableSourceMaps: boolean;
}

export interface InvokeMessage {
  readonly t: 'invoke';
  readonly requestId: string;
  /** The event as JSON. */
  readonly event: string;
  /** Epoch milliseconds at which the invocation times out. */
  readonly deadlineMs: number;
  /** Value of `_X_AMZN_TRACE_ID` for this invocation. */
  readonly traceId: string;
}

export type ParentMessage = InvokeMessage;

export type WorkerMessage =
  | { readonly t: 'log'; readonly fd: 1 | 2; readonly text: string }
  | { readonly t: 'ready'; readonly initMs: number }
  | { readonly t: 'initError'; readonly error: ErrorShape }
  | {
      readonly t: 'result';
      readonly requestId: string;
      readonly ok: true;
      /** The handler's result as JSON (`null` for `undefined`). */
      readonly payload: string;
      readonly durationMs: number;
      readonly heapBytes: number;
    }
  | {
      readonly t: 'result';
      readonly requestId: string;
      readonly ok: false;
      readonly error: ErrorShape;
      readonly durationMs: number;
      readonly heapBytes: number;
    }
  /** Sent just before the sandbox exits on an uncaught exception or unhandled rejection. */
  | { readonly t: 'fatal'; readonly error: ErrorShape; readonly exitCode: number };

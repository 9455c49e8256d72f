import { randomBytes } from 'node:crypto';

/** The managed runtime the sandboxes stand for (PlatformFunction picks the newest Node.js runtime). */
export const LAMBDA_RUNTIME = 'nodejs22.x';

export const DEFAULT_REGION = 'us-east-1';
export const DEFAULT_ACCOUNT_ID = '000000000000';

/** Variables taken from the parent process when the function's own environment does not set them. */
const PASSED_THROUGH = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const;
const PASSED_THROUGH_PREFIX = 'AWS_ENDPOINT_URL';

export interface SandboxIdentity {
  readonly functionName: string;
  readonly memoryMb: number;
  readonly handler: string;
  readonly region: string;
  readonly taskRoot: string;
  readonly logStreamName: string;
}

/**
 * The environment of one execution environment, as Lambda builds it: the function's variables, the
 * reserved variables Lambda sets itself (they win: Lambda rejects functions that define them), and
 * for the local cloud the parent's credentials and endpoint overrides where the function sets none.
 */
export function lambdaEnvironment(
  functionEnv: Readonly<Record<string, string>>,
  sandbox: SandboxIdentity,
  parentEnv: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {
    PATH: parentEnv.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    // Lambda sets LOG_ERROR; nothing listens for segments here, so stay quiet. Traces are not sampled
    // (Sampled=0), so the X-Ray SDK sends nothing to this address anyway.
    AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
    AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:2000',
  };
  for (const [key, value] of Object.entries(parentEnv)) {
    if (value === undefined) continue;
    if ((PASSED_THROUGH as readonly string[]).includes(key) || key.startsWith(PASSED_THROUGH_PREFIX)) {
      env[key] = value;
    }
  }
  if (env.AWS_ACCESS_KEY_ID === undefined) {
    // Lambda always hands a function its role's credentials; the emulator accepts any.
    env.AWS_ACCESS_KEY_ID = 'test';
    env.AWS_SECRET_ACCESS_KEY = 'test';
  }
  Object.assign(env, functionEnv);
  Object.assign(env, {
    AWS_LAMBDA_FUNCTION_NAME: sandbox.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(sandbox.memoryMb),
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${sandbox.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: sandbox.logStreamName,
    AWS_REGION: sandbox.region,
    AWS_DEFAULT_REGION: sandbox.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${LAMBDA_RUNTIME}`,
    LAMBDA_TASK_ROOT: sandbox.taskRoot,
    _HANDLER: sandbox.handler,
  });
  return env;
}

/** A log stream name as Lambda makes them: `2024/05/01/[$LATEST]<32 hex digits>`. */
export function newLogStreamName(now = new Date()): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[$LATEST]${randomBytes(16).toString('hex')}`;
}

/** A fresh, unsampled X-Ray trace header, as Lambda puts in `_X_AMZN_TRACE_ID` for each invocation. */
export function newTraceHeader(nowMs = Date.now()): string {
  const bytes = randomBytes(20).toString('hex');
  const epoch = Math.floor(nowMs / 1000)
    .toString(16)
    .padStart(8, '0');
  return `Root=1-${epoch}-${bytes.slice(0, 24)};Parent=${bytes.slice(24, 40)};Sampled=0`;
}

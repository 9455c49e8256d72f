/**
 * A small client of the RabbitMQ management HTTP API (`/api/...`), over the global `fetch`, with
 * basic auth: what the definitions custom resource needs (vhosts, exchanges, queues, bindings,
 * users, permissions). Declarations are PUTs and bindings POSTs, idempotent as the API is: an
 * identical redeclaration is a no-op, a different one is refused (400, "inequivalent arg").
 * Deletions answer whether something was deleted: an item already gone is not an error.
 *
 * Every error is a {@link RabbitMqManagementError} with the HTTP status and RabbitMQ's `reason`.
 * Network failures and 502/503/504 are retried a few times (a broker that just became available).
 */
import type { ArgumentValue } from '../domain/definitions.js';
import { argumentsKey } from '../domain/definitions.js';

export interface ManagementClientOptions {
  /** e.g. `https://b-1234.mq.eu-west-1.amazonaws.com` or `http://127.0.0.1:15672` (no `/api`). */
  readonly baseUrl: string;
  readonly username: string;
  readonly password: string;
  /** Per request. @default 10_000 */
  readonly timeoutMs?: number;
  /** Attempts for a network failure or a 502/503/504. @default 3 */
  readonly attempts?: number;
}

export class RabbitMqManagementError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    /** 0 when no HTTP answer came (network failure, timeout). */
    readonly status: number,
    /** RabbitMQ's `reason` (e.g. "inequivalent arg 'durable' for exchange ..."), or the failure. */
    readonly reason: string,
  ) {
    super(
      `RabbitMQ management API: ${method} ${path} ${status > 0 ? `answered ${status}` : 'failed'}: ${reason}`,
    );
    this.name = 'RabbitMqManagementError';
  }
}

export interface Permissions {
  /** Regular expressions of resource names: `''` or `'^$'` matches nothing, `'.*'` everything. */
  readonly configure: string;
  readonly write: string;
  readonly read: string;
}

export interface ExchangeDeclaration {
  readonly name: string;
  readonly type: string;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly internal: boolean;
  readonly arguments: Readonly<Record<string, ArgumentValue>>;
}

export interface QueueDeclaration {
  readonly name: string;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  /** All of the queue's arguments, `x-queue-type` included. */
  readonly arguments: Readonly<Record<string, ArgumentValue>>;
}

export interface BindingSpec {
  readonly source: string;
  readonly destination: string;
  readonly destinationType: 'queue' | 'exchange';
  readonly routingKey: string;
  readonly arguments: Readonly<Record<string, unknown>>;
}

/** The fields of `GET /api/queues/{vhost}` used here (the API returns many more). */
export interface QueueInfo {
  readonly name: string;
  readonly vhost: string;
  readonly type?: string;
  readonly durable: boolean;
  readonly auto_delete: boolean;
  readonly arguments: Record<string, unknown>;
  readonly messages?: number;
}

export interface ExchangeInfo {
  readonly name: string;
  readonly vhost: string;
  readonly type: string;
  readonly durable: boolean;
  readonly auto_delete: boolean;
  readonly internal: boolean;
  readonly arguments: Record<string, unknown>;
}

export interface BindingInfo {
  readonly source: string;
  readonly vhost: string;
  readonly destination: string;
  readonly destination_type: 'queue' | 'exchange';
  readonly routing_key: string;
  readonly arguments: Record<string, unknown>;
  readonly properties_key: string;
}

export interface PermissionInfo extends Permissions {
  readonly user: string;
  readonly vhost: string;
}

export interface Overview {
  readonly rabbitmq_version?: string;
  readonly cluster_name?: string;
  readonly [key: string]: unknown;
}

const RETRIED_STATUSES = new Set([502, 503, 504]);
const seg = encodeURIComponent;
const DEST = { queue: 'q', exchange: 'e' } as const;

export class RabbitMqManagementClient {
  private readonly base: string;
  private readonly authorization: string;
  private readonly timeoutMs: number;
  private readonly attempts: number;

  constructor(options: ManagementClientOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '');
    this.authorization = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.attempts = Math.max(1, options.attempts ?? 3);
  }

  /** Sends one request; `allow404` turns a 404 into `undefined` instead of an error. */
  private async request<T>(
    method: 'GET' | 'PUT' | 'POST' | 'DELETE',
    path: string,
    body?: unknown,
    allow404 = false,
  ): Promise<{ status: number; value: T | undefined }> {
    let lastError: RabbitMqManagementError | undefined;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      if (attempt > 1) await new Promise((r) => setTimeout(r, 250 * 2 ** (attempt - 2)));
      let response: Response;
      try {
        response = await fetch(`${this.base}${path}`, {
          method,
          headers: {
            authorization: this.authorization,
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (error) {
        const cause = (error as Error & { cause?: { code?: string } }).cause?.code;
        lastError = new RabbitMqManagementError(
          method,
          path,
          0,
          `${(error as Error).message}${cause ? ` (${cause})` : ''}`,
        );
        continue;
      }
      const text = await response.text();
      if (response.ok) return { status: response.status, value: text ? (JSON.parse(text) as T) : undefined };
      if (response.status === 404 && allow404) return { status: 404, value: undefined };
      lastError = new RabbitMqManagementError(
        method,
        path,
        response.status,
        reasonOf(text, response.statusText),
      );
      if (!RETRIED_STATUSES.has(response.status)) throw lastError;
    }
    throw lastError as RabbitMqManagementError;
  }

  private async get<T>(path: string): Promise<T> {
    return (await this.request<T>('GET', path)).value as T;
  }

  /** `GET /api/overview`: the broker's version, cluster name, totals. */
  overview(): Promise<Overview> {
    return this.get<Overview>('/api/overview');
  }

  async vhostExists(vhost: string): Promise<boolean> {
    return (await this.request('GET', `/api/vhosts/${seg(vhost)}`, undefined, true)).status !== 404;
  }

  /**
   * Creates the vhost unless it exists (an existing vhost is left as it is: a PUT would reset its
   * description and tags). The management API grants its creator full permissions on it.
   * Returns whether it was created.
   */
  async ensureVhost(vhost: string): Promise<boolean> {
    if (await this.vhostExists(vhost)) return false;
    await this.request('PUT', `/api/vhosts/${seg(vhost)}`, {});
    return true;
  }

  /** Deletes the vhost and everything in it. */
  async deleteVhost(vhost: string): Promise<boolean> {
    return (await this.request('DELETE', `/api/vhosts/${seg(vhost)}`, undefined, true)).status !== 404;
  }

  async declareExchange(vhost: string, exchange: ExchangeDeclaration): Promise<void> {
    await this.request('PUT', `/api/exchanges/${seg(vhost)}/${seg(exchange.name)}`, {
      type: exchange.type,
      durable: exchange.durable,
      auto_delete: exchange.autoDelete,
      internal: exchange.internal,
      arguments: exchange.arguments,
    });
  }

  async declareQueue(vhost: string, queue: QueueDeclaration): Promise<void> {
    await this.request('PUT', `/api/queues/${seg(vhost)}/${seg(queue.name)}`, {
      durable: queue.durable,
      auto_delete: queue.autoDelete,
      arguments: queue.arguments,
    });
  }

  /** Creates the binding (an identical one already there stays the only one). */
  async bind(vhost: string, binding: BindingSpec): Promise<void> {
    await this.request('POST', bindingsPath(vhost, binding), {
      routing_key: binding.routingKey,
      arguments: binding.arguments,
    });
  }

  /**
   * Removes the binding with this routing key and arguments. The API deletes a binding by its
   * `properties_key`, so the bindings between source and destination are listed first. Returns
   * false when there was no such binding (or no such source, destination or vhost).
   */
  async unbind(vhost: string, binding: BindingSpec): Promise<boolean> {
    const path = bindingsPath(vhost, binding);
    const listed = await this.request<BindingInfo[]>('GET', path, undefined, true);
    const wanted = argumentsKey(binding.arguments);
    const found = (listed.value ?? []).filter(
      (b) => b.routing_key === binding.routingKey && argumentsKey(b.arguments) === wanted,
    );
    let removed = false;
    for (const b of found) {
      const out = await this.request('DELETE', `${path}/${seg(b.properties_key)}`, undefined, true);
      removed ||= out.status !== 404;
    }
    return removed;
  }

  async deleteQueue(vhost: string, name: string): Promise<boolean> {
    return (
      (await this.request('DELETE', `/api/queues/${seg(vhost)}/${seg(name)}`, undefined, true)).status !== 404
    );
  }

  async deleteExchange(vhost: string, name: string): Promise<boolean> {
    return (
      (await this.request('DELETE', `/api/exchanges/${seg(vhost)}/${seg(name)}`, undefined, true)).status !==
      404
    );
  }

  listQueues(vhost: string): Promise<QueueInfo[]> {
    return this.get<QueueInfo[]>(`/api/queues/${seg(vhost)}`);
  }

  listExchanges(vhost: string): Promise<ExchangeInfo[]> {
    return this.get<ExchangeInfo[]>(`/api/exchanges/${seg(vhost)}`);
  }

  listBindings(vhost: string): Promise<BindingInfo[]> {
    return this.get<BindingInfo[]>(`/api/bindings/${seg(vhost)}`);
  }

  /** Creates the user or updates its password and tags (e.g. `['management']`; none by default). */
  async ensureUser(name: string, password: string, tags: readonly string[] = []): Promise<void> {
    await this.request('PUT', `/api/users/${seg(name)}`, { password, tags: tags.join(',') });
  }

  async userExists(name: string): Promise<boolean> {
    return (await this.request('GET', `/api/users/${seg(name)}`, undefined, true)).status !== 404;
  }

  async deleteUser(name: string): Promise<boolean> {
    return (await this.request('DELETE', `/api/users/${seg(name)}`, undefined, true)).status !== 404;
  }

  async setPermissions(vhost: string, user: string, permissions: Permissions): Promise<void> {
    await this.request('PUT', `/api/permissions/${seg(vhost)}/${seg(user)}`, {
      configure: permissions.configure,
      write: permissions.write,
      read: permissions.read,
    });
  }

  async clearPermissions(vhost: string, user: string): Promise<boolean> {
    return (
      (await this.request('DELETE', `/api/permissions/${seg(vhost)}/${seg(user)}`, undefined, true))
        .status !== 404
    );
  }

  /** The user's permissions on every vhost (empty when the user does not exist). */
  async userPermissions(user: string): Promise<PermissionInfo[]> {
    return (
      (await this.request<PermissionInfo[]>('GET', `/api/users/${seg(user)}/permissions`, undefined, true))
        .value ?? []
    );
  }
}

/** `/api/bindings/{vhost}/e/{source}/q|e/{destination}` */
function bindingsPath(vhost: string, b: BindingSpec): string {
  return `/api/bindings/${seg(vhost)}/e/${seg(b.source)}/${DEST[b.destinationType]}/${seg(b.destination)}`;
}

/** RabbitMQ answers `{error, reason}`; anything else is reported as it came. */
function reasonOf(text: string, statusText: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown; reason?: unknown };
    if (typeof body.reason === 'string') return body.reason;
    if (typeof body.error === 'string') return body.error;
  } catch {
    // not JSON
  }
  return text.trim().slice(0, 500) || statusText;
}

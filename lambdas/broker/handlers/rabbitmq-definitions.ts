/**
 * Custom resource `Custom::RabbitMqDefinitions`: applies a broker's definitions (one vhost:
 * exchanges, queues, bindings) through the RabbitMQ management API at deploy, keeps them in step
 * on every update, and removes them on delete.
 *
 * Properties (CloudFormation passes every scalar as a string):
 * - `ManagementUrl`: the management API's base URL (`https://b-....mq.<region>.amazonaws.com`).
 * - `AdminSecretArn`: a secret `{username, password}` of an administrator.
 * - `AppUserSecretArn` (optional): a secret `{username, password}` of the application user, created
 *   or updated here with, on the vhost, `configure: '^$'` (it cannot declare, redeclare or delete
 *   anything: the definitions are the only source of the topology; it may still declare passively,
 *   i.e. check, and use direct reply-to), and `write: '.*'`, `read: '.*'` (publish to every
 *   exchange, consume from every queue).
 * - `Definitions`: {@link BrokerDefinitions}.
 * - `AllowRecreate` (optional, `'true'`): let an update delete and redeclare an exchange or queue
 *   whose immutable properties changed (a recreated queue loses its messages); refused otherwise.
 *
 * The physical id is `<management URL>|<vhost>`: another broker or vhost is a replacement, so an
 * update declares everything there and CloudFormation's Delete of the old resource (with the old
 * properties) removes the old items afterwards; a rollback never finds the old ones gone. Delete
 * removes bindings, queues and exchanges, the application user's permissions (and the user, when
 * it has none left elsewhere), and the vhost when it is not `/` and nothing else is left in it.
 * A Delete for a resource whose Create failed (not one of our physical ids) does nothing.
 */
import { type Credentials, readCredentials } from '../../commons/clients/secrets-manager.js';
import { customResource } from '../../commons/custom-resource.js';
import { logger } from '../../commons/powertools.js';
import {
  type Permissions,
  RabbitMqManagementClient,
  RabbitMqManagementError,
} from '../adapters/rabbitmq-management.js';
import {
  type BrokerDefinitions,
  type DefinitionsPlan,
  emptyDefinitions,
  fromCloudFormation,
  planDefinitions,
  type ResolvedDefinitions,
  toQueueArguments,
} from '../domain/definitions.js';

export interface RabbitMqDefinitionsProperties {
  readonly ManagementUrl: string;
  readonly AdminSecretArn: string;
  readonly AppUserSecretArn?: string;
  readonly Definitions: BrokerDefinitions | string;
  readonly AllowRecreate?: string | boolean;
  /** Echoed as the `AmqpEndpoint` attribute: a string other stacks can reference (the broker's own attribute is a list). */
  readonly AmqpEndpoint?: string;
}

/** The application user: publish and consume, never (re)declare or delete. */
export const APP_USER_PERMISSIONS: Permissions = { configure: '^$', write: '.*', read: '.*' };

/** Declarations and deletions run this many at a time within one step. */
const CONCURRENCY = 8;

/** `https://host` without a trailing slash, the scheme and host lower-cased: one broker, one spelling. */
export function normalizeManagementUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

export const physicalIdFor = (managementUrl: string, vhost: string): string =>
  `${normalizeManagementUrl(managementUrl)}|${vhost}`;

/** Runs `work` on every item, `CONCURRENCY` at a time; the first failure fails the step. */
async function each<T>(items: readonly T[], work: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += CONCURRENCY) {
    await Promise.all(items.slice(i, i + CONCURRENCY).map(work));
  }
}

/** Adds the item and vhost to a management API error (which already carries RabbitMQ's reason). */
function step<T>(what: string, work: () => Promise<T>): Promise<T> {
  return work().catch((error: unknown) => {
    const reason =
      error instanceof RabbitMqManagementError ? `${error.status} ${error.reason}` : String(error);
    throw new Error(`${what}: ${reason}`, { cause: error });
  });
}

/**
 * Applies a plan: deletes bindings, queues, exchanges (in `deleteFrom`), then declares exchanges,
 * queues, bindings (in `vhost`, which must exist). Deleting what is already gone is not an error.
 */
export async function applyPlan(client: RabbitMqManagementClient, plan: DefinitionsPlan): Promise<void> {
  const from = plan.deleteFrom;
  const into = plan.vhost;
  await each(plan.deleteBindings, (b) =>
    step(`unbinding "${b.source}" -> "${b.destination}" ("${b.routingKey}") in vhost "${from}"`, () =>
      client.unbind(from, b),
    ),
  );
  await each(plan.deleteQueues, (q) =>
    step(`deleting queue "${q.name}" in vhost "${from}"`, () => client.deleteQueue(from, q.name)),
  );
  await each(plan.deleteExchanges, (e) =>
    step(`deleting exchange "${e.name}" in vhost "${from}"`, () => client.deleteExchange(from, e.name)),
  );
  await each(plan.declareExchanges, (e) =>
    step(`declaring exchange "${e.name}" in vhost "${into}"`, () => client.declareExchange(into, e)),
  );
  await each(plan.declareQueues, (q) =>
    step(`declaring queue "${q.name}" in vhost "${into}"`, () =>
      client.declareQueue(into, {
        name: q.name,
        durable: q.durable,
        autoDelete: q.autoDelete,
        arguments: toQueueArguments(q),
      }),
    ),
  );
  await each(plan.createBindings, (b) =>
    step(
      `binding "${b.source}" -> ${b.destinationType} "${b.destination}" ("${b.routingKey}") in vhost "${into}"`,
      () => client.bind(into, b),
    ),
  );
}

/** Nothing but the default and `amq.*` exchanges, and no queue: a vhost we may delete. */
async function vhostIsEmpty(client: RabbitMqManagementClient, vhost: string): Promise<boolean> {
  const [queues, exchanges] = await Promise.all([client.listQueues(vhost), client.listExchanges(vhost)]);
  return queues.length === 0 && exchanges.every((e) => e.name === '' || e.name.startsWith('amq.'));
}

/** Takes the user's permissions on the vhost away, and the user when it has none left (never the admin). */
async function revokeAppUser(
  client: RabbitMqManagementClient,
  admin: Credentials,
  user: string,
  vhost: string,
): Promise<void> {
  if (user === admin.username) return;
  await step(`revoking the permissions of "${user}" on vhost "${vhost}"`, () =>
    client.clearPermissions(vhost, user),
  );
  const left = await client.userPermissions(user);
  if (left.length === 0) {
    await step(`deleting user "${user}"`, () => client.deleteUser(user));
    logger.info('Application user deleted', { user });
  }
}

async function remove(
  client: RabbitMqManagementClient,
  admin: Credentials,
  definitions: ResolvedDefinitions,
  appUserSecretArn: string | undefined,
): Promise<void> {
  const { vhost } = definitions;
  if (await client.vhostExists(vhost)) {
    const plan = planDefinitions(definitions, emptyDefinitions(vhost));
    await applyPlan(client, plan);
    logger.info('RabbitMQ definitions removed', { vhost, warnings: plan.warnings });
  }
  if (appUserSecretArn) {
    const app = await readCredentials(appUserSecretArn).catch((error: unknown) => {
      // The secret may be deleted already; the user's permissions then go with the vhost.
      logger.warn('Application user secret unreadable: user left as it is', { error: String(error) });
      return undefined;
    });
    if (app) await revokeAppUser(client, admin, app.username, vhost);
  }
  if (vhost !== '/' && (await client.vhostExists(vhost)) && (await vhostIsEmpty(client, vhost))) {
    await step(`deleting vhost "${vhost}"`, () => client.deleteVhost(vhost));
    logger.info('Vhost deleted', { vhost });
  }
}

const flag = (v: unknown): boolean => v === true || v === 'true';

export const handler = customResource<RabbitMqDefinitionsProperties>(async (request) => {
  const props = request.ResourceProperties;

  if (request.RequestType === 'Delete') {
    // A failed Create answered with a placeholder id: nothing of ours exists under it.
    if (!request.PhysicalResourceId?.includes('|')) {
      logger.info('Nothing to delete for a resource that was never created', {
        physicalResourceId: request.PhysicalResourceId,
      });
      return { physicalResourceId: request.PhysicalResourceId ?? `${request.LogicalResourceId}-none` };
    }
    // As deployed: deleting must not fail on a rule added since.
    const current = fromCloudFormation(props.Definitions, { validate: false });
    const admin = await readCredentials(props.AdminSecretArn);
    const client = new RabbitMqManagementClient({ baseUrl: props.ManagementUrl, ...admin });
    await remove(client, admin, current, props.AppUserSecretArn);
    return {
      physicalResourceId: request.PhysicalResourceId,
      data: { VirtualHost: current.vhost, AmqpEndpoint: String(props.AmqpEndpoint ?? '') },
    };
  }

  const next = fromCloudFormation(props.Definitions);
  const physicalResourceId = physicalIdFor(props.ManagementUrl, next.vhost);
  const old = request.RequestType === 'Update' ? request.OldResourceProperties : undefined;
  // Another broker or vhost is a replacement: its old items are CloudFormation's Delete's to remove.
  const replacing = request.RequestType === 'Create' || request.PhysicalResourceId !== physicalResourceId;
  const previous = !replacing && old ? fromCloudFormation(old.Definitions, { validate: false }) : undefined;
  // Planned before touching the broker: a refused change leaves it as it was.
  const plan = planDefinitions(previous, next, { allowRecreate: flag(props.AllowRecreate) });

  const admin = await readCredentials(props.AdminSecretArn);
  const app = props.AppUserSecretArn ? await readCredentials(props.AppUserSecretArn) : undefined;
  if (app && app.username === admin.username) {
    throw new Error(`the application user must not be the administrator ("${admin.username}")`);
  }
  const client = new RabbitMqManagementClient({ baseUrl: props.ManagementUrl, ...admin });

  const created = await step(`creating vhost "${next.vhost}"`, () => client.ensureVhost(next.vhost));
  await applyPlan(client, plan);
  if (app) {
    await step(`creating user "${app.username}"`, () => client.ensureUser(app.username, app.password));
    await step(`granting "${app.username}" its permissions on vhost "${next.vhost}"`, () =>
      client.setPermissions(next.vhost, app.username, APP_USER_PERMISSIONS),
    );
  }
  // The application user changed in place: the previous one loses its rights here.
  if (!replacing && old?.AppUserSecretArn && old.AppUserSecretArn !== props.AppUserSecretArn) {
    const before = await readCredentials(old.AppUserSecretArn).catch(() => undefined);
    if (before && before.username !== app?.username)
      await revokeAppUser(client, admin, before.username, next.vhost);
  }

  logger.info('RabbitMQ definitions applied', {
    vhost: next.vhost,
    vhostCreated: created,
    exchanges: plan.declareExchanges.length,
    queues: plan.declareQueues.length,
    bindings: plan.createBindings.length,
    deleted: {
      bindings: plan.deleteBindings.length,
      queues: plan.deleteQueues.map((q) => q.name),
      exchanges: plan.deleteExchanges.map((e) => e.name),
    },
    recreated: plan.recreated,
    warnings: plan.warnings,
  });
  return {
    physicalResourceId,
    data: { VirtualHost: next.vhost, AmqpEndpoint: String(props.AmqpEndpoint ?? '') },
  };
});

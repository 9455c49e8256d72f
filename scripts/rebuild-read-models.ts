/**
 * Rebuilds the read models from the event store: clears the view tables, then replays every
 * aggregate's stream through the same projections and version guard as the live projector (which
 * may keep running: it waits on gaps until the replay has caught up).
 *
 *   npm run rebuild-read-models                                   # the local cloud of `npm start`
 *   npx cdk deploy --all -c stage=prod --outputs-file outputs.json
 *   npm run rebuild-read-models -- --outputs-file outputs.json --stage prod --view orders
 *
 * Table names come from the Services stack's outputs (`cdk deploy --outputs-file`, or the file
 * `npm start` writes); credentials and region from the usual AWS SDK configuration.
 */
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbEventStore } from '../lambdas/commons/event-store/dynamodb-event-store.js';
import { DynamoDbViewStore } from '../lambdas/commons/projection/dynamodb-view-store.js';
import { rebuildViews } from '../lambdas/commons/projection/rebuild.js';
import type { ProjectionTarget } from '../lambdas/commons/projection/stream-projector.js';
import { type CustomerView, customerViewProjection } from '../lambdas/customers/read-model/customer-view.js';
import { CUSTOMERS_VIEW_KEY } from '../lambdas/customers/read-model/table-schema.js';
import { type OrderView, orderViewProjection } from '../lambdas/orders/read-model/order-view.js';
import { ORDERS_VIEW_KEY } from '../lambdas/orders/read-model/table-schema.js';
import { readStackOutputs, type StackOutputs, useEndpointFor } from './lib/stack-outputs.js';
import { LOCAL_OUTPUTS_FILE } from './local-cloud/runtime.js';

const { values } = parseArgs({
  options: {
    'outputs-file': { type: 'string', default: LOCAL_OUTPUTS_FILE },
    stage: { type: 'string', default: 'dev' },
    view: { type: 'string', default: 'all' },
    'no-clear': { type: 'boolean', default: false },
    concurrency: { type: 'string', default: '8' },
  },
});

function fail(message: string): never {
  process.stderr.write(`rebuild-read-models: ${message}\n`);
  process.exit(2);
}

const views = values.view === 'all' ? ['orders', 'customers'] : [values.view];
if (!views.every((v) => v === 'orders' || v === 'customers')) fail('--view is orders, customers or all');
const concurrency = Number(values.concurrency);
if (!Number.isInteger(concurrency) || concurrency < 1) fail('--concurrency is a positive integer');

const file = values['outputs-file'];
let services: StackOutputs;
try {
  services = readStackOutputs(file, values.stage, 'Services');
} catch (error) {
  fail((error as Error).message);
}
const output = (key: string): string => {
  try {
    return services.output(key);
  } catch (error) {
    return fail((error as Error).message);
  }
};
useEndpointFor(file);

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});
const store = new DynamoDbEventStore({ client: doc, tableName: output('EventStoreTableName') });
const targets: { name: string; target: ProjectionTarget; views: DynamoDbViewStore<object> }[] = [];
if (views.includes('orders')) {
  const orders = new DynamoDbViewStore<OrderView>({
    client: doc,
    tableName: output('OrdersViewTableName'),
    keyName: ORDERS_VIEW_KEY,
  });
  targets.push({
    name: 'orders',
    target: { projection: orderViewProjection, store: orders } as ProjectionTarget,
    views: orders,
  });
}
if (views.includes('customers')) {
  const customers = new DynamoDbViewStore<CustomerView>({
    client: doc,
    tableName: output('CustomersViewTableName'),
    keyName: CUSTOMERS_VIEW_KEY,
  });
  targets.push({
    name: 'customers',
    target: { projection: customerViewProjection, store: customers } as ProjectionTarget,
    views: customers,
  });
}

const started = performance.now();
if (!values['no-clear']) {
  for (const { name, views: table } of targets) {
    process.stderr.write(`cleared ${await table.clear()} ${name} view(s)\n`);
  }
}
let lastReport = 0;
const report = await rebuildViews({
  aggregateIds: store.scanAggregateIds(),
  loadEvents: async (id) => (await store.load(id)).events,
  targets: targets.map((t) => t.target),
  concurrency,
  onProgress: (progress) => {
    if (performance.now() - lastReport < 2000) return;
    lastReport = performance.now();
    process.stderr.write(`… ${progress.aggregates} aggregates, ${progress.events} events\n`);
  },
});
const seconds = (performance.now() - started) / 1000;
process.stdout.write(
  `${JSON.stringify({ ...report, views, seconds: Number(seconds.toFixed(2)) }, null, 2)}\n`,
);
if (report.invalid.length > 0) process.exit(1);

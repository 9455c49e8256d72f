import { ArnFormat, Aws, CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ANALYTICS_TOPICS } from '../../lambdas/analytics/domain/activity.js';
import type { StageConfig } from '../config/stage-config.js';
import { EventStoreStreamConsumer } from '../constructs/event-store-stream-consumer.js';
import { PlatformFunction } from '../constructs/platform-function.js';
import { PlatformRestApi } from '../constructs/platform-rest-api.js';
import { scheduleFunction } from '../constructs/schedule.js';
import { lambdaEntry } from '../lambda-entry.js';
import type { AnalyticsStack } from './analytics-stack.js';
import type { DataStack } from './data-stack.js';
import type { FulfilmentStack } from './fulfilment-stack.js';
import { alarmNamePrefixOf, alertTopicArn } from './observability-stack.js';

export interface ServicesStackProps extends StackProps {
  readonly config: StageConfig;
  readonly data: DataStack;
  readonly fulfilment: FulfilmentStack;
  readonly analytics: AnalyticsStack;
}

type Access = 'append' | 'orders' | 'customers' | 'idempotency' | 'inventory';

interface RouteSpec {
  readonly id: string;
  readonly method: string;
  readonly path: string;
  readonly entry: string;
  readonly service: 'orders' | 'customers' | 'inventory';
  readonly access: readonly Access[];
  readonly description: string;
  /** The body is a required JSON object. */
  readonly body?: true;
}

/** The order and customer routes of the public interface (PLATFORM.md). */
const ROUTES: readonly RouteSpec[] = [
  {
    id: 'PlaceOrder',
    body: true,
    method: 'POST',
    path: '/orders',
    entry: 'orders/handlers/place-order.ts',
    service: 'orders',
    access: ['append', 'idempotency'],
    description: 'POST /orders: places an order (Idempotency-Key aware)',
  },
  {
    id: 'GetOrder',
    method: 'GET',
    path: '/orders/{orderId}',
    entry: 'orders/handlers/get-order.ts',
    service: 'orders',
    access: ['orders'],
    description: 'GET /orders/{orderId}: the order read model',
  },
  {
    id: 'CancelOrder',
    method: 'POST',
    path: '/orders/{orderId}/cancel',
    entry: 'orders/handlers/cancel-order.ts',
    service: 'orders',
    access: ['append'],
    description: 'POST /orders/{orderId}/cancel',
  },
  {
    id: 'ListCustomerOrders',
    method: 'GET',
    path: '/customers/{customerId}/orders',
    entry: 'orders/handlers/list-customer-orders.ts',
    service: 'orders',
    access: ['orders'],
    description: "GET /customers/{customerId}/orders: a customer's orders, newest first",
  },
  {
    id: 'RegisterCustomer',
    body: true,
    method: 'POST',
    path: '/customers',
    entry: 'customers/handlers/register-customer.ts',
    service: 'customers',
    access: ['append'],
    description: 'POST /customers: registers a customer',
  },
  {
    id: 'FindCustomers',
    method: 'GET',
    path: '/customers',
    entry: 'customers/handlers/find-customers.ts',
    service: 'customers',
    access: ['customers'],
    description: 'GET /customers?emailDomain=&active=',
  },
  {
    id: 'GetCustomer',
    method: 'GET',
    path: '/customers/{customerId}',
    entry: 'customers/handlers/get-customer.ts',
    service: 'customers',
    access: ['customers'],
    description: 'GET /customers/{customerId}: the customer read model',
  },
  {
    id: 'ChangeCustomerEmail',
    body: true,
    method: 'PUT',
    path: '/customers/{customerId}/email',
    entry: 'customers/handlers/change-customer-email.ts',
    service: 'customers',
    access: ['append'],
    description: 'PUT /customers/{customerId}/email',
  },
  {
    id: 'DeactivateCustomer',
    method: 'POST',
    path: '/customers/{customerId}/deactivate',
    entry: 'customers/handlers/deactivate-customer.ts',
    service: 'customers',
    access: ['append'],
    description: 'POST /customers/{customerId}/deactivate',
  },
  {
    id: 'ReactivateCustomer',
    method: 'POST',
    path: '/customers/{customerId}/reactivate',
    entry: 'customers/handlers/reactivate-customer.ts',
    service: 'customers',
    access: ['append'],
    description: 'POST /customers/{customerId}/reactivate',
  },
  {
    id: 'PutStock',
    body: true,
    method: 'PUT',
    path: '/inventory/{sku}',
    entry: 'inventory/handlers/put-stock.ts',
    service: 'inventory',
    access: ['inventory'],
    description: 'PUT /inventory/{sku}: sets the available stock of a SKU',
  },
];

/**
 * Stateless compute of the order and customer services: one function per route behind the REST
 * API (each with only the access its route needs), and the projector that feeds the read models
 * from the event store's stream.
 */
export class ServicesStack extends Stack {
  readonly api: PlatformRestApi;
  readonly projector: EventStoreStreamConsumer;
  readonly routeFunctions: Readonly<Record<string, PlatformFunction>>;
  /** GET /health, also run every minute: reads the alarms and probes, announces status changes. */
  readonly health: PlatformFunction;
  /** Every alarm of the stage is named `<prefix>-...` (the Observability stack creates them). */
  readonly alarmNamePrefix: string;

  constructor(scope: Construct, id: string, props: ServicesStackProps) {
    super(scope, id, props);
    const { config, data } = props;
    const logRetention = config.logRetentionDays as logs.RetentionDays;

    this.api = new PlatformRestApi(this, 'Api', {
      userPool: data.users.userPool,
      throttleRateLimit: config.api.throttleRateLimit,
      throttleBurstLimit: config.api.throttleBurstLimit,
      waf: config.api.waf,
      wafRateLimitPer5Min: config.api.wafRateLimitPer5Min,
      accessLogRetention: logRetention,
    });

    const environmentOf = (access: readonly Access[]): Record<string, string> => ({
      ...(access.includes('append')
        ? {
            EVENT_STORE_TABLE_NAME: data.eventStore.table.tableName,
            SNAPSHOT_EVERY: String(config.eventStore.snapshotEvery),
          }
        : {}),
      ...(access.includes('orders') ? { ORDERS_VIEW_TABLE_NAME: data.ordersView.table.tableName } : {}),
      ...(access.includes('customers')
        ? { CUSTOMERS_VIEW_TABLE_NAME: data.customersView.table.tableName }
        : {}),
      ...(access.includes('inventory') ? { INVENTORY_TABLE_NAME: data.inventory.table.tableName } : {}),
      ...(access.includes('idempotency')
        ? {
            IDEMPOTENCY_TABLE_NAME: data.idempotency.table.tableName,
            IDEMPOTENCY_TTL_SECONDS: String(config.idempotencyTtlSeconds),
          }
        : {}),
    });

    const functions: Record<string, PlatformFunction> = {};
    for (const route of ROUTES) {
      const fn = new PlatformFunction(this, route.id, {
        entry: lambdaEntry(route.entry),
        serviceName: route.service,
        description: route.description,
        timeout: Duration.seconds(10),
        logRetention,
        environment: environmentOf(route.access),
      });
      if (route.access.includes('append')) data.eventStore.grantAppend(fn.function);
      if (route.access.includes('orders')) data.ordersView.grantQuery(fn.function);
      if (route.access.includes('customers')) data.customersView.grantQuery(fn.function);
      if (route.access.includes('idempotency')) data.idempotency.table.grantReadWriteData(fn.function);
      if (route.access.includes('inventory')) {
        data.inventory.encryptionKey.grantEncryptDecrypt(fn.function);
        iam.Grant.addToPrincipal({
          grantee: fn.function,
          actions: ['dynamodb:PutItem'],
          resourceArns: [data.inventory.table.tableArn],
        });
      }
      this.api.addRoute(route.method, route.path, fn.function, { jsonObjectBody: route.body });
      functions[route.id] = fn;
    }

    // POST /orders?wait=inventory: request-reply with the inventory service.
    const placeOrder = functions.PlaceOrder as PlatformFunction;
    const { stockCheckRequests, stockCheckReplies } = props.fulfilment;
    placeOrder.addEnvironment('STOCK_CHECK_REQUEST_QUEUE_URL', stockCheckRequests.queue.queueUrl);
    placeOrder.addEnvironment('STOCK_CHECK_REPLY_QUEUE_URL', stockCheckReplies.queue.queueUrl);
    stockCheckRequests.queue.grantSendMessages(placeOrder.function);
    stockCheckReplies.queue.grantConsumeMessages(placeOrder.function);

    // Analytics: ingest to Kafka, and the windowed results in Redis. Both run in the VPC.
    const { analytics } = props;
    const ingest = analytics.analyticsFunction(
      'IngestEvents',
      {
        entry: lambdaEntry('analytics/handlers/ingest-events.ts'),
        serviceName: 'analytics',
        description: 'POST /events: validates activity events and produces them to user_activity',
        timeout: Duration.seconds(10),
      },
      this,
    );
    analytics.grantProduce(ingest, [ANALYTICS_TOPICS.userActivity]);
    this.api.addRoute('POST', '/events', ingest.function, { jsonObjectBody: true });
    functions.IngestEvents = ingest;
    const userAnalytics = analytics.analyticsFunction(
      'GetUserAnalytics',
      {
        entry: lambdaEntry('analytics/handlers/get-user-analytics.ts'),
        serviceName: 'analytics',
        description: "GET /analytics/users/{userId}: a user's closed windows",
        timeout: Duration.seconds(10),
      },
      this,
    );
    analytics.grantReadResults(userAnalytics);
    this.api.addRoute('GET', '/analytics/users/{userId}', userAnalytics.function);
    functions.GetUserAnalytics = userAnalytics;

    this.projector = new EventStoreStreamConsumer(this, 'ReadModelProjector', {
      table: data.eventStore.table,
      batchSize: config.projection.batchSize,
      maxBatchingWindow: Duration.seconds(config.projection.maxBatchingWindowSeconds),
      retryAttempts: config.projection.retryAttempts,
      parallelizationFactor: config.projection.parallelizationFactor,
      functionProps: {
        entry: lambdaEntry('read-models/handlers/project-event-store-stream.ts'),
        serviceName: 'read-models',
        description: 'Projects the event store stream into the orders and customers read models',
        timeout: Duration.seconds(30),
        logRetention,
        environment: {
          ORDERS_VIEW_TABLE_NAME: data.ordersView.table.tableName,
          CUSTOMERS_VIEW_TABLE_NAME: data.customersView.table.tableName,
        },
      },
    });
    data.ordersView.grantProject(this.projector.handler.function);
    data.customersView.grantProject(this.projector.handler.function);
    data.eventStore.encryptionKey.grantDecrypt(this.projector.handler.function);

    // Health: GET /health reads the stage's alarms (by name prefix) and a few live probes; the same
    // function runs every minute, publishes the result as a metric and announces status changes
    // on the alert topic (by name: the Observability stack, deployed after this one, creates it).
    this.alarmNamePrefix = alarmNamePrefixOf(config);
    this.health = new PlatformFunction(this, 'HealthCheck', {
      entry: lambdaEntry('observability/handlers/health-check.ts'),
      serviceName: 'health',
      description:
        'GET /health and the scheduled health check: alarms and probes, healthy/degraded/unhealthy',
      timeout: Duration.seconds(10),
      logRetention,
      environment: {
        STAGE: config.stage,
        ALARM_NAME_PREFIX: this.alarmNamePrefix,
        ALERT_TOPIC_ARN: alertTopicArn(this.alarmNamePrefix),
        EVENT_STORE_TABLE_NAME: data.eventStore.table.tableName,
        OPERATIONAL_STATE_TABLE_NAME: data.operationalState.table.tableName,
      },
    });
    const alarmsArn = this.formatArn({
      service: 'cloudwatch',
      resource: 'alarm',
      resourceName: `${this.alarmNamePrefix}-*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.health.function.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: [alarmsArn] }),
    );
    const healthPolicy = this.health.role.node.tryFindChild('DefaultPolicy');
    if (healthPolicy) {
      const pattern = alarmsArn
        .replaceAll(Aws.ACCOUNT_ID, '<AWS::AccountId>')
        .replaceAll(Aws.REGION, '<AWS::Region>')
        .replaceAll(Aws.PARTITION, '<AWS::Partition>');
      Validations.of(healthPolicy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${pattern}]`,
        reason:
          "The health check lists the stage's alarms by their name prefix: cloudwatch:DescribeAlarms on the alarms named <prefix>-*, which the Observability stack creates after this one.",
      });
    }
    this.health.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:DescribeTable'],
        resources: [data.eventStore.table.tableArn],
      }),
    );
    this.health.function.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [alertTopicArn(this.alarmNamePrefix)] }),
    );
    data.operationalState.table.grantReadWriteData(this.health.function);
    this.api.addRoute('GET', '/health', this.health.function);
    functions.HealthCheck = this.health;
    scheduleFunction(this, 'HealthSchedule', this.health.function, {
      every: Duration.minutes(1),
      description: 'Runs the health check every minute',
      nextTickDoes: 'checks again',
    });

    this.routeFunctions = functions;
    new CfnOutput(this, 'ApiUrl', { value: this.api.api.url, description: 'Base URL of the REST API' });
    new CfnOutput(this, 'UserPoolId', { value: data.users.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: data.users.client.userPoolClientId });
    new CfnOutput(this, 'EventStoreTableName', { value: data.eventStore.table.tableName });
    new CfnOutput(this, 'OrdersViewTableName', { value: data.ordersView.table.tableName });
    new CfnOutput(this, 'CustomersViewTableName', { value: data.customersView.table.tableName });
    new CfnOutput(this, 'InventoryTableName', { value: data.inventory.table.tableName });
    new CfnOutput(this, 'ProjectorFailureQueueUrl', { value: this.projector.failureQueue.queueUrl });
  }
}

import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { ANALYTICS_TOPICS } from '../../lambdas/analytics/domain/activity.js';
import { SHIPMENT_CONFIRMATIONS_QUEUE } from '../../lambdas/broker/domain/order-routing.js';
import {
  EMAIL_TEMPLATES,
  NOTIFYING_EVENTS,
  type NotifyingEvent,
  templateName,
} from '../../lambdas/notifications/domain/emails.js';
import { ORDER_EVENT_TYPES } from '../../lambdas/orders/domain/order.js';
import type { StageConfig } from '../config/stage-config.js';
import { ClaimCheckBucket, claimCheckBucketName } from '../constructs/claim-check-bucket.js';
import { EventStoreStreamConsumer } from '../constructs/event-store-stream-consumer.js';
import { FanoutTopic } from '../constructs/fanout-topic.js';
import { PlatformFunction } from '../constructs/platform-function.js';
import { QueueWithDlq } from '../constructs/queue-with-dlq.js';
import { scheduleFunction } from '../constructs/schedule.js';
import { lambdaEntry } from '../lambda-entry.js';
import { SUBNET_GROUPS } from '../network/platform-network.js';
import type { AnalyticsStack } from './analytics-stack.js';
import type { BrokerStack } from './broker-stack.js';
import type { DataStack } from './data-stack.js';

export interface FulfilmentStackProps extends StackProps {
  readonly config: StageConfig;
  readonly data: DataStack;
  /** Where the analytics consumer bridges purchases to (Kafka). */
  readonly analytics: AnalyticsStack;
  /** Where order events are bridged to, and shipment confirmations come from (RabbitMQ). */
  readonly broker: BrokerStack;
}

export type FulfilmentService =
  | 'inventory'
  | 'payment'
  | 'shipping'
  | 'notification'
  | 'analytics'
  | 'broker';

interface ServiceSpec {
  readonly entry: string;
  /** The event types its subscription lets through: the SNS form of a topic-exchange routing key. */
  readonly eventTypes: readonly string[];
  readonly description: string;
  /** Runs in the VPC (to reach Kafka, Redis or RabbitMQ). */
  readonly inVpc?: true;
}

/** Which events each consuming service needs (and nothing else reaches it). */
export const SUBSCRIPTIONS: Readonly<Record<FulfilmentService, ServiceSpec>> = {
  inventory: {
    entry: 'inventory/handlers/inventory-consumer.ts',
    eventTypes: ['OrderPlaced', 'OrderCancelled', 'PaymentFailed'],
    description: 'Reserves and releases stock; records the reservation on the order',
  },
  payment: {
    entry: 'payments/handlers/payment-consumer.ts',
    eventTypes: ['InventoryReserved'],
    description: 'Charges reserved orders behind a shared circuit breaker',
  },
  shipping: {
    entry: 'shipping/handlers/shipping-consumer.ts',
    eventTypes: ['PaymentCompleted'],
    description: 'Ships paid orders',
  },
  notification: {
    entry: 'notifications/handlers/notification-consumer.ts',
    // The events the notification service renders, so filter and handler cannot drift apart.
    eventTypes: Object.keys(NOTIFYING_EVENTS),
    description: 'Queues one e-mail per notifying event (Redis priority queue), then sends the queue',
    inVpc: true,
  },
  analytics: {
    entry: 'analytics/handlers/analytics-consumer.ts',
    eventTypes: ORDER_EVENT_TYPES,
    description: 'Counts order events as metrics; bridges purchases to Kafka',
    inVpc: true,
  },
  broker: {
    entry: 'broker/handlers/order-events-bridge.ts',
    eventTypes: ORDER_EVENT_TYPES,
    description: 'Bridges order events to the RabbitMQ order_events exchange (order.<area>.<action>)',
    inVpc: true,
  },
};

/** A consumer's timeout; its queue's visibility timeout is six times it. */
const CONSUMER_TIMEOUT = Duration.seconds(20);

/**
 * Order fulfilment: the outbox relay from the event store's stream to the `order-events` topic,
 * and one queue (with its DLQ) and consumer per service, each subscribed with a filter policy.
 */
export class FulfilmentStack extends Stack {
  readonly orderEvents: FanoutTopic;
  readonly outbox: EventStoreStreamConsumer;
  readonly queues: Readonly<Record<FulfilmentService, QueueWithDlq>>;
  readonly consumers: Readonly<Record<FulfilmentService, PlatformFunction>>;
  /** Request-reply: stock-check requests (from POST /orders?wait=inventory) and their replies. */
  readonly stockCheckRequests: QueueWithDlq;
  readonly stockCheckReplies: QueueWithDlq;
  readonly stockCheckResponder: PlatformFunction;
  /** Sends the e-mail queue every minute (what the notification consumers left). */
  readonly emailDispatcher: PlatformFunction;
  /** The Amazon MQ event source's function: the warehouse's confirmations into the order flow. */
  readonly shipmentConfirmations: PlatformFunction;

  constructor(scope: Construct, id: string, props: FulfilmentStackProps) {
    super(scope, id, props);
    const { config, data } = props;
    const f = config.fulfilment;
    const logRetention = config.logRetentionDays as logs.RetentionDays;

    // Granted by name: no cross-stack token in the ARN (see ClaimCheckBucket).
    const claimChecks = claimCheckBucketName(config.stage);
    this.orderEvents = new FanoutTopic(this, 'OrderEvents');
    this.outbox = new EventStoreStreamConsumer(this, 'Outbox', {
      table: data.eventStore.table,
      batchSize: config.projection.batchSize,
      retryAttempts: config.projection.retryAttempts,
      parallelizationFactor: 1,
      functionProps: {
        entry: lambdaEntry('outbox/handlers/publish-event-store-stream.ts'),
        serviceName: 'outbox',
        description: 'Relays every stored event to the order-events topic',
        timeout: Duration.seconds(30),
        logRetention,
        environment: {
          ORDER_EVENTS_TOPIC_ARN: this.orderEvents.topic.topicArn,
          CLAIM_CHECK_BUCKET: claimChecks,
          CLAIM_CHECK_THRESHOLD_BYTES: String(f.claimCheckThresholdBytes),
        },
      },
    });
    ClaimCheckBucket.grantPut(this.outbox.handler, claimChecks);
    this.orderEvents.topic.grantPublish(this.outbox.handler.function);
    data.eventStore.encryptionKey.grantDecrypt(this.outbox.handler.function);

    const queues = {} as Record<FulfilmentService, QueueWithDlq>;
    const consumers = {} as Record<FulfilmentService, PlatformFunction>;
    for (const [service, spec] of Object.entries(SUBSCRIPTIONS) as [FulfilmentService, ServiceSpec][]) {
      const id = service.charAt(0).toUpperCase() + service.slice(1);
      const queue = new QueueWithDlq(this, `${id}Queue`, {
        maxReceiveCount: f.maxReceiveCount[service],
        consumerTimeout: CONSUMER_TIMEOUT,
      });
      this.orderEvents.subscribeQueue(queue, {
        filterPolicy: { eventType: sns.SubscriptionFilter.stringFilter({ allowlist: [...spec.eventTypes] }) },
      });
      const fn = new PlatformFunction(this, `${id}Consumer`, {
        entry: lambdaEntry(spec.entry),
        serviceName: service,
        description: spec.description,
        timeout: CONSUMER_TIMEOUT,
        logRetention,
        ...(spec.inVpc
          ? { vpc: props.analytics.vpc, vpcSubnets: { subnetGroupName: SUBNET_GROUPS.app } }
          : {}),
        environment: {
          DEAD_LETTER_QUEUE_URL: queue.deadLetterQueue.queueUrl,
          MAX_RECEIVE_COUNT: String(queue.maxReceiveCount),
          IDEMPOTENCY_TABLE_NAME: data.idempotency.table.tableName,
          IDEMPOTENCY_TTL_SECONDS: String(config.idempotencyTtlSeconds),
          CLAIM_CHECK_BUCKET: claimChecks,
        },
      });
      ClaimCheckBucket.grantRead(fn, claimChecks);
      // A dead letter too large for SQS keeps its body whole behind the claim check.
      ClaimCheckBucket.grantPut(fn, claimChecks);
      queue.addConsumer(fn.function, { batchSize: 10, maxBatchingWindow: Duration.seconds(0) });
      queue.deadLetterQueue.grantSendMessages(fn.function);
      data.idempotency.table.grantReadWriteData(fn.function);
      queues[service] = queue;
      consumers[service] = fn;
    }
    this.queues = queues;
    this.consumers = consumers;

    const appendOrders = (fn: PlatformFunction) => {
      fn.addEnvironment('EVENT_STORE_TABLE_NAME', data.eventStore.table.tableName);
      fn.addEnvironment('SNAPSHOT_EVERY', String(config.eventStore.snapshotEvery));
      data.eventStore.grantAppend(fn.function);
    };
    const useState = (fn: PlatformFunction) => {
      fn.addEnvironment('OPERATIONAL_STATE_TABLE_NAME', data.operationalState.table.tableName);
      fn.addEnvironment('BREAKER_FAILURE_THRESHOLD', String(f.breakerFailureThreshold));
      fn.addEnvironment('BREAKER_OPEN_SECONDS', String(f.breakerOpenSeconds));
      data.operationalState.table.grantReadWriteData(fn.function);
    };

    appendOrders(consumers.inventory);
    consumers.inventory.addEnvironment('INVENTORY_TABLE_NAME', data.inventory.table.tableName);
    data.inventory.table.grantReadWriteData(consumers.inventory.function);

    appendOrders(consumers.payment);
    useState(consumers.payment);
    consumers.payment.addEnvironment('PAYMENT_PROVIDER', f.paymentProvider);
    if (f.paymentProvider === 'http' && f.paymentProviderUrl) {
      consumers.payment.addEnvironment('PAYMENT_PROVIDER_URL', f.paymentProviderUrl);
    }

    appendOrders(consumers.shipping);
    consumers.shipping.addEnvironment('SHIPPING_CARRIER', f.shippingCarrier);

    // E-mails: rendered by the consumer onto the Redis priority queue (transactional above bulk),
    // sent by whoever drains it: the consumer after its batch, and a dispatcher every minute.
    const notification = consumers.notification;
    notification.addEnvironment('ORDERS_VIEW_TABLE_NAME', data.ordersView.table.tableName);
    notification.addEnvironment('CUSTOMERS_VIEW_TABLE_NAME', data.customersView.table.tableName);
    data.ordersView.grantQuery(notification.function);
    data.customersView.grantQuery(notification.function);
    this.emailDispatcher = new PlatformFunction(this, 'EmailDispatcher', {
      entry: lambdaEntry('notifications/handlers/email-dispatcher.ts'),
      serviceName: 'notification',
      description: 'Sends queued e-mails, transactional before bulk (every minute)',
      timeout: Duration.seconds(55),
      logRetention,
      vpc: props.analytics.vpc,
      vpcSubnets: { subnetGroupName: SUBNET_GROUPS.app },
    });
    scheduleFunction(this, 'EmailDispatchSchedule', this.emailDispatcher.function, {
      every: Duration.minutes(1),
      description: 'Sends what is left in the e-mail queue',
      nextTickDoes: 'sends what is left (the e-mails stay in the Redis queue meanwhile)',
    });
    const emailSenders = [notification, this.emailDispatcher];
    for (const sender of emailSenders) {
      useState(sender);
      props.analytics.redis.grantConnect(sender.function);
      sender.addEnvironment('EMAIL_PROVIDER', f.emailProvider);
      sender.addEnvironment('EMAIL_QUEUE_NAME', 'notifications:emails');
      sender.addEnvironment('EMAIL_QUEUE_VISIBILITY_SECONDS', String(f.emailQueue.visibilitySeconds));
      sender.addEnvironment('EMAIL_QUEUE_MAX_ATTEMPTS', String(f.emailQueue.maxAttempts));
    }
    // Purchases to the analytics stream: the customer comes from the orders read model.
    const analyticsConsumer = consumers.analytics;
    props.analytics.grantProduce(analyticsConsumer, [ANALYTICS_TOPICS.userActivity]);
    analyticsConsumer.addEnvironment('ORDERS_VIEW_TABLE_NAME', data.ordersView.table.tableName);
    data.ordersView.grantQuery(analyticsConsumer.function);

    // RabbitMQ: order events out to the order_events exchange, shipment confirmations back in.
    const { rabbit } = props.broker;
    rabbit.grantConnect(consumers.broker.function);
    this.shipmentConfirmations = new PlatformFunction(this, 'ShipmentConfirmations', {
      entry: lambdaEntry('broker/handlers/shipment-confirmations.ts'),
      serviceName: 'shipping',
      description: "Records the warehouse's shipment confirmations on the orders (Amazon MQ event source)",
      timeout: Duration.seconds(30),
      logRetention,
      vpc: props.broker.rabbit.vpc,
      vpcSubnets: { subnetGroupName: SUBNET_GROUPS.app },
    });
    appendOrders(this.shipmentConfirmations);
    rabbit.grantConnect(this.shipmentConfirmations.function);
    rabbit.addEventSource(this.shipmentConfirmations.function, {
      queue: SHIPMENT_CONFIRMATIONS_QUEUE,
      batchSize: 10,
      maxBatchingWindow: Duration.seconds(1),
    });

    // One SES template per notifying event, from the single definition the handler renders with.
    const templatePrefix = this.stackName;
    const templates = (Object.keys(EMAIL_TEMPLATES) as NotifyingEvent[]).map((type) => {
      const name = templateName(templatePrefix, type);
      new ses.CfnTemplate(this, `EmailTemplate${type}`, {
        template: {
          templateName: name,
          subjectPart: EMAIL_TEMPLATES[type].subject,
          textPart: EMAIL_TEMPLATES[type].text,
        },
      });
      return this.formatArn({ service: 'ses', resource: 'template', resourceName: name });
    });
    for (const sender of emailSenders) {
      sender.addEnvironment('EMAIL_TEMPLATE_PREFIX', templatePrefix);
      if (f.emailProvider === 'ses' && f.emailFrom) {
        sender.addEnvironment('EMAIL_FROM', f.emailFrom);
        sender.function.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['ses:SendBulkTemplatedEmail'],
            resources: [
              this.formatArn({
                service: 'ses',
                resource: 'identity',
                resourceName: f.emailFrom.split('@')[1],
              }),
              ...templates,
            ],
          }),
        );
      }
    }

    // Request-reply. Replies live one minute: a reply nobody waits for any more just expires.
    this.stockCheckRequests = new QueueWithDlq(this, 'StockCheckRequests', {
      maxReceiveCount: 3,
      consumerTimeout: Duration.seconds(15),
    });
    this.stockCheckReplies = new QueueWithDlq(this, 'StockCheckReplies', {
      // Waiters put back replies they do not own, which counts as a receive.
      maxReceiveCount: 100,
      // Waiters receive with a 5 s visibility of their own (see awaitReply).
      consumerTimeout: Duration.seconds(5),
      queueProps: { retentionPeriod: Duration.seconds(60) },
    });
    this.stockCheckResponder = new PlatformFunction(this, 'StockCheckResponder', {
      entry: lambdaEntry('inventory/handlers/stock-check-responder.ts'),
      serviceName: 'inventory',
      description: 'Answers stock-check requests with the reservation result of an order',
      timeout: Duration.seconds(15),
      logRetention,
      environment: {
        EVENT_STORE_TABLE_NAME: data.eventStore.table.tableName,
        SNAPSHOT_EVERY: String(config.eventStore.snapshotEvery),
        DEAD_LETTER_QUEUE_URL: this.stockCheckRequests.deadLetterQueue.queueUrl,
        // Retries end in the DLQ with the last error as the reason, not through SQS's redrive.
        MAX_RECEIVE_COUNT: String(this.stockCheckRequests.maxReceiveCount),
        // The only queue a request may name as its replyTo.
        REPLY_QUEUE_URL: this.stockCheckReplies.queue.queueUrl,
      },
    });
    this.stockCheckRequests.addConsumer(this.stockCheckResponder.function, { batchSize: 10 });
    this.stockCheckRequests.deadLetterQueue.grantSendMessages(this.stockCheckResponder.function);
    this.stockCheckReplies.queue.grantSendMessages(this.stockCheckResponder.function);
    data.eventStore.grantLoad(this.stockCheckResponder.function);

    new CfnOutput(this, 'OrderEventsTopicArn', { value: this.orderEvents.topic.topicArn });
    for (const [service, queue] of Object.entries(queues)) {
      new CfnOutput(this, `${service}DeadLetterQueueUrl`, { value: queue.deadLetterQueue.queueUrl });
      new CfnOutput(this, `${service}QueueUrl`, { value: queue.queue.queueUrl });
    }
  }
}

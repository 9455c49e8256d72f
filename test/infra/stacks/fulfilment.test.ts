import type { CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { EMAIL_TEMPLATES, templateName } from '../../../lambdas/notifications/domain/emails.js';
import {
  loadStageConfig,
  STAGE_NAMES,
  type StageConfig,
  type StageName,
} from '../../../lib/config/stage-config.js';
import { buildPlatform } from '../../../lib/platform.js';
import { type FulfilmentService, SUBSCRIPTIONS } from '../../../lib/stacks/fulfilment-stack.js';
import { actionsOf, getAttId, nagFindings, newApp, resourcesOf, type Statement } from '../helpers.js';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Resources = Record<string, Resource>;

const SERVICES = Object.keys(SUBSCRIPTIONS) as FulfilmentService[];
/** Services that record outcomes on orders (append to the event store). */
const APPENDERS: readonly FulfilmentService[] = ['inventory', 'payment', 'shipping'];
/** Services that only read events: they must never write to the event store. */
const READERS: readonly FulfilmentService[] = ['notification', 'analytics', 'broker'];
/** DynamoDB actions that change items. */
const DYNAMODB_WRITES = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:TransactWriteItems',
];

const pascal = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

function synthStage(stage: StageName, override?: (config: StageConfig) => StageConfig) {
  const app = newApp();
  const loaded = loadStageConfig(stage);
  const config = override ? override(loaded) : loaded;
  const platform = buildPlatform(app, config);
  const stack = platform.fulfilment;
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Resources;
  const ofType = (type: string): [string, Resource][] =>
    Object.entries(resources).filter(([, r]) => r.Type === type);
  const idOf = (construct: IConstruct): string =>
    stack.getLogicalId(construct.node.defaultChild as CfnElement);

  /** Every statement the role of a function is given, inline or through attached policies. */
  const statementsOfFunction = (functionId: string): Statement[] => {
    const roleId = getAttId(resources[functionId]?.Properties.Role);
    expect(roleId, functionId).toBeDefined();
    const inline = (
      (resources[roleId ?? '']?.Properties.Policies ?? []) as { PolicyDocument: unknown }[]
    ).map((p) => p.PolicyDocument);
    const attached = ofType('AWS::IAM::Policy')
      .filter(([, p]) => (p.Properties.Roles as { Ref?: string }[]).some((r) => r.Ref === roleId))
      .map(([, p]) => p.Properties.PolicyDocument);
    return [...inline, ...attached].flatMap((doc) => (doc as { Statement: Statement[] }).Statement);
  };

  return { app, config, platform, stack, template, resources, ofType, idOf, statementsOfFunction };
}

describe.each(STAGE_NAMES)('the fulfilment stack of the %s stage', (stage) => {
  const { app, config, platform, template, resources, ofType, idOf, statementsOfFunction } =
    synthStage(stage);
  const fulfilment = platform.fulfilment;
  const topicId = idOf(fulfilment.orderEvents.topic);
  const queues = ofType('AWS::SQS::Queue');
  const queueIds = new Set(queues.map(([id]) => id));
  const sqsMappings = ofType('AWS::Lambda::EventSourceMapping').filter(([, m]) =>
    queueIds.has(getAttId(m.Properties.EventSourceArn) ?? ''),
  );

  /** The work queue of a service, found by its logical id (`InventoryQueue1A2B3C4D`). */
  const workQueueOf = (service: FulfilmentService): [string, Resource] => {
    const pattern = new RegExp(`^${pascal(service)}Queue[0-9A-F]{8}$`);
    const matches = queues.filter(([id]) => pattern.test(id));
    expect(matches, service).toHaveLength(1);
    return matches[0] as [string, Resource];
  };

  /** The function that consumes a queue, through its event source mapping. */
  const consumerOf = (queueId: string): [string, Resource] => {
    const mappings = sqsMappings.filter(([, m]) => getAttId(m.Properties.EventSourceArn) === queueId);
    expect(mappings, queueId).toHaveLength(1);
    const functionId = (mappings[0]?.[1].Properties.FunctionName as { Ref?: string } | undefined)?.Ref ?? '';
    const fn = resources[functionId];
    expect(fn?.Type, queueId).toBe('AWS::Lambda::Function');
    return [functionId, fn as Resource];
  };

  it('has no unacknowledged cdk-nag finding (AwsSolutions and Serverless)', () => {
    expect(nagFindings(app)).toEqual([]);
  });

  it('has one work queue, one SQS mapping and one consumer per subscribing service', () => {
    // The services of SUBSCRIPTIONS: the five of the design, and the bridge to RabbitMQ.
    expect([...SERVICES].sort()).toEqual([
      'analytics',
      'broker',
      'inventory',
      'notification',
      'payment',
      'shipping',
    ]);
    for (const service of SERVICES) {
      const [queueId] = workQueueOf(service);
      expect(queueId, service).toBe(idOf(fulfilment.queues[service].queue));
      const [functionId] = consumerOf(queueId);
      expect(functionId, service).toBe(idOf(fulfilment.consumers[service].function));
    }
    // … plus the stock-check responder of request-reply, on the request queue.
    // (The shipment confirmations come from an Amazon MQ mapping, not SQS.)
    expect(sqsMappings).toHaveLength(SERVICES.length + 1);
    const [responderId] = consumerOf(idOf(fulfilment.stockCheckRequests.queue));
    expect(responderId).toBe(idOf(fulfilment.stockCheckResponder.function));
  });

  it('keeps request-reply replies for one minute only, so that unclaimed replies expire', () => {
    const replies = queues.find(([id]) => id === idOf(fulfilment.stockCheckReplies.queue));
    expect(replies?.[1].Properties.MessageRetentionPeriod).toBe(60);
    expect(replies?.[1].Properties.RedrivePolicy).toBeDefined();
  });

  it('reports batch item failures on every SQS event source mapping', () => {
    expect(sqsMappings.length).toBeGreaterThan(0);
    for (const [id, mapping] of sqsMappings) {
      expect(mapping.Properties.FunctionResponseTypes, id).toEqual(['ReportBatchItemFailures']);
    }
  });

  it("redrives every work queue to its DLQ after the stage's maxReceiveCount of its service", () => {
    // GIVEN the queues that are some redrive's dead-letter target or a failure destination
    const deadLetterTargets = new Set<string>();
    for (const [, r] of [...queues, ...ofType('AWS::SNS::Subscription')]) {
      const target = getAttId(
        (r.Properties.RedrivePolicy as { deadLetterTargetArn?: unknown })?.deadLetterTargetArn,
      );
      if (target) deadLetterTargets.add(target);
    }
    for (const [, m] of ofType('AWS::Lambda::EventSourceMapping')) {
      const target = getAttId(
        (m.Properties.DestinationConfig as { OnFailure?: { Destination?: unknown } })?.OnFailure?.Destination,
      );
      if (target) deadLetterTargets.add(target);
    }
    // THEN every other queue is the work queue of exactly one service, or one of request-reply's
    const workQueues = queues.filter(([id]) => !deadLetterTargets.has(id)).map(([id]) => id);
    const requestReply = [fulfilment.stockCheckRequests.queue, fulfilment.stockCheckReplies.queue].map(idOf);
    expect(workQueues.sort()).toEqual([...SERVICES.map((s) => workQueueOf(s)[0]), ...requestReply].sort());

    // AND each redrives to its own DLQ after the configured number of receives
    for (const service of SERVICES) {
      const [, queue] = workQueueOf(service);
      expect(queue.Properties.RedrivePolicy, service).toEqual({
        deadLetterTargetArn: {
          'Fn::GetAtt': [idOf(fulfilment.queues[service].deadLetterQueue as IConstruct), 'Arn'],
        },
        maxReceiveCount: config.fulfilment.maxReceiveCount[service],
      });
    }
  });

  it("tells every consumer its queue's maxReceiveCount, so the last attempt dead-letters with a reason", () => {
    for (const service of SERVICES) {
      const [queueId] = workQueueOf(service);
      const [, fn] = consumerOf(queueId);
      const env = (fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables;
      expect(env?.MAX_RECEIVE_COUNT, service).toBe(String(config.fulfilment.maxReceiveCount[service]));
    }
  });

  it('tells the stock-check responder the one reply queue it may answer on, and its maxReceiveCount', () => {
    // GIVEN the responder WHEN a request names a replyTo THEN only this queue is allowed
    const fn = resources[idOf(fulfilment.stockCheckResponder.function)];
    const env = (fn?.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)
      ?.Variables;
    expect(env?.REPLY_QUEUE_URL).toEqual({ Ref: idOf(fulfilment.stockCheckReplies.queue) });
    expect(env?.MAX_RECEIVE_COUNT).toBe(String(fulfilment.stockCheckRequests.maxReceiveCount));
  });

  it('lets every consumer keep an oversized dead letter behind the claim check (PutObject on its prefix)', () => {
    for (const service of SERVICES) {
      const [queueId] = workQueueOf(service);
      const [fnId] = consumerOf(queueId);
      const puts = statementsOfFunction(fnId).filter((s) => actionsOf(s).includes('s3:PutObject'));
      expect(puts.length, service).toBe(1);
      expect(JSON.stringify(puts[0]?.Resource), service).toContain('/events/*');
    }
  });

  it("keeps every work queue's visibility timeout at least six times its consumer's timeout", () => {
    for (const service of SERVICES) {
      const [queueId, queue] = workQueueOf(service);
      const [, fn] = consumerOf(queueId);
      const timeout = fn.Properties.Timeout as number;
      expect(typeof timeout, service).toBe('number');
      expect(queue.Properties.VisibilityTimeout, service).toBeGreaterThanOrEqual(6 * timeout);
    }
  });

  it('subscribes each queue to the OrderEvents topic with raw delivery, a DLQ and its event types only', () => {
    const subscriptions = ofType('AWS::SNS::Subscription').filter(
      ([, s]) => (s.Properties.TopicArn as { Ref?: string }).Ref === topicId,
    );
    expect(subscriptions).toHaveLength(SERVICES.length);
    for (const service of SERVICES) {
      const [queueId] = workQueueOf(service);
      const mine = subscriptions.filter(([, s]) => getAttId(s.Properties.Endpoint) === queueId);
      expect(mine, service).toHaveLength(1);
      const properties = mine[0]?.[1].Properties;
      expect(properties, service).toMatchObject({ Protocol: 'sqs', RawMessageDelivery: true });
      expect(properties?.RedrivePolicy, service).toEqual({
        deadLetterTargetArn: {
          'Fn::GetAtt': [idOf(fulfilment.queues[service].deadLetterQueue as IConstruct), 'Arn'],
        },
      });
      expect(properties?.FilterPolicy, service).toEqual({
        eventType: [...SUBSCRIPTIONS[service].eventTypes],
      });
    }
  });

  it('gives every subscription to the topic raw delivery, a redrive policy and an eventType filter', () => {
    // Any subscription (not only those of the services above) must keep the envelope-free contract.
    for (const [id, s] of ofType('AWS::SNS::Subscription')) {
      if ((s.Properties.TopicArn as { Ref?: string }).Ref !== topicId) continue;
      expect(s.Properties.RawMessageDelivery, id).toBe(true);
      expect(s.Properties.RedrivePolicy, id).toBeDefined();
      expect(Object.keys(s.Properties.FilterPolicy as object), id).toEqual(['eventType']);
    }
  });

  it('lets the outbox publish to the OrderEvents topic, and to nothing else', () => {
    // GIVEN the outbox function
    const outboxId = idOf(fulfilment.outbox.handler.function);
    const outbox = resources[outboxId];
    // THEN it knows the topic
    const environment = outbox?.Properties.Environment as { Variables?: Record<string, unknown> } | undefined;
    expect(environment?.Variables?.ORDER_EVENTS_TOPIC_ARN).toEqual({ Ref: topicId });
    // AND may publish to that topic only
    const sns = statementsOfFunction(outboxId).filter((s) =>
      actionsOf(s).some((a) => a.startsWith('sns:') || a === '*'),
    );
    expect(sns.length).toBeGreaterThan(0);
    for (const statement of sns) {
      expect(statement.Effect).toBe('Allow');
      expect(actionsOf(statement)).toEqual(['sns:Publish']);
      expect(resourcesOf(statement)).toEqual([{ Ref: topicId }]);
    }
  });

  it('lets no consumer publish to the topic', () => {
    for (const service of SERVICES) {
      const statements = statementsOfFunction(idOf(fulfilment.consumers[service].function));
      const publish = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('sns:') || a === '*'));
      expect(publish, service).toEqual([]);
    }
  });

  describe('access to the event store', () => {
    const eventStoreId = platform.data.getLogicalId(
      platform.data.eventStore.table.node.defaultChild as CfnElement,
    );
    // The table's ARN as another stack sees it (the output or export name ends `...<id>Arn<hash>`);
    // the stream ARN (`<id>StreamArn`) does not match.
    const tableArn = new RegExp(`FnGetAtt${eventStoreId}Arn`);
    const onEventStore = (statement: Statement): boolean =>
      resourcesOf(statement).some((r) => r === '*' || tableArn.test(JSON.stringify(r)));

    it.each(APPENDERS)('lets the %s consumer append to the event store', (service) => {
      const statements = statementsOfFunction(idOf(fulfilment.consumers[service].function)).filter(
        onEventStore,
      );
      const actions = statements.filter((s) => s.Effect === 'Allow').flatMap(actionsOf);
      expect(actions).toEqual(
        expect.arrayContaining(['dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:ConditionCheckItem']),
      );
    });

    it.each(READERS)('does not let the %s consumer write to the event store', (service) => {
      const statements = statementsOfFunction(idOf(fulfilment.consumers[service].function)).filter(
        (s) => s.Effect === 'Allow' && onEventStore(s),
      );
      const actions = statements.flatMap(actionsOf);
      expect(actions).not.toContain('dynamodb:PutItem');
      for (const write of DYNAMODB_WRITES) expect(actions).not.toContain(write);
      expect(actions.filter((a) => a === '*' || a === 'dynamodb:*')).toEqual([]);
    });

    it('was found by the table ARN pattern (the check above can fail)', () => {
      // The appenders' grants match the pattern, so a reader's grant would too.
      const matching = statementsOfFunction(idOf(fulfilment.consumers.inventory.function)).filter((s) =>
        resourcesOf(s).some((r) => tableArn.test(JSON.stringify(r))),
      );
      expect(matching.length).toBeGreaterThan(0);
    });
  });

  it('deploys one SES template per notifying event, from the definitions the handler renders with', () => {
    // GIVEN the templates the notification domain defines
    const names = Object.keys(EMAIL_TEMPLATES) as (keyof typeof EMAIL_TEMPLATES)[];
    // THEN each is an AWS::SES::Template named <stack>-<event type> with the same parts
    template.resourceCountIs('AWS::SES::Template', names.length);
    for (const type of names) {
      template.hasResourceProperties('AWS::SES::Template', {
        Template: {
          TemplateName: templateName(fulfilment.stackName, type),
          SubjectPart: EMAIL_TEMPLATES[type].subject,
          TextPart: EMAIL_TEMPLATES[type].text,
        },
      });
    }
    // AND the notification consumer is told the prefix
    const [, fn] = consumerOf(workQueueOf('notification')[0]);
    expect(
      (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables.EMAIL_TEMPLATE_PREFIX,
    ).toBe(fulfilment.stackName);
  });

  describe('the e-mail queue (Redis priority queue)', () => {
    const dispatcherId = idOf(fulfilment.emailDispatcher.function);
    const [consumerId] = consumerOf(workQueueOf('notification')[0]);
    const envOf = (id: string) =>
      (resources[id]?.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables ?? {};

    it('puts the notification consumer and the dispatcher in the VPC, with the Redis endpoint, its secret and the queue settings', () => {
      for (const id of [consumerId, dispatcherId]) {
        expect(resources[id]?.Properties.VpcConfig, id).toBeDefined();
        const env = envOf(id);
        expect(Object.keys(env), id).toEqual(
          expect.arrayContaining([
            'REDIS_HOST',
            'REDIS_PORT',
            'REDIS_AUTH_SECRET_ARN',
            'OPERATIONAL_STATE_TABLE_NAME',
          ]),
        );
        expect(env.EMAIL_QUEUE_NAME, id).toBe('notifications:emails');
        expect(env.EMAIL_QUEUE_VISIBILITY_SECONDS, id).toBe(
          String(config.fulfilment.emailQueue.visibilitySeconds),
        );
        expect(env.EMAIL_QUEUE_MAX_ATTEMPTS, id).toBe(String(config.fulfilment.emailQueue.maxAttempts));
        expect(env.EMAIL_TEMPLATE_PREFIX, id).toBe(fulfilment.stackName);
        // May read the Redis secret, and only that secret.
        const secretReads = statementsOfFunction(id).filter((st) =>
          actionsOf(st).includes('secretsmanager:GetSecretValue'),
        );
        expect(secretReads, id).toHaveLength(1);
      }
    });

    it('runs the dispatcher every minute, with no retries of a tick (the next tick does the same work)', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [dispatcherId, 'Arn'] },
            RetryPolicy: { MaximumRetryAttempts: 0 },
          }),
        ],
      });
      // The dispatcher's timeout stays under the schedule's period.
      expect(resources[dispatcherId]?.Properties.Timeout).toBeLessThan(60);
    });
  });

  it('matches the snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });
});

describe('the notification consumer with SES as provider', () => {
  // GIVEN the dev stage switched to SES with a sender
  const { resources, statementsOfFunction, platform } = synthStage('dev', (c) => ({
    ...c,
    fulfilment: { ...c.fulfilment, emailProvider: 'ses', emailFrom: 'orders@shop.example' },
  }));
  const functionId = platform.fulfilment.getLogicalId(
    platform.fulfilment.consumers.notification.function.node.defaultChild as CfnElement,
  );

  it('may send bulk templated e-mail from the sender domain with its own templates, and nothing else of SES', () => {
    const ses = statementsOfFunction(functionId).filter((s) =>
      actionsOf(s).some((a) => a.startsWith('ses:')),
    );
    expect(ses).toHaveLength(1);
    expect(actionsOf(ses[0] as Statement)).toEqual(['ses:SendBulkTemplatedEmail']);
    const resourcesText = JSON.stringify(resourcesOf(ses[0] as Statement));
    expect(resourcesText).toContain(':identity/shop.example');
    for (const type of Object.keys(EMAIL_TEMPLATES)) {
      expect(resourcesText).toContain(`:template/${platform.fulfilment.stackName}-${type}`);
    }
    expect(resourcesText).not.toContain('*');
  });

  it('tells the handler its sender', () => {
    const env =
      (resources[functionId]?.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables ?? {};
    expect(env.EMAIL_PROVIDER).toBe('ses');
    expect(env.EMAIL_FROM).toBe('orders@shop.example');
  });
});

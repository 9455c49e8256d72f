import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { loadStageConfig, STAGE_NAMES, type StageName } from '../../../lib/config/stage-config.js';
import { buildPlatform } from '../../../lib/platform.js';
import { methodsByRoute, nagFindings, newApp, newStack } from '../helpers.js';

function synthStage(stage: StageName) {
  const app = newApp();
  const platform = buildPlatform(app, loadStageConfig(stage));
  return {
    app,
    platform,
    network: Template.fromStack(platform.network),
    data: Template.fromStack(platform.data),
    services: Template.fromStack(platform.services),
  };
}

/**
 * The routes of PLATFORM.md, with the function (ServicesStack route id) that serves each and,
 * for queries, the read model it reads, for stock updates the table it writes; commands append to
 * the event store.
 */
const ROUTES: readonly {
  method: string;
  path: string;
  fn: string;
  reads?: string;
  /** GET /health: reads alarms, not the event store or read models. */
  health?: true;
  writes?: string;
  /** Kafka and Redis, in the VPC (analytics). */
  analytics?: true;
}[] = [
  { method: 'POST', path: '/orders', fn: 'PlaceOrder' },
  { method: 'GET', path: '/orders/{orderId}', fn: 'GetOrder', reads: 'OrdersViewTable' },
  { method: 'POST', path: '/orders/{orderId}/cancel', fn: 'CancelOrder' },
  {
    method: 'GET',
    path: '/customers/{customerId}/orders',
    fn: 'ListCustomerOrders',
    reads: 'OrdersViewTable',
  },
  { method: 'POST', path: '/customers', fn: 'RegisterCustomer' },
  { method: 'GET', path: '/customers', fn: 'FindCustomers', reads: 'CustomersViewTable' },
  { method: 'GET', path: '/customers/{customerId}', fn: 'GetCustomer', reads: 'CustomersViewTable' },
  { method: 'PUT', path: '/customers/{customerId}/email', fn: 'ChangeCustomerEmail' },
  { method: 'POST', path: '/customers/{customerId}/deactivate', fn: 'DeactivateCustomer' },
  { method: 'POST', path: '/customers/{customerId}/reactivate', fn: 'ReactivateCustomer' },
  { method: 'PUT', path: '/inventory/{sku}', fn: 'PutStock', writes: 'InventoryTable' },
  { method: 'POST', path: '/events', fn: 'IngestEvents', analytics: true },
  { method: 'GET', path: '/analytics/users/{userId}', fn: 'GetUserAnalytics', analytics: true },
  { method: 'GET', path: '/health', fn: 'HealthCheck', health: true },
];
const COMMANDS = ROUTES.filter((r) => !r.reads && !r.writes && !r.analytics && !r.health);
const QUERIES = ROUTES.filter((r) => r.reads);
const STOCK_UPDATES = ROUTES.filter((r) => r.writes);
const VIEW_TABLES = ['OrdersViewTable', 'CustomersViewTable'];

type Resources = Record<string, { Properties: Record<string, unknown> }>;

interface Statement {
  readonly Action: string | string[];
  readonly Resource: unknown;
}

/** Statements of every policy attached to the role of a construct's function. */
function statementsOfRole(
  t: Template,
  stack: Stack,
  role: { node: { defaultChild?: unknown } } | undefined,
): Statement[] {
  expect(role).toBeDefined();
  const roleId = stack.getLogicalId(role?.node.defaultChild as CfnElement);
  const policies = Object.values(t.findResources('AWS::IAM::Policy') as Resources).filter((p) =>
    (p.Properties.Roles as { Ref?: string }[]).some((r) => r.Ref === roleId),
  );
  expect(policies.length).toBeGreaterThan(0);
  return policies.flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

const actionsOf = (statements: Statement[]): string[] =>
  statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

describe.each(STAGE_NAMES)('the %s stage', (stage) => {
  const { app, platform, network, data, services } = synthStage(stage);
  const config = loadStageConfig(stage);

  it('has no unacknowledged cdk-nag finding (AwsSolutions and Serverless)', () => {
    expect(nagFindings(app)).toEqual([]);
  });

  it('logs all VPC traffic to a log group with a retention', () => {
    network.hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC',
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
    });
    network.hasResourceProperties('AWS::Logs::LogGroup', {
      RetentionInDays: config.network.flowLogRetentionDays,
    });
  });

  it('keeps data subnets without any route to the internet', () => {
    const subnets = network.findResources('AWS::EC2::Subnet');
    const dataSubnets = Object.entries(subnets).filter(([, s]) =>
      (s.Properties.Tags as { Key: string; Value: string }[]).some(
        (tag) => tag.Key === 'aws-cdk:subnet-name' && tag.Value === 'data',
      ),
    );
    expect(dataSubnets).toHaveLength(config.network.maxAzs);
    for (const [, subnet] of dataSubnets) expect(subnet.Properties.MapPublicIpOnLaunch).toBe(false);
    const routes = Object.values(network.findResources('AWS::EC2::Route'));
    const dataRouteTables = Object.keys(network.findResources('AWS::EC2::RouteTable')).filter((id) =>
      id.includes('data'),
    );
    for (const route of routes) {
      expect(dataRouteTables).not.toContain(route.Properties.RouteTableId.Ref);
    }
  });

  it('reaches S3 and DynamoDB through gateway endpoints and the configured services through interface endpoints', () => {
    const endpoints = Object.values(network.findResources('AWS::EC2::VPCEndpoint'));
    const gateway = endpoints.filter((e) => e.Properties.VpcEndpointType === 'Gateway');
    const iface = endpoints.filter((e) => e.Properties.VpcEndpointType === 'Interface');
    expect(gateway).toHaveLength(2);
    expect(iface).toHaveLength(config.network.interfaceEndpoints.length);
    for (const e of iface) expect(e.Properties.PrivateDnsEnabled).toBe(true);
  });

  it('admits only HTTPS from inside the VPC to the interface endpoints', () => {
    network.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: [
        Match.objectLike({ CidrIp: config.network.cidr, FromPort: 443, ToPort: 443, IpProtocol: 'tcp' }),
      ],
    });
  });

  it('matches the snapshot', () => {
    expect(network.toJSON()).toMatchSnapshot();
    expect(data.toJSON()).toMatchSnapshot();
  });

  it('keeps the event store through stack deletion in prod', () => {
    data.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: config.retainData ? 'Retain' : 'Delete',
    });
  });

  it('serves the thirteen routes of PLATFORM.md and GET /health, each behind the Cognito authorizer and its own function', () => {
    const methods = methodsByRoute(services);
    expect([...methods.keys()].sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    const authorizerId = platform.services.getLogicalId(
      platform.services.api.authorizer.node.defaultChild as CfnElement,
    );
    for (const route of ROUTES) {
      const method = methods.get(`${route.method} ${route.path}`);
      expect(method, `${route.method} ${route.path}`).toMatchObject({
        AuthorizationType: 'COGNITO_USER_POOLS',
        AuthorizerId: { Ref: authorizerId },
      });
      const fnId = platform.services.getLogicalId(
        platform.services.routeFunctions[route.fn]?.function.node.defaultChild as CfnElement,
      );
      expect(JSON.stringify(method?.Integration), `${route.method} ${route.path}`).toContain(
        JSON.stringify({ 'Fn::GetAtt': [fnId, 'Arn'] }),
      );
    }
  });

  it('lets query functions read their own read model only, and write nothing', () => {
    for (const { fn: id, reads } of QUERIES) {
      const statements = statementsOfRole(
        services,
        platform.services,
        platform.services.routeFunctions[id]?.role,
      );
      const actions = actionsOf(statements);
      const text = JSON.stringify(statements);
      expect(actions, id).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query']));
      for (const write of ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'ConditionCheckItem']) {
        expect(actions, id).not.toContain(`dynamodb:${write}`);
      }
      expect(
        actions.filter((a) => a.startsWith('dynamodb:') && a.includes('*')),
        id,
      ).toEqual([]);
      expect(text, id).toContain(reads);
      for (const other of VIEW_TABLES.filter((v) => v !== reads)) expect(text, id).not.toContain(other);
      expect(text, id).not.toMatch(/EventStoreTable|IdempotencyTable/);
    }
  });

  it('gives command functions the event store and no access to the read-model tables', () => {
    for (const { fn: id } of COMMANDS) {
      const statements = statementsOfRole(
        services,
        platform.services,
        platform.services.routeFunctions[id]?.role,
      );
      const text = JSON.stringify(statements);
      expect(actionsOf(statements), id).toEqual(
        expect.arrayContaining(['dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:ConditionCheckItem']),
      );
      expect(text, id).toContain('EventStoreTable');
      for (const view of VIEW_TABLES) expect(text, id).not.toContain(view);
      // Only PlaceOrder honours Idempotency-Key.
      if (id === 'PlaceOrder') expect(text, id).toContain('IdempotencyTable');
      else expect(text, id).not.toContain('IdempotencyTable');
    }
  });

  it('lets the stock route put items in the inventory table only, without the event store or read models', () => {
    expect(STOCK_UPDATES.map((r) => r.fn)).toEqual(['PutStock']);
    for (const { fn: id, writes } of STOCK_UPDATES) {
      const statements = statementsOfRole(
        services,
        platform.services,
        platform.services.routeFunctions[id]?.role,
      );
      const dynamodb = statements.filter((s) => actionsOf([s]).some((a) => a.startsWith('dynamodb:')));
      expect(actionsOf(dynamodb), id).toEqual(['dynamodb:PutItem']);
      const text = JSON.stringify(dynamodb);
      expect(text, id).toContain(writes);
      expect(text, id).not.toMatch(/EventStoreTable|IdempotencyTable|OrdersViewTable|CustomersViewTable/);
      expect(JSON.stringify(statements), id).not.toMatch(/EventStore/);
      expect(
        dynamodb.flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource])),
        id,
      ).not.toContain('*');
    }
  });

  it("feeds the projector from the event store's stream with the stage's projection settings", () => {
    services.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    services.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: {
        'Fn::GetStackOutput': Match.objectLike({
          StackName: platform.data.stackName,
          OutputName: Match.stringLikeRegexp('EventStoreTable.*StreamArn'),
        }),
      },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: config.projection.batchSize,
      MaximumBatchingWindowInSeconds: config.projection.maxBatchingWindowSeconds,
      MaximumRetryAttempts: config.projection.retryAttempts,
      ParallelizationFactor: config.projection.parallelizationFactor,
    });
  });

  it(`${config.api.waf ? 'puts' : 'puts no'} WAF in front of the API (api.waf)`, () => {
    services.resourceCountIs('AWS::WAFv2::WebACL', config.api.waf ? 1 : 0);
    services.resourceCountIs('AWS::WAFv2::WebACLAssociation', config.api.waf ? 1 : 0);
    if (config.api.waf) {
      services.hasResourceProperties('AWS::WAFv2::WebACL', {
        Rules: Match.arrayWith([
          Match.objectLike({
            Statement: {
              RateBasedStatement: { Limit: config.api.wafRateLimitPer5Min, AggregateKeyType: 'IP' },
            },
          }),
        ]),
      });
    }
  });

  it("throttles the API stage at the stage's rate and burst", () => {
    services.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: [
        Match.objectLike({
          ThrottlingRateLimit: config.api.throttleRateLimit,
          ThrottlingBurstLimit: config.api.throttleBurstLimit,
        }),
      ],
    });
    services.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: config.logRetentionDays });
  });

  it('matches the services snapshot', () => {
    expect(services.toJSON()).toMatchSnapshot();
  });

  it('names its stacks after the stage', () => {
    expect(platform.network.stackName).toBe(`Platform-${stage[0]?.toUpperCase()}${stage.slice(1)}-Network`);
  });
});

describe('the security gate', () => {
  it('fails on an unencrypted queue without TLS enforcement (the gate can fail)', () => {
    // GIVEN a queue that bypasses the platform constructs
    const stack = newStack();
    new sqs.Queue(stack, 'Raw', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    // WHEN
    const rules = nagFindings(stack).map((f) => f.rule);
    // THEN
    expect(rules).toEqual(
      expect.arrayContaining(['AwsSolutions-SQS2', 'AwsSolutions-SQS3', 'AwsSolutions-SQS4']),
    );
  });

  it('treats CloudFormation validation findings as errors', () => {
    const cdkJson = JSON.parse(readFileSync(join(import.meta.dirname, '../../../cdk.json'), 'utf8'));
    expect(cdkJson.context['@aws-cdk/core:validateAgainstDefaultRules']).toBe(true);
  });
});

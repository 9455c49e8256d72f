import type { CfnElement, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { PlatformFunction } from '../../../lib/constructs/platform-function.js';
import { PlatformRestApi, type PlatformRestApiProps } from '../../../lib/constructs/platform-rest-api.js';
import { PlatformUserPool } from '../../../lib/constructs/platform-user-pool.js';
import { NOOP_HANDLER, nagFindings, newStack, templateOf } from '../helpers.js';

type Props = Omit<PlatformRestApiProps, 'userPool'>;

/** A stack with a user pool, the API and one function behind four routes. */
function apiWithRoutes(props: Props = {}) {
  const stack = newStack();
  const users = new PlatformUserPool(stack, 'Users');
  const api = new PlatformRestApi(stack, 'Api', { userPool: users.userPool, ...props });
  const fn = new PlatformFunction(stack, 'Handler', { entry: NOOP_HANDLER, serviceName: 's' });
  api.addRoute('POST', '/orders', fn.function, { jsonObjectBody: true });
  api.addRoute('GET', '/orders/{orderId}', fn.function);
  api.addRoute('GET', '/customers', fn.function, { requiredQueryParameters: ['emailDomain'] });
  api.addRoute('PUT', '/customers/{customerId}/email', fn.function, { jsonObjectBody: true });
  return { stack, api, users, fn };
}

const idOf = (stack: Stack, construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as CfnElement);

describe('PlatformRestApi', () => {
  it('authorizes every method with the Cognito user pool authorizer', () => {
    // GIVEN
    const { stack, api, users } = apiWithRoutes();
    // WHEN
    const t = templateOf(stack);
    // THEN
    const authorizerId = idOf(stack, api.authorizer);
    t.resourceCountIs('AWS::ApiGateway::Authorizer', 1);
    t.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'COGNITO_USER_POOLS',
      IdentitySource: 'method.request.header.Authorization',
      ProviderARNs: [{ 'Fn::GetAtt': [idOf(stack, users.userPool), 'Arn'] }],
    });
    const methods = Object.values(t.findResources('AWS::ApiGateway::Method'));
    expect(methods).toHaveLength(4);
    for (const method of methods) {
      expect(method.Properties).toMatchObject({
        AuthorizationType: 'COGNITO_USER_POOLS',
        AuthorizerId: { Ref: authorizerId },
        Integration: { Type: 'AWS_PROXY' },
      });
    }
  });

  it('validates request bodies and parameters on every route', () => {
    // GIVEN
    const { stack, api } = apiWithRoutes();
    // WHEN
    const t = templateOf(stack);
    // THEN
    t.resourceCountIs('AWS::ApiGateway::RequestValidator', 1);
    t.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
      ValidateRequestBody: true,
      ValidateRequestParameters: true,
    });
    const validatorId = idOf(stack, api.validator);
    for (const method of Object.values(t.findResources('AWS::ApiGateway::Method'))) {
      expect(method.Properties.RequestValidatorId).toEqual({ Ref: validatorId });
    }
  });

  it('requires a JSON object body (draft-04 model) only on routes that ask for it', () => {
    // GIVEN
    const { stack, api } = apiWithRoutes();
    // WHEN
    const t = templateOf(stack);
    // THEN
    t.hasResourceProperties('AWS::ApiGateway::Model', {
      ContentType: 'application/json',
      Schema: {
        $schema: 'http://json-schema.org/draft-04/schema#',
        title: 'JsonObject',
        type: 'object',
      },
    });
    const modelRef = { 'application/json': { Ref: idOf(stack, api.jsonObjectModel) } };
    t.resourcePropertiesCountIs('AWS::ApiGateway::Method', { RequestModels: modelRef }, 2);
    t.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'POST', RequestModels: modelRef });
    t.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'PUT', RequestModels: modelRef });
    t.resourcePropertiesCountIs(
      'AWS::ApiGateway::Method',
      { HttpMethod: 'GET', RequestModels: Match.absent() },
      2,
    );
  });

  it('requires the path parameters and the named query parameters', () => {
    // GIVEN
    const { stack } = apiWithRoutes();
    // WHEN
    const t = templateOf(stack);
    // THEN
    t.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      RequestParameters: { 'method.request.path.orderId': true },
    });
    t.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'PUT',
      RequestParameters: { 'method.request.path.customerId': true },
    });
    t.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      RequestParameters: { 'method.request.querystring.emailDomain': true },
    });
    t.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'POST', RequestParameters: {} });
  });

  it('names a greedy path parameter without its plus sign', () => {
    const stack = newStack();
    const users = new PlatformUserPool(stack, 'Users');
    const api = new PlatformRestApi(stack, 'Api', { userPool: users.userPool, waf: false });
    const fn = new PlatformFunction(stack, 'Handler', { entry: NOOP_HANDLER, serviceName: 's' });
    api.addRoute('GET', '/files/{key+}', fn.function);
    templateOf(stack).hasResourceProperties('AWS::ApiGateway::Method', {
      RequestParameters: { 'method.request.path.key': true },
    });
  });

  it('logs access as JSON to its own log group, traces, and logs errors without request data', () => {
    // GIVEN
    const { stack, api } = apiWithRoutes();
    // WHEN
    const t = templateOf(stack);
    // THEN
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    const [stage] = Object.values(t.findResources('AWS::ApiGateway::Stage'));
    expect(stage?.Properties).toMatchObject({
      StageName: 'v1',
      TracingEnabled: true,
      AccessLogSetting: {
        DestinationArn: {
          'Fn::Join': ['', expect.arrayContaining([{ Ref: idOf(stack, api.accessLogGroup) }])],
        },
      },
    });
    const format = JSON.parse(stage?.Properties.AccessLogSetting.Format as string);
    expect(Object.keys(format)).toEqual(
      expect.arrayContaining(['requestId', 'ip', 'user', 'httpMethod', 'resourcePath', 'status']),
    );
    expect(stage?.Properties.MethodSettings).toEqual([
      expect.objectContaining({
        HttpMethod: '*',
        ResourcePath: '/*',
        LoggingLevel: 'ERROR',
        DataTraceEnabled: false,
        MetricsEnabled: true,
      }),
    ]);
  });

  it('throttles the stage with the given rate and burst (50/100 by default)', () => {
    // GIVEN
    const byDefault = apiWithRoutes();
    const custom = apiWithRoutes({ throttleRateLimit: 7, throttleBurstLimit: 9, stageName: 'v2' });
    // THEN
    templateOf(byDefault.stack).hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 })],
    });
    templateOf(custom.stack).hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v2',
      MethodSettings: [
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 7,
          ThrottlingBurstLimit: 9,
        }),
      ],
    });
  });

  it("answers the gateway's own errors in the {message, errors} shape", () => {
    // GIVEN
    const { stack } = apiWithRoutes();
    // WHEN
    const responses = Object.values(templateOf(stack).findResources('AWS::ApiGateway::GatewayResponse'));
    // THEN
    const byType = Object.fromEntries(
      responses.map((r) => [r.Properties.ResponseType, r.Properties.ResponseTemplates['application/json']]),
    );
    expect(Object.keys(byType).sort()).toEqual(['BAD_REQUEST_BODY', 'DEFAULT_4XX', 'DEFAULT_5XX']);
    expect(JSON.parse(byType.BAD_REQUEST_BODY)).toEqual({
      message: 'Invalid request body',
      errors: [{ path: '', message: 'body must be a JSON object' }],
    });
    for (const type of ['DEFAULT_4XX', 'DEFAULT_5XX']) {
      // $context.error.messageString is already a quoted JSON string when API Gateway renders it.
      const rendered = (byType[type] as string).replace('$context.error.messageString', '"Unauthorized"');
      expect(JSON.parse(rendered)).toEqual({ message: 'Unauthorized', errors: [] });
    }
  });

  it('puts a regional WAF web ACL (per-IP rate limit, common and bad-input rules) on the stage by default', () => {
    // GIVEN
    const { stack, api } = apiWithRoutes({ wafRateLimitPer5Min: 300 });
    // WHEN
    const t = templateOf(stack);
    // THEN
    t.resourceCountIs('AWS::WAFv2::WebACL', 1);
    t.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      Rules: [
        Match.objectLike({
          Name: 'RatePerIp',
          Action: { Block: {} },
          Statement: { RateBasedStatement: { Limit: 300, AggregateKeyType: 'IP' } },
        }),
        Match.objectLike({
          OverrideAction: { None: {} },
          Statement: {
            ManagedRuleGroupStatement: {
              VendorName: 'AWS',
              Name: 'AWSManagedRulesCommonRuleSet',
              RuleActionOverrides: [{ Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } }],
            },
          },
        }),
        Match.objectLike({
          OverrideAction: { None: {} },
          Statement: {
            ManagedRuleGroupStatement: Match.objectLike({
              VendorName: 'AWS',
              Name: 'AWSManagedRulesKnownBadInputsRuleSet',
            }),
          },
        }),
      ],
    });
    t.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
    const stageId = idOf(stack, api.api.deploymentStage);
    t.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      WebACLArn: { 'Fn::GetAtt': [stack.getLogicalId(api.webAcl as CfnElement), 'Arn'] },
      ResourceArn: {
        'Fn::Join': [
          '',
          Match.arrayWith([
            Match.stringLikeRegexp(':/restapis/$'),
            { Ref: idOf(stack, api.api) },
            '/stages/',
            { Ref: stageId },
          ]),
        ],
      },
    });
  });

  it('blocks an IP after 2000 requests in 5 minutes by default', () => {
    const { stack } = apiWithRoutes();
    templateOf(stack).hasResourceProperties('AWS::WAFv2::WebACL', {
      Rules: Match.arrayWith([
        Match.objectLike({ Statement: { RateBasedStatement: { Limit: 2000, AggregateKeyType: 'IP' } } }),
      ]),
    });
  });

  it('creates neither web ACL nor association with waf:false, and stays nag clean', () => {
    // GIVEN
    const { stack, api } = apiWithRoutes({ waf: false });
    // WHEN
    const t = templateOf(stack);
    // THEN
    t.resourceCountIs('AWS::WAFv2::WebACL', 0);
    t.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
    expect(api.webAcl).toBeUndefined();
    expect(nagFindings(stack)).toEqual([]);
  });

  it('has no unacknowledged cdk-nag finding', () => {
    const { stack } = apiWithRoutes();
    expect(nagFindings(stack)).toEqual([]);
  });
});

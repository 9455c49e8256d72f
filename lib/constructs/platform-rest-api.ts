import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

export interface PlatformRestApiProps {
  /** Pool whose ID tokens authorize every route (JWT authorizer). */
  readonly userPool: cognito.IUserPool;
  /** @default 'v1' */
  readonly stageName?: string;
  /** Stage-wide steady-state requests per second. @default 50 */
  readonly throttleRateLimit?: number;
  /** Stage-wide burst. @default 100 */
  readonly throttleBurstLimit?: number;
  /** Associates a WAF web ACL (managed common and bad-input rules, a per-IP rate limit). @default true */
  readonly waf?: boolean;
  /** Requests per 5 minutes per IP before WAF blocks it. @default 2000 */
  readonly wafRateLimitPer5Min?: number;
  /** Access log retention. @default logs.RetentionDays.ONE_MONTH */
  readonly accessLogRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.DESTROY */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** Overrides merged over the defaults; deployment options and the authorizer stay as set here. */
  readonly restApiProps?: Omit<
    apigw.RestApiProps,
    'deployOptions' | 'defaultMethodOptions' | 'cloudWatchRole'
  >;
}

export interface RouteOptions {
  /** Query string parameters the gateway requires before invoking the function. */
  readonly requiredQueryParameters?: readonly string[];
  /**
   * The gateway refuses a body that is not a JSON object (400) before invoking the function; the
   * handler validates the fields. @default false (no body, or an optional one)
   */
  readonly jsonObjectBody?: boolean;
}

/**
 * A REST API with the platform's defaults: every route behind a Cognito JWT authorizer and a
 * request validator, Lambda proxy integrations, JSON access logs, execution logs on errors, X-Ray,
 * stage throttling, error responses in the `{message, errors}` shape, and an optional WAF.
 * Bodies are validated by the handlers against the same zod schemas as the domain, because the
 * gateway's validator cannot report field-level errors.
 */
export class PlatformRestApi extends Construct {
  readonly api: apigw.RestApi;
  readonly accessLogGroup: logs.LogGroup;
  readonly authorizer: apigw.CognitoUserPoolsAuthorizer;
  readonly validator: apigw.RequestValidator;
  /** Draft-04 model of "a JSON object", for routes whose body is required. */
  readonly jsonObjectModel: apigw.Model;
  readonly webAcl?: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: PlatformRestApiProps) {
    super(scope, id);
    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.authorizer = new apigw.CognitoUserPoolsAuthorizer(this, 'Jwt', {
      cognitoUserPools: [props.userPool],
      resultsCacheTtl: Duration.minutes(5),
    });
    this.api = new apigw.RestApi(this, 'Api', {
      description: `Messaging platform HTTP API (${Stack.of(this).stackName})`,
      endpointTypes: [apigw.EndpointType.REGIONAL],
      ...props.restApiProps,
      cloudWatchRole: true,
      deployOptions: {
        stageName: props.stageName ?? 'v1',
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
        throttlingRateLimit: props.throttleRateLimit ?? 50,
        throttlingBurstLimit: props.throttleBurstLimit ?? 100,
      },
      defaultMethodOptions: {
        authorizer: this.authorizer,
        authorizationType: apigw.AuthorizationType.COGNITO,
      },
    });
    this.validator = this.api.addRequestValidator('Validator', {
      validateRequestParameters: true,
      validateRequestBody: true,
    });
    this.jsonObjectModel = this.api.addModel('JsonObject', {
      contentType: 'application/json',
      description: 'Any JSON object; the handler validates its fields',
      schema: {
        schema: apigw.JsonSchemaVersion.DRAFT4,
        title: 'JsonObject',
        type: apigw.JsonSchemaType.OBJECT,
      },
    });
    // The gateway's own refusals (400, 401, 403, 413, 429, 5xx) in the platform's error shape.
    this.api.addGatewayResponse('BadRequestBody', {
      type: apigw.ResponseType.BAD_REQUEST_BODY,
      templates: {
        'application/json':
          '{"message":"Invalid request body","errors":[{"path":"","message":"body must be a JSON object"}]}',
      },
    });
    const template = { 'application/json': '{"message":$context.error.messageString,"errors":[]}' };
    this.api.addGatewayResponse('Default4xx', { type: apigw.ResponseType.DEFAULT_4XX, templates: template });
    this.api.addGatewayResponse('Default5xx', { type: apigw.ResponseType.DEFAULT_5XX, templates: template });

    const role = this.api.node.tryFindChild('CloudWatchRole');
    if (role) {
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          "API Gateway's account-level logging role: AmazonAPIGatewayPushToCloudWatchLogs is the policy AWS documents for it; it can only write to API Gateway log groups.",
      });
    }

    if (props.waf ?? true) {
      this.webAcl = this.createWebAcl(props.wafRateLimitPer5Min ?? 2000);
      new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
        resourceArn: this.api.deploymentStage.stageArn,
        webAclArn: this.webAcl.attrArn,
      });
    } else {
      Validations.of(this.api.deploymentStage).acknowledge({
        id: 'AwsSolutions-APIG3',
        reason:
          'WAF is off in this stage by configuration (api.waf); every route still needs a valid JWT and the stage is throttled.',
      });
    }
  }

  /** Adds `method path` with a Lambda proxy integration behind the authorizer and validator. */
  addRoute(method: string, path: string, fn: lambda.IFunction, options: RouteOptions = {}): apigw.Method {
    const resource = this.api.root.resourceForPath(path);
    const pathParameters = [...path.matchAll(/\{([^}+]+)\+?\}/g)].map((m) => m[1] as string);
    const requestParameters: Record<string, boolean> = {};
    for (const name of pathParameters) requestParameters[`method.request.path.${name}`] = true;
    for (const name of options.requiredQueryParameters ?? [])
      requestParameters[`method.request.querystring.${name}`] = true;
    return resource.addMethod(method, new apigw.LambdaIntegration(fn, { proxy: true }), {
      requestValidator: this.validator,
      requestParameters,
      ...(options.jsonObjectBody ? { requestModels: { 'application/json': this.jsonObjectModel } } : {}),
    });
  }

  private createWebAcl(rateLimit: number): wafv2.CfnWebACL {
    const visibility = (metricName: string) => ({
      cloudWatchMetricsEnabled: true,
      metricName,
      sampledRequestsEnabled: true,
    });
    const managed = (name: string, priority: number, excluded: string[] = []) => ({
      name,
      priority,
      overrideAction: { none: {} },
      statement: {
        managedRuleGroupStatement: {
          vendorName: 'AWS',
          name,
          // Count (not block) rules the handlers answer better themselves.
          ruleActionOverrides: excluded.map((rule) => ({ name: rule, actionToUse: { count: {} } })),
        },
      },
      visibilityConfig: visibility(name),
    });
    return new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('PlatformApi'),
      rules: [
        {
          name: 'RatePerIp',
          priority: 0,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: rateLimit, aggregateKeyType: 'IP' } },
          visibilityConfig: visibility('RatePerIp'),
        },
        // Oversized bodies get the handler's 413 with field errors instead of WAF's bare 403.
        managed('AWSManagedRulesCommonRuleSet', 1, ['SizeRestrictions_BODY']),
        managed('AWSManagedRulesKnownBadInputsRuleSet', 2),
      ],
    });
  }
}

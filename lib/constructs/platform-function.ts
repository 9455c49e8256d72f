import { type CfnResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import { NodejsFunction, type NodejsFunctionProps, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { QueueWithDlq } from './queue-with-dlq.js';

/**
 * The newest Node.js runtime this version of aws-cdk-lib knows, found by name rather than
 * hard-coded, so upgrading aws-cdk-lib moves every function forward at once.
 */
export function newestNodeRuntime(): lambda.Runtime {
  let best: { major: number; runtime: lambda.Runtime } | undefined;
  for (const key of Object.getOwnPropertyNames(lambda.Runtime)) {
    const match = /^NODEJS_(\d+)_X$/.exec(key);
    if (!match?.[1]) continue;
    const major = Number(match[1]);
    const runtime = (lambda.Runtime as unknown as Record<string, lambda.Runtime>)[key];
    if (runtime && (!best || major > best.major)) best = { major, runtime };
  }
  if (!best) throw new Error('aws-cdk-lib exposes no NODEJS_<n>_X runtime');
  return best.runtime;
}

export interface PlatformFunctionProps {
  /** Path of the handler's TypeScript entry file. */
  readonly entry: string;
  /** Exported handler name. @default 'handler' */
  readonly handler?: string;
  /** Powertools service name (logs, metrics dimension, traces). */
  readonly serviceName: string;
  /** Powertools metrics namespace. @default 'MessagingPlatform' */
  readonly metricsNamespace?: string;
  readonly description?: string;
  /** @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** Caps concurrent executions (and protects downstreams). @default - unreserved */
  readonly reservedConcurrentExecutions?: number;
  /** Extra environment; Powertools variables are set by the construct. */
  readonly environment?: Record<string, string>;
  /** Log retention of the function's own log group. @default logs.RetentionDays.TWO_WEEKS */
  readonly logRetention?: logs.RetentionDays;
  /** Removal policy of the log group. @default RemovalPolicy.DESTROY */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** Log level for Powertools Logger and Lambda's application logs. @default 'INFO' */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** Runs the function in this VPC (needed to reach MSK, ElastiCache, Amazon MQ). @default - not in a VPC */
  readonly vpc?: ec2.IVpc;
  /** @default - private subnets with egress */
  readonly vpcSubnets?: ec2.SubnetSelection;
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * Whether AWS invokes this function asynchronously (SNS, EventBridge, S3). Such functions get an
   * on-failure destination queue; synchronously invoked ones (API Gateway, event source mappings)
   * report failures to their caller instead.
   * @default false
   */
  readonly invokedAsynchronously?: boolean;
  /** On-failure destination for asynchronous invocations. @default - a new encrypted queue */
  readonly existingAsyncFailureQueue?: sqs.IQueue;
  /** Key for the async failure queue the construct creates. @default - a new KMS key */
  readonly asyncFailureQueueKey?: kms.IKey;
  /** Escape hatch: NodejsFunction props merged over the defaults (bundling is merged field by field). */
  readonly functionProps?: Partial<NodejsFunctionProps>;
}

/**
 * The one way the platform defines a Lambda function: NodejsFunction on the newest Node runtime,
 * ARM64, esbuild ESM bundle (minified, source maps), active tracing, its own log group with a
 * retention, JSON logs, Powertools environment, and a role whose log permissions are scoped to
 * that log group (no AWSLambdaBasicExecutionRole wildcard).
 */
export class PlatformFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: logs.LogGroup;
  readonly role: iam.Role;
  /** Set when the function is invoked asynchronously. */
  readonly asyncFailureQueue?: sqs.IQueue;

  constructor(scope: Construct, id: string, props: PlatformFunctionProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.seconds(10);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.TWO_WEEKS,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${Stack.of(this).stackName}/${this.node.path}`,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogGroup',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    if (props.vpc) {
      // What AWSLambdaVPCAccessExecutionRole grants, inline so that no managed policy is attached.
      this.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ManageVpcNetworkInterfaces',
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      );
    }

    const logLevel = props.logLevel ?? 'INFO';
    const bundling = {
      minify: true,
      sourceMap: true,
      sourcesContent: false,
      format: OutputFormat.ESM,
      target: 'node22',
      mainFields: ['module', 'main'],
      // ESM bundles of CommonJS dependencies still call require(); give them one.
      banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      externalModules: ['@aws-sdk/*'],
      // The Kafka client's compression codecs load a .wasm file next to their module, which a
      // bundle does not carry; the package ships a build with the module inlined for bundlers.
      // Its Avro support (schema registry only, unused here) is left out.
      esbuildArgs: {
        '--alias:@platformatic/wasm-utils': './node_modules/@platformatic/wasm-utils/dist/bundled.js',
        '--alias:avsc': './lambdas/commons/kafka/avsc-unavailable.ts',
      },
      ...props.functionProps?.bundling,
    };

    this.function = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: props.handler ?? 'handler',
      description: props.description,
      runtime: newestNodeRuntime(),
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel[logLevel],
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      role: this.role,
      vpc: props.vpc,
      vpcSubnets: props.vpc ? props.vpcSubnets : undefined,
      securityGroups: props.securityGroups,
      awsSdkConnectionReuse: false,
      ...props.functionProps,
      bundling,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace ?? 'MessagingPlatform',
        POWERTOOLS_LOG_LEVEL: logLevel,
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
        ...props.functionProps?.environment,
      },
    });

    // aws-cdk-lib makes the function DependsOn its role, which the GetAtt of the role's ARN already
    // implies; cfn-lint flags the redundancy (W3005). Silence that check on this one resource.
    (this.function.node.defaultChild as CfnResource).addMetadata('cfn-lint', {
      config: { ignore_checks: ['W3005'] },
    });

    if (props.invokedAsynchronously) {
      const queue =
        props.existingAsyncFailureQueue ??
        new QueueWithDlq(this, 'AsyncFailures', {
          encryptionKey: props.asyncFailureQueueKey,
          deadLetterOnly: true,
        }).queue;
      this.asyncFailureQueue = queue;
      this.function.configureAsyncInvoke({
        onFailure: new destinations.SqsDestination(queue),
        retryAttempts: 2,
        maxEventAge: Duration.hours(6),
      });
      Validations.of(this.function).acknowledge({
        id: 'Serverless-LambdaDLQ',
        reason:
          'An on-failure destination (EventInvokeConfig) takes the failed async events instead: it carries the error and request context, which a DeadLetterConfig target does not.',
      });
    } else {
      const reason =
        'Invoked synchronously only (API Gateway proxy or an event source mapping): the caller receives the error, and mappings send failures to their own destination or to the source queue DLQ.';
      Validations.of(this.function).acknowledge({ id: 'Serverless-LambdaDLQ', reason });
      Validations.of(this.function).acknowledge({ id: 'Serverless-LambdaAsyncFailureDestination', reason });
    }

    // X-Ray's PutTraceSegments/PutTelemetryRecords have no resource-level permissions.
    const defaultPolicy = this.role.node.tryFindChild('DefaultPolicy');
    if (defaultPolicy) {
      for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
        Validations.of(defaultPolicy).acknowledge({
          id: `AwsSolutions-IAM5[Action::${action}]`,
          reason:
            "aws-cdk-lib's grants on KMS-encrypted queues and topics add this action family; the statement is scoped to the specific key ARNs.",
        });
      }
      Validations.of(defaultPolicy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: props.vpc
          ? 'X-Ray trace writes and EC2 network-interface management (VPC functions) support no resource-level permissions; every other statement is scoped.'
          : 'X-Ray trace writes support no resource-level permissions; every other statement is scoped.',
      });
    }
  }

  /** Adds an environment variable to the function. */
  addEnvironment(key: string, value: string): this {
    this.function.addEnvironment(key, value);
    return this;
  }
}

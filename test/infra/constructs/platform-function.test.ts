import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { newestNodeRuntime, PlatformFunction } from '../../../lib/constructs/platform-function.js';
import { NOOP_HANDLER, nagFindings, newApp, newStack, templateOf } from '../helpers.js';

describe('PlatformFunction', () => {
  it('picks the newest Node.js runtime that aws-cdk-lib knows', () => {
    const majors = Object.getOwnPropertyNames(lambda.Runtime)
      .map((k) => /^NODEJS_(\d+)_X$/.exec(k)?.[1])
      .filter((m): m is string => m !== undefined)
      .map(Number);
    expect(newestNodeRuntime().name).toBe(`nodejs${Math.max(...majors)}.x`);
    expect(Math.max(...majors)).toBeGreaterThanOrEqual(22);
  });

  it('fixes runtime, ARM64, tracing, JSON logs in its own log group, and Powertools environment', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new PlatformFunction(stack, 'Fn', {
      entry: NOOP_HANDLER,
      serviceName: 'orders',
      reservedConcurrentExecutions: 5,
    });
    // THEN
    const t = templateOf(stack);
    t.resourceCountIs('AWS::Lambda::Function', 1);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: newestNodeRuntime().name,
      Architectures: ['arm64'],
      MemorySize: 512,
      Timeout: 10,
      ReservedConcurrentExecutions: 5,
      TracingConfig: { Mode: 'Active' },
      Handler: 'index.handler',
      LoggingConfig: Match.objectLike({
        LogFormat: 'JSON',
        LogGroup: { Ref: Match.stringLikeRegexp('^FnLogGroup') },
      }),
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'orders',
          POWERTOOLS_METRICS_NAMESPACE: 'MessagingPlatform',
          POWERTOOLS_LOG_LEVEL: 'INFO',
          NODE_OPTIONS: '--enable-source-maps',
        }),
      },
    });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 14 });
  });

  it('bundles an ESM, minified file with a source map', () => {
    // GIVEN an app that records asset paths, as the CDK CLI does
    const app = newApp({ 'aws:cdk:enable-asset-metadata': true });
    const stack = newStack(app);
    new PlatformFunction(stack, 'Fn', { entry: NOOP_HANDLER, serviceName: 's' });
    // WHEN
    const assembly = app.synth();
    // THEN
    const template = assembly.getStackArtifact(stack.artifactId).template as {
      Resources: Record<string, { Type: string; Metadata?: Record<string, string> }>;
    };
    const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function');
    const assetDir = join(assembly.directory, fn?.Metadata?.['aws:asset:path'] ?? 'missing');
    expect(readdirSync(assetDir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    const code = readFileSync(join(assetDir, 'index.mjs'), 'utf8');
    expect(code).toMatch(/export\s*\{/);
    expect(code).toContain('createRequire');
    expect(code.split('\n').length).toBeLessThan(5);
  });

  it('grants log writes to its own log group only, with no managed policy', () => {
    const stack = newStack();
    new PlatformFunction(stack, 'Fn', { entry: NOOP_HANDLER, serviceName: 's' });
    const t = templateOf(stack);
    t.hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FnLogGroup'), 'Arn'] },
          }),
        ]),
      },
    });
  });

  it('gives asynchronously invoked functions an on-failure destination', () => {
    const stack = newStack();
    new PlatformFunction(stack, 'Fn', { entry: NOOP_HANDLER, serviceName: 's', invokedAsynchronously: true });
    const t = templateOf(stack);
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } } },
    });
    t.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: Match.anyValue(),
      MessageRetentionPeriod: 1209600,
    });
  });

  it('runs in the VPC with the ENI permissions inline', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, restrictDefaultSecurityGroup: false });
    new PlatformFunction(stack, 'Fn', {
      entry: NOOP_HANDLER,
      serviceName: 's',
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      timeout: Duration.seconds(20),
    });
    const t = templateOf(stack);
    t.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: { SubnetIds: Match.anyValue(), SecurityGroupIds: Match.anyValue() },
      Timeout: 20,
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: Match.arrayWith(['ec2:CreateNetworkInterface']) }),
        ]),
      },
    });
  });

  it('has no unacknowledged cdk-nag finding, sync or async', () => {
    const stack = newStack();
    new PlatformFunction(stack, 'Sync', { entry: NOOP_HANDLER, serviceName: 's' });
    new PlatformFunction(stack, 'Async', {
      entry: NOOP_HANDLER,
      serviceName: 's',
      invokedAsynchronously: true,
    });
    expect(nagFindings(stack)).toEqual([]);
  });
});

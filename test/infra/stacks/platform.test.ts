import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { loadStageConfig, STAGE_NAMES, type StageName } from '../../../lib/config/stage-config.js';
import { buildPlatform } from '../../../lib/platform.js';
import { nagFindings, newApp, newStack } from '../helpers.js';

function synthStage(stage: StageName) {
  const app = newApp();
  const platform = buildPlatform(app, loadStageConfig(stage));
  return {
    app,
    platform,
    network: Template.fromStack(platform.network),
    data: Template.fromStack(platform.data),
  };
}

describe.each(STAGE_NAMES)('the %s stage', (stage) => {
  const { app, platform, network, data } = synthStage(stage);
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

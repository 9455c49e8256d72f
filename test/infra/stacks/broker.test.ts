import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { PLATFORM_BROKER_DEFINITIONS, VIRTUAL_HOST } from '../../../lambdas/broker/domain/order-routing.js';
import { loadStageConfig, STAGE_NAMES, type StageName } from '../../../lib/config/stage-config.js';
import { SUBNET_GROUPS } from '../../../lib/network/platform-network.js';
import { buildPlatform } from '../../../lib/platform.js';
import { nagFindings, newApp } from '../helpers.js';

type Resource = {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string[];
  DeletionPolicy?: string;
};
type Resources = Record<string, Resource>;

/** What each stage's broker must be, independently of how the stage config spells it. */
const EXPECTED: Record<StageName, { mode: string; instanceType: string; subnets: number; retain: boolean }> =
  {
    dev: { mode: 'SINGLE_INSTANCE', instanceType: 'mq.t3.micro', subnets: 1, retain: false },
    prod: { mode: 'CLUSTER_MULTI_AZ', instanceType: 'mq.m5.large', subnets: 3, retain: true },
  };

/** The stack output another stack reads a subnet's id from (`Fn::GetStackOutput`), if it is one. */
const stackOutput = (value: unknown) =>
  (value as { 'Fn::GetStackOutput'?: { StackName: string; OutputName: string } } | undefined)?.[
    'Fn::GetStackOutput'
  ];

describe.each(STAGE_NAMES)('the broker stack of the %s stage', (stage) => {
  const config = loadStageConfig(stage);
  const platform = buildPlatform(newApp(), config);
  const stack = platform.broker;
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Resources;
  const idOf = (construct: CfnElement): string => stack.getLogicalId(construct);
  const rabbit = stack.rabbit;
  const brokerId = idOf(rabbit.broker);
  const broker = resources[brokerId] as Resource;
  const expected = EXPECTED[stage];

  it(`is a private ${expected.mode} RabbitMQ broker of ${expected.instanceType}`, () => {
    template.resourceCountIs('AWS::AmazonMQ::Broker', 1);
    expect(broker.Properties).toMatchObject({
      EngineType: 'RABBITMQ',
      PubliclyAccessible: false,
      DeploymentMode: expected.mode,
      HostInstanceType: expected.instanceType,
      Logs: { General: true },
    });
    // The stage config says the same (the table above is not a copy of a wrong config)
    expect(config.broker).toEqual({ deploymentMode: expected.mode, instanceType: expected.instanceType });
  });

  it(`lives in ${expected.subnets === 1 ? 'the first' : 'every'} data subnet of the network stack`, () => {
    const dataSubnets = platform.network.vpc
      .selectSubnets({ subnetGroupName: SUBNET_GROUPS.data })
      .subnets.map((s) => platform.network.getLogicalId(s.node.defaultChild as CfnElement));
    expect(dataSubnets).toHaveLength(config.network.maxAzs);
    const subnetIds = broker.Properties.SubnetIds as unknown[];
    expect(subnetIds).toHaveLength(expected.subnets);
    subnetIds.forEach((value, i) => {
      const output = stackOutput(value);
      expect(output?.StackName).toBe(platform.network.stackName);
      expect(output?.OutputName).toMatch(new RegExp(`^PublishOutputRef${dataSubnets[i]}[0-9A-F]{8}$`));
    });
  });

  it("declares the platform's definitions (order events, warehouse queues, dead letters)", () => {
    expect(rabbit.definitions).toBe(PLATFORM_BROKER_DEFINITIONS);
    expect(rabbit.virtualHost).toBe(VIRTUAL_HOST);
    const definitions = Object.values(resources).filter((r) => r.Type === 'Custom::RabbitMqDefinitions');
    expect(definitions).toHaveLength(1);
    expect(definitions[0]?.Properties.Definitions).toEqual(
      JSON.parse(JSON.stringify(PLATFORM_BROKER_DEFINITIONS)),
    );
    expect(definitions[0]?.Properties.ManagementUrl).toEqual({
      'Fn::Select': [0, { 'Fn::GetAtt': [brokerId, 'ConsoleURLs'] }],
    });
  });

  it(`${expected.retain ? 'retains' : 'deletes'} the broker, its secrets, its definitions and its security group with the stack`, () => {
    expect(config.retainData).toBe(expected.retain);
    const policy = expected.retain ? 'Retain' : 'Delete';
    const kept = [
      rabbit.broker,
      rabbit.adminSecret.node.defaultChild,
      rabbit.appSecret.node.defaultChild,
      rabbit.definitionsResource.node.defaultChild,
      rabbit.securityGroup.node.defaultChild,
    ].map((c) => idOf(c as CfnElement));
    for (const id of kept) expect(resources[id]?.DeletionPolicy, id).toBe(policy);
  });

  it('publishes the AMQP endpoint, the management URL and the application secret, never the admin secret', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    // The broker's first AMQPS endpoint, directly or echoed by the definitions resource
    const endpoint = outputs.RabbitMqAmqpEndpoint?.Value;
    expect(endpoint).toEqual(stack.resolve(rabbit.amqpEndpoint));
    const att = (endpoint as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
    const definitionsId = idOf(rabbit.definitionsResource.node.defaultChild as CfnElement);
    expect(att && att[0] === definitionsId ? resources[definitionsId]?.Properties[att[1]] : endpoint).toEqual(
      {
        'Fn::Select': [0, { 'Fn::GetAtt': [brokerId, 'AmqpEndpoints'] }],
      },
    );
    expect(outputs.RabbitMqAppSecretArn?.Value).toEqual({
      Ref: idOf(rabbit.appSecret.node.defaultChild as CfnElement),
    });
    const adminRef = JSON.stringify({ Ref: idOf(rabbit.adminSecret.node.defaultChild as CfnElement) });
    for (const [name, output] of Object.entries(outputs)) {
      expect(JSON.stringify(output.Value), name).not.toContain(adminRef);
    }
  });

  it('has no unacknowledged cdk-nag finding (AwsSolutions and Serverless)', () => {
    expect(nagFindings(stack)).toEqual([]);
  });

  it('matches the snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { expect } from 'vitest';

const cdkJson = JSON.parse(readFileSync(join(import.meta.dirname, '../../cdk.json'), 'utf8')) as {
  context: Record<string, unknown>;
};

/** The feature flags of cdk.json, so that tests synthesize what `cdk synth` does. */
export function newApp(extraContext: Record<string, unknown> = {}): App {
  return new App({ context: { ...cdkJson.context, ...extraContext } });
}

/** The account and region of `newStack`'s environment. */
export const TEST_ACCOUNT = '123456789012';
export const TEST_REGION = 'us-east-1';

export function newStack(app: App = newApp(), id = 'TestStack'): Stack {
  return new Stack(app, id, { env: { account: TEST_ACCOUNT, region: TEST_REGION } });
}

/**
 * A VPC shaped like the platform's: public subnets (NAT), private app subnets with egress, isolated
 * data subnets, and flow logs (so the stack's cdk-nag findings are those of what the test adds).
 */
export function tieredVpc(stack: Stack, maxAzs = 2): ec2.Vpc {
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs,
    natGateways: 1,
    restrictDefaultSecurityGroup: false,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
      { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 24 },
      { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
    ],
  });
  vpc.addFlowLog('FlowLog');
  return vpc;
}

/** The one item of a list (the assertion fails otherwise). */
export function only<T>(items: T[]): T {
  expect(items).toHaveLength(1);
  return items[0] as T;
}

/** Rule ids acknowledged (cdk-nag or validation) on a construct or below it, by construct path. */
export function acknowledgedIds(scope: IConstruct): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const c of scope.node.findAll()) {
    const ids = c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY && m.data)
      .flatMap((m) =>
        Object.keys(m.data as Record<string, string>).map((k) => k.replace(/^annotation::/i, '')),
      );
    if (ids.length > 0) out[c.node.path] = ids;
  }
  return out;
}

export interface Finding {
  readonly rule: string;
  readonly path: string;
}

interface NagReport {
  readonly violations: { ruleName: string; violatingResources: { constructPath: string }[] }[];
}

/**
 * Unacknowledged cdk-nag findings of both packs (errors and warnings) for a scope. The packs read
 * acknowledgements from construct metadata, so this sees exactly what `cdk synth` would fail on.
 */
export function nagFindings(scope: IConstruct): Finding[] {
  const findings: Finding[] = [];
  for (const pack of [new AwsSolutionsChecks(scope), new ServerlessChecks(scope)]) {
    const report = pack.validateScope(scope) as unknown as NagReport;
    for (const v of report.violations) {
      for (const c of v.violatingResources) findings.push({ rule: v.ruleName, path: c.constructPath });
    }
  }
  return findings;
}

export function templateOf(stack: Stack): Template {
  return Template.fromStack(stack);
}

export const NOOP_HANDLER = join(import.meta.dirname, 'fixtures/noop-handler.ts');

/** An IAM policy statement as synthesized. */
export interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

export const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
export const resourcesOf = (s: Statement): unknown[] =>
  Array.isArray(s.Resource) ? s.Resource : [s.Resource];
/** The logical id a `{ 'Fn::GetAtt': [id, attribute] }` points at, if it is one. */
export const getAttId = (value: unknown): string | undefined =>
  (value as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
/** The logical id a `{ Ref: id }` points at, if it is one. */
export const refId = (value: unknown): string | undefined => (value as { Ref?: string } | undefined)?.Ref;

/**
 * Evaluates the intrinsic functions an ARN is built with (Join, Select, Split, the pseudo
 * parameters of `newStack`'s environment), given the values of its leaves, so that tests compare
 * the ARNs IAM will see.
 */
export function evaluate(value: unknown, leaf: (v: unknown) => string | undefined): string {
  if (typeof value === 'string') return value;
  const known = leaf(value);
  if (known !== undefined) return known;
  const o = (value ?? {}) as Record<string, unknown>;
  if ('Fn::Join' in o) {
    const [separator, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => evaluate(p, leaf)).join(separator);
  }
  if ('Fn::Select' in o) {
    const [index, list] = o['Fn::Select'] as [number, unknown];
    const item = evaluateList(list, leaf)[index];
    if (item === undefined) throw new Error(`Fn::Select ${index} out of range in ${JSON.stringify(value)}`);
    return item;
  }
  const pseudo: Record<string, string> = {
    'AWS::AccountId': TEST_ACCOUNT,
    'AWS::Region': TEST_REGION,
    'AWS::Partition': 'aws',
  };
  const ref = refId(value);
  if (ref && pseudo[ref]) return pseudo[ref];
  throw new Error(`cannot evaluate ${JSON.stringify(value)}`);
}

function evaluateList(value: unknown, leaf: (v: unknown) => string | undefined): string[] {
  if (Array.isArray(value)) return value.map((v) => evaluate(v, leaf));
  const split = (value as { 'Fn::Split'?: [string, unknown] } | undefined)?.['Fn::Split'];
  if (split) return evaluate(split[1], leaf).split(split[0]);
  throw new Error(`not a list: ${JSON.stringify(value)}`);
}

/** `METHOD /path` of every API Gateway method, the path rebuilt by walking the resources' parents. */
export function methodsByRoute(t: Template): Map<string, Record<string, unknown>> {
  const resources = t.findResources('AWS::ApiGateway::Resource') as Record<
    string,
    { Properties: Record<string, unknown> }
  >;
  const pathOf = (id: string): string => {
    const props = resources[id]?.Properties as { ParentId: { Ref?: string }; PathPart: string };
    const parent = props.ParentId.Ref ? pathOf(props.ParentId.Ref) : '';
    return `${parent}/${props.PathPart}`;
  };
  const methods = Object.values(
    t.findResources('AWS::ApiGateway::Method') as Record<string, { Properties: Record<string, unknown> }>,
  );
  return new Map(
    methods.map((m) => {
      const p = m.Properties as { HttpMethod: string; ResourceId: { Ref?: string } };
      return [`${p.HttpMethod} ${p.ResourceId.Ref ? pathOf(p.ResourceId.Ref) : '/'}`, m.Properties];
    }),
  );
}

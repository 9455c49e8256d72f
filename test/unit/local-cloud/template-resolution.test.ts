import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CfnOutput, Stack, Stage } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { describe, expect, it } from 'vitest';
import { readAssembly, resourcesOfType } from '../../../scripts/local-cloud/assembly.js';
import { type ResolveContext, resolve, UnresolvableError } from '../../../scripts/local-cloud/intrinsics.js';

const ctx: ResolveContext = {
  stackName: 'S',
  region: 'eu-west-1',
  accountId: '111122223333',
  ref: (id) => ({ Queue: 'https://queue', Param: 'p-value' })[id],
  getAtt: (id, attr) =>
    id === 'Queue' && attr === 'Arn'
      ? 'arn:q'
      : id === 'Cache' && attr === 'RedisEndpoint.Address'
        ? 'h'
        : undefined,
  importValue: (name) => (name === 'Exported' ? 'imported' : undefined),
  condition: (name) => name === 'IsProd',
  mappings: { Sizes: { prod: { memory: 1024 } } },
};

describe('intrinsic functions', () => {
  it('resolves Ref, pseudo parameters and GetAtt in both forms', () => {
    expect(resolve({ Ref: 'Queue' }, ctx)).toBe('https://queue');
    expect(resolve({ Ref: 'AWS::Region' }, ctx)).toBe('eu-west-1');
    expect(resolve({ Ref: 'AWS::URLSuffix' }, ctx)).toBe('amazonaws.com');
    expect(resolve({ 'Fn::GetAtt': ['Queue', 'Arn'] }, ctx)).toBe('arn:q');
    expect(resolve({ 'Fn::GetAtt': 'Cache.RedisEndpoint.Address' }, ctx)).toBe('h');
  });

  it('resolves Join, Sub (both forms, escapes), Select, Split, Base64, ImportValue, FindInMap and If', () => {
    expect(resolve({ 'Fn::Join': ['/', ['a', { Ref: 'Param' }]] }, ctx)).toBe('a/p-value');
    expect(resolve({ 'Fn::Sub': 'arn:${AWS::Partition}:${Queue.Arn}:${Param}:${!Literal}' }, ctx)).toBe(
      'arn:aws:arn:q:p-value:${Literal}',
    );
    expect(resolve({ 'Fn::Sub': ['${X}-${AWS::AccountId}', { X: { Ref: 'Param' } }] }, ctx)).toBe(
      'p-value-111122223333',
    );
    expect(resolve({ 'Fn::Select': [1, { 'Fn::Split': [',', 'a,b,c'] }] }, ctx)).toBe('b');
    expect(resolve({ 'Fn::Base64': 'hi' }, ctx)).toBe('aGk=');
    expect(resolve({ 'Fn::ImportValue': 'Exported' }, ctx)).toBe('imported');
    expect(resolve({ 'Fn::FindInMap': ['Sizes', 'prod', 'memory'] }, ctx)).toBe(1024);
    expect(resolve({ 'Fn::If': ['IsProd', 'big', 'small'] }, ctx)).toBe('big');
    expect(resolve({ 'Fn::Select': [0, { 'Fn::GetAZs': '' }] }, ctx)).toBe('eu-west-1a');
  });

  it('drops keys and elements set to AWS::NoValue', () => {
    expect(resolve({ a: 1, b: { Ref: 'AWS::NoValue' }, c: ['x', { Ref: 'AWS::NoValue' }] }, ctx)).toEqual({
      a: 1,
      c: ['x'],
    });
  });

  it('names the path and the intrinsic it cannot resolve', () => {
    expect(() =>
      resolve({ Env: { T: { 'Fn::GetAtt': ['Table', 'StreamArn'] } } }, ctx, 'Fn.Properties'),
    ).toThrow(new UnresolvableError('Fn.Properties.Env.T', 'Fn::GetAtt Table.StreamArn is not known'));
    expect(() => resolve({ 'Fn::Cidr': ['10.0.0.0/16', 2, 8] }, ctx)).toThrow(/Fn::Cidr is not supported/);
    expect(() => resolve({ 'Fn::ImportValue': 'Nope' }, ctx)).toThrow(/not exported/);
  });
});

describe('reading a cloud assembly', () => {
  it('finds nested stages and orders stacks after their dependencies', () => {
    // GIVEN an app whose second stack imports a value from the first, plus a stage
    const outdir = mkdtempSync(join(tmpdir(), 'assembly-'));
    const app = new App({ outdir });
    const env = { account: '111122223333', region: 'eu-west-1' };
    const b = new Stack(app, 'B', { env });
    const a = new Stack(app, 'A', { env });
    const queue = new sqs.Queue(a, 'Queue');
    new ssm.StringParameter(b, 'Param', { stringValue: queue.queueArn });
    const stage = new Stage(app, 'Prod', { env });
    new CfnOutput(new Stack(stage, 'C'), 'Out', { value: 'x' });
    app.synth();
    // WHEN
    const stacks = readAssembly(outdir);
    // THEN
    const names = stacks.map((s) => s.stackName);
    expect(names.sort()).toEqual(['A', 'B', 'Prod-C']);
    const byName = (n: string) => stacks.find((s) => s.stackName === n) as (typeof stacks)[0];
    expect(stacks.indexOf(byName('A'))).toBeLessThan(stacks.indexOf(byName('B')));
    expect(byName('Prod-C').assemblyDir).toContain('assembly-Prod');
    expect(resourcesOfType(byName('A'), 'AWS::SQS::Queue')).toHaveLength(1);
    const param = resourcesOfType(byName('B'), 'AWS::SSM::Parameter')[0]?.[1];
    expect(JSON.stringify(param?.Properties?.Value)).toContain('Fn::ImportValue');
  });

  it('says how to make the assembly when there is none', () => {
    expect(() => readAssembly(join(tmpdir(), 'no-such-cdk-out'))).toThrow(/npx cdk synth/);
  });
});

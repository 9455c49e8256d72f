import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Stack, Stage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assetPathOf,
  type CfnResource,
  readAssembly,
  resourcesOfType,
  type StackArtifact,
} from '../../../scripts/local-cloud/assembly.js';
import { type ResolveContext, resolve, stackExports } from '../../../scripts/local-cloud/intrinsics.js';

const HANDLER_DIR = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'assembly', 'handler');
const REGION = 'eu-west-1';
const ACCOUNT = '111111111111';

/**
 * A tiny app: top-level Consumer (declared first) imports the ARN of a queue in Producer; stage
 * `Stg` (a nested assembly) holds Reader, which reads a queue of Writer (declared after Reader) and
 * has a Lambda function with a file asset.
 */
function synthesize(outdir: string): void {
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const consumer = new Stack(app, 'Consumer', { stackName: 'consumer-stack' });
  const producer = new Stack(app, 'Producer');
  const queue = new sqs.Queue(producer, 'Queue');
  new ssm.StringParameter(consumer, 'QueueArnParam', { stringValue: queue.queueArn });
  new lambda.Function(consumer, 'Fn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => 1;'),
    environment: { QUEUE_ARN: queue.queueArn },
  });

  const stage = new Stage(app, 'Stg', { env: { account: ACCOUNT, region: REGION } });
  const reader = new Stack(stage, 'Reader');
  const writer = new Stack(stage, 'Writer');
  const stagedQueue = new sqs.Queue(writer, 'Queue');
  new lambda.Function(reader, 'Fn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromAsset(HANDLER_DIR),
    environment: { QUEUE_URL: stagedQueue.queueUrl },
  });
  app.synth();
}

function byName(stacks: readonly StackArtifact[], name: string): StackArtifact {
  const stack = stacks.find((s) => s.stackName === name);
  if (!stack) throw new Error(`no stack ${name} in ${stacks.map((s) => s.stackName).join(', ')}`);
  return stack;
}

function onlyOf(stack: StackArtifact, type: string): [string, CfnResource] {
  const found = resourcesOfType(stack, type);
  expect(found).toHaveLength(1);
  return found[0] as [string, CfnResource];
}

describe('readAssembly on a synthesized app', () => {
  let outdir: string;
  let stacks: StackArtifact[];

  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), 'lc-assembly-'));
    synthesize(outdir);
    stacks = readAssembly(outdir);
  }, 120_000);

  afterAll(() => {
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  it('finds the stacks of the app and of the nested stage assembly, and nothing else', () => {
    expect(stacks.map((s) => s.stackName).sort()).toEqual([
      'Producer',
      'Stg-Reader',
      'Stg-Writer',
      'consumer-stack',
    ]);
  });

  it('sorts dependencies first, otherwise keeps manifest order', () => {
    // CDK writes the manifest in construct order: the consumer comes first there.
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as { artifacts: object };
    const ids = Object.keys(manifest.artifacts);
    expect(ids.indexOf('Consumer')).toBeLessThan(ids.indexOf('Producer'));
    const names = stacks.map((s) => s.stackName);
    expect(names.indexOf('Producer')).toBeLessThan(names.indexOf('consumer-stack'));
    expect(names.indexOf('Stg-Writer')).toBeLessThan(names.indexOf('Stg-Reader'));
    expect(readAssembly(outdir).map((s) => s.stackName)).toEqual(names);
  });

  it('describes top-level stacks: ids, names, files, dependencies without asset manifests', () => {
    const consumer = byName(stacks, 'consumer-stack');
    expect(consumer).toMatchObject({
      artifactId: 'Consumer',
      displayName: 'Consumer',
      assemblyDir: outdir,
      templateFile: join(outdir, 'Consumer.template.json'),
      dependencies: ['Producer'],
    });
    expect(consumer.environment).toEqual({});
    expect(byName(stacks, 'Producer').dependencies).toEqual([]);
  });

  it('describes nested stacks with their own assembly directory and environment', () => {
    const reader = byName(stacks, 'Stg-Reader');
    const writer = byName(stacks, 'Stg-Writer');
    expect(reader.assemblyDir).toBe(join(outdir, 'assembly-Stg'));
    expect(reader.templateFile.startsWith(join(outdir, 'assembly-Stg'))).toBe(true);
    expect(reader.artifactId).toMatch(/^StgReader[0-9A-F]{8}$/);
    expect(reader.displayName).toBe('Stg/Reader');
    expect(reader.dependencies).toEqual([writer.artifactId]);
    expect(reader.environment).toEqual({ account: ACCOUNT, region: REGION });
    expect(resourcesOfType(writer, 'AWS::SQS::Queue')).toHaveLength(1);
  });

  it('lists resources by type', () => {
    const consumer = byName(stacks, 'consumer-stack');
    expect(resourcesOfType(consumer, 'AWS::SSM::Parameter').map(([id]) => id)).toEqual([
      expect.stringMatching(/^QueueArnParam/),
    ]);
    expect(resourcesOfType(consumer, 'AWS::Lambda::Function')).toHaveLength(1);
    expect(resourcesOfType(consumer, 'AWS::SNS::Topic')).toEqual([]);
  });

  it('locates file assets relative to the assembly of the stack (the parent directory for stages)', () => {
    const reader = byName(stacks, 'Stg-Reader');
    const [, fn] = onlyOf(reader, 'AWS::Lambda::Function');
    const asset = assetPathOf(reader, fn);
    expect(asset).toMatch(
      new RegExp(`^${outdir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/asset\\.[0-9a-f]{64}$`),
    );
    expect(
      assetPathOf(
        byName(stacks, 'consumer-stack'),
        onlyOf(byName(stacks, 'consumer-stack'), 'AWS::Lambda::Function')[1],
      ),
    ).toBeUndefined();
  });

  it("resolves the consumer's cross-stack reference through the producer's exports", () => {
    const producer = byName(stacks, 'Producer');
    const consumer = byName(stacks, 'consumer-stack');
    const [queueId] = onlyOf(producer, 'AWS::SQS::Queue');
    const queueArn = `arn:aws:sqs:${REGION}:${ACCOUNT}:producer-queue`;
    const base = { region: REGION, accountId: ACCOUNT, ref: () => undefined, importValue: () => undefined };
    const producerCtx: ResolveContext = {
      ...base,
      stackName: producer.stackName,
      getAtt: (id, attr) => (id === queueId && attr === 'Arn' ? queueArn : undefined),
    };
    const exports = stackExports(producer, producerCtx);
    expect(Object.values(exports)).toEqual([queueArn]);

    const consumerCtx: ResolveContext = {
      ...base,
      stackName: consumer.stackName,
      getAtt: () => undefined,
      importValue: (name) => exports[name],
    };
    const [paramId, param] = onlyOf(consumer, 'AWS::SSM::Parameter');
    expect(param.Properties?.Value).toEqual({ 'Fn::ImportValue': expect.any(String) });
    expect(resolve(param.Properties, consumerCtx, `${paramId}.Properties`)).toMatchObject({
      Value: queueArn,
    });
    const [, fn] = onlyOf(consumer, 'AWS::Lambda::Function');
    const env = resolve(fn.Properties?.Environment, consumerCtx) as { Variables: Record<string, string> };
    expect(env.Variables.QUEUE_ARN).toBe(queueArn);
  });
});

describe('readAssembly on hand-written assemblies', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lc-assembly-fixture-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function write(path: string, content: unknown): void {
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(content));
  }

  const template = { Resources: { Q: { Type: 'AWS::SQS::Queue' } } };
  const stack = (file: string, dependencies: string[] = [], extra: object = {}) => ({
    type: 'aws:cloudformation:stack',
    environment: 'aws://unknown-account/unknown-region',
    properties: { templateFile: file },
    dependencies,
    ...extra,
  });

  it('fails clearly when the directory or the manifest is missing', () => {
    expect(() => readAssembly(join(dir, 'nope'))).toThrow(/does not exist: run `npx cdk synth` first/);
    mkdirSync(join(dir, 'empty'));
    expect(() => readAssembly(join(dir, 'empty'))).toThrow(/no manifest\.json\): run `npx cdk synth` first/);
  });

  it('fails clearly when a nested assembly or a template is missing', () => {
    write('broken-nested/manifest.json', {
      artifacts: {
        'assembly-X': { type: 'cdk:cloud-assembly', properties: { directoryName: 'assembly-X' } },
      },
    });
    expect(() => readAssembly(join(dir, 'broken-nested'))).toThrow(/assembly-X holds no cloud assembly/);
    write('broken-template/manifest.json', { artifacts: { S: stack('S.template.json') } });
    expect(() => readAssembly(join(dir, 'broken-template'))).toThrow(/cannot read template of stack S/);
  });

  it('orders a chain declared backwards, tolerates a missing Resources section and ignores other artifacts', () => {
    write('chain/manifest.json', {
      version: '55.0.0',
      artifacts: {
        C: stack('C.template.json', ['B', 'C.assets']),
        'C.assets': { type: 'cdk:asset-manifest', properties: { file: 'C.assets.json' } },
        B: stack('B.template.json', ['A'], {
          properties: { templateFile: 'B.template.json', stackName: 'bee' },
        }),
        A: stack('A.template.json'),
        Tree: { type: 'cdk:tree', properties: { file: 'tree.json' } },
      },
    });
    write('chain/A.template.json', template);
    write('chain/B.template.json', {});
    write('chain/C.template.json', template);
    const stacks = readAssembly(join(dir, 'chain'));
    expect(stacks.map((s) => [s.artifactId, s.stackName])).toEqual([
      ['A', 'A'],
      ['B', 'bee'],
      ['C', 'C'],
    ]);
    expect(stacks[1]?.template.Resources).toEqual({});
    expect(stacks[2]?.dependencies).toEqual(['B']);
  });

  it('reports dependency cycles', () => {
    write('cycle/manifest.json', {
      artifacts: { A: stack('A.template.json', ['B']), B: stack('B.template.json', ['A']) },
    });
    write('cycle/A.template.json', template);
    write('cycle/B.template.json', template);
    expect(() => readAssembly(join(dir, 'cycle'))).toThrow(/dependency cycle between stacks: A -> B -> A/);
  });
});

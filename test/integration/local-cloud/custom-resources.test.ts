import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { App, CfnOutput, CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import type { CustomResourceRequest } from '../../../scripts/local-cloud/custom-resources.js';
import { LocalCloud, type LocalCloudOptions } from '../../../scripts/local-cloud/runtime.js';

const HANDLER_DIR = fileURLToPath(new URL('./fixtures/custom-resource/', import.meta.url));

interface FixtureResource {
  readonly id: string;
  readonly properties: Record<string, unknown>;
}

/**
 * A stack with a plain Node.js function behind custom resources (the CloudFormation contract, no
 * CDK Provider framework), a queue named from the first one's Data, an output built from it, a
 * function whose environment reads it, and a bucket whose auto-delete is aws-cdk-lib's own.
 */
function synthesize(stackName: string, eventsFile: string, resources: readonly FixtureResource[]): string {
  const outdir = mkdtempSync(join(tmpdir(), 'lc-custom-resources-'));
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new Stack(app, stackName, { env: { account: '123456789012', region: 'us-east-1' } });
  const handler = new lambda.Function(stack, 'Handler', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromAsset(HANDLER_DIR),
    timeout: Duration.seconds(3),
    environment: { EVENTS_FILE: eventsFile },
  });
  const [first] = resources.map(
    (r) =>
      new CustomResource(stack, r.id, {
        serviceToken: handler.functionArn,
        resourceType: 'Custom::Echo',
        properties: r.properties,
      }),
  );
  if (first) {
    new sqs.Queue(stack, 'Queue', { queueName: first.getAttString('QueueName') });
    new lambda.Function(stack, 'Consumer', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(HANDLER_DIR),
      environment: { QUEUE_NAME: first.getAttString('QueueName') },
    });
    new CfnOutput(stack, 'Echo', { value: first.getAttString('Echo') });
    new CfnOutput(stack, 'PhysicalId', { value: first.ref });
  }
  new s3.Bucket(stack, 'Scratch', { autoDeleteObjects: true, removalPolicy: RemovalPolicy.DESTROY });
  app.synth();
  return outdir;
}

describe('Lambda-backed custom resources on the local cloud', () => {
  const run = Date.now().toString(36);
  const dir = mkdtempSync(join(tmpdir(), 'lc-custom-resource-state-'));
  const stateFile = join(dir, 'custom-resources.json');
  const eventsFile = join(dir, 'events.jsonl');
  let cloud: LocalCloud | undefined;
  let logs: string[] = [];

  const start = (assemblyDir: string, extra: Partial<LocalCloudOptions> = {}) => {
    logs = [];
    return LocalCloud.start({
      assemblyDir,
      target: { endpoint: inject('engines').awsEndpointUrl, region: 'us-east-1', accountId: '123456789012' },
      port: 0,
      streamCheckpoints: false,
      customResourceState: stateFile,
      log: (line) => logs.push(line),
      functionLog: () => undefined,
      ...extra,
    });
  };
  /** Events the handler received since the last call. */
  let seen = 0;
  const received = (): CustomResourceRequest[] => {
    if (!existsSync(eventsFile)) return [];
    const all = readFileSync(eventsFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as CustomResourceRequest);
    const fresh = all.slice(seen);
    seen = all.length;
    return fresh;
  };
  const state = () => JSON.parse(readFileSync(stateFile, 'utf8')) as Record<string, Record<string, unknown>>;

  afterEach(async () => {
    await cloud?.stop();
    cloud = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const stackName = `CustomResources-${run}`;
  const name = `topics-${run}`;
  let firstPhysicalId = '';

  it('creates them at the first start; their Data reaches resources, functions and outputs', async () => {
    // GIVEN an app with two custom resources, and no state yet
    const assembly = synthesize(stackName, eventsFile, [
      { id: 'Topics', properties: { Name: name, Partitions: 3, Compacted: true } },
      { id: 'Extra', properties: { Name: `extra-${run}` } },
    ]);

    // WHEN
    cloud = await start(assembly);

    // THEN each got a Create with the CloudFormation event
    const events = received();
    expect(events.map((e) => `${e.LogicalResourceId}:${e.RequestType}`).sort()).toEqual([
      'Extra:Create',
      'Topics:Create',
    ]);
    const create = events.find((e) => e.LogicalResourceId === 'Topics');
    expect(create).toEqual({
      RequestType: 'Create',
      ServiceToken: `arn:aws:lambda:us-east-1:123456789012:function:${cloud.fn('Handler').spec.name}`,
      ResponseURL: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\//),
      StackId: expect.stringMatching(
        new RegExp(`^arn:aws:cloudformation:us-east-1:123456789012:stack/${stackName}/`),
      ),
      RequestId: expect.any(String),
      ResourceType: 'Custom::Echo',
      LogicalResourceId: 'Topics',
      // as CloudFormation passes them: the ServiceToken included, scalars as strings
      ResourceProperties: {
        ServiceToken: expect.any(String),
        Name: name,
        Partitions: '3',
        Compacted: 'true',
      },
    });
    firstPhysicalId = `${name}-${create?.RequestId.slice(0, 8)}`;

    // AND the response's Data and physical id resolve wherever the template refers to them
    const queue = await cloud.clients.sqs.send(new GetQueueUrlCommand({ QueueName: `${name}-queue` }));
    expect(queue.QueueUrl).toBeDefined();
    expect(cloud.fn('Consumer').spec.environment.QUEUE_NAME).toBe(`${name}-queue`);
    expect(cloud.resources.outputs[stackName]).toEqual({
      Echo: `Create:${name}`,
      PhysicalId: firstPhysicalId,
    });

    // AND they are listed and logged; aws-cdk-lib's own auto-delete provider stays a stand-in
    expect(cloud.customResources.map((c) => [c.requestType, c.status, c.resourceType])).toEqual([
      ['Create', 'SUCCESS', 'Custom::Echo'],
      ['Create', 'SUCCESS', 'Custom::Echo'],
    ]);
    expect(cloud.customResources.find((c) => c.logicalId === 'Topics')?.physicalResourceId).toBe(
      firstPhysicalId,
    );
    expect(logs).toContainEqual(
      expect.stringMatching(/^custom resource .*\/Topics \(Custom::Echo\): Create SUCCESS topics-/),
    );
    expect(cloud.resources.ofType('Custom::S3AutoDeleteObjects')).toHaveLength(1);
    expect(cloud.unsupported).toEqual([]);
    expect(Object.keys(state())).toHaveLength(2);
  });

  it('updates them at the next start with the old properties, and deletes the one removed', async () => {
    // GIVEN the app changed: Topics has other properties, Extra is gone
    const assembly = synthesize(stackName, eventsFile, [
      { id: 'Topics', properties: { Name: name, Partitions: 6, Compacted: true } },
    ]);

    // WHEN
    cloud = await start(assembly);

    // THEN Topics got an Update of its physical id, with the old properties
    const events = received();
    const update = events.find((e) => e.LogicalResourceId === 'Topics');
    expect(update).toMatchObject({
      RequestType: 'Update',
      PhysicalResourceId: firstPhysicalId,
      ResourceProperties: { Name: name, Partitions: '6' },
      OldResourceProperties: { Name: name, Partitions: '3' },
    });
    expect(cloud.resources.outputs[stackName]).toEqual({
      Echo: `Update:${name}`,
      PhysicalId: firstPhysicalId,
    });

    // AND Extra got a Delete with its last properties, after the rest of its stack, then was forgotten
    const removal = events.find((e) => e.LogicalResourceId === 'Extra');
    expect(removal).toMatchObject({
      RequestType: 'Delete',
      PhysicalResourceId: expect.stringMatching(new RegExp(`^extra-${run}-`)),
      ResourceProperties: { Name: `extra-${run}` },
    });
    expect(removal).not.toHaveProperty('OldResourceProperties');
    expect(cloud.customResources.map((c) => `${c.logicalId}:${c.requestType}`)).toEqual([
      'Topics:Update',
      'Extra:Delete',
    ]);
    expect(Object.values(state()).map((r) => [r.logicalId, r.physicalResourceId])).toEqual([
      ['Topics', firstPhysicalId],
    ]);
  });

  it('sends an Update even when nothing changed, and deletes the old physical id it replaces', async () => {
    // GIVEN the same properties, then a handler answering another physical id
    const same = synthesize(stackName, eventsFile, [
      { id: 'Topics', properties: { Name: name, Partitions: 6, Compacted: true } },
    ]);
    cloud = await start(same);
    expect(received().map((e) => e.RequestType)).toEqual(['Update']);
    await cloud.stop();
    const renamed = synthesize(stackName, eventsFile, [
      {
        id: 'Topics',
        properties: { Name: name, Partitions: 6, Compacted: true, PhysicalId: `renamed-${run}` },
      },
    ]);

    // WHEN
    cloud = await start(renamed);

    // THEN the old physical id got a Delete with the old properties, after the Update
    expect(
      received().map((e) => [e.RequestType, e.PhysicalResourceId, e.ResourceProperties.PhysicalId]),
    ).toEqual([
      ['Update', firstPhysicalId, `renamed-${run}`],
      ['Delete', firstPhysicalId, undefined],
    ]);
    expect(cloud.resources.outputs[stackName]?.PhysicalId).toBe(`renamed-${run}`);
    expect(Object.values(state()).map((r) => r.physicalResourceId)).toEqual([`renamed-${run}`]);
  });

  it('fails the start with the Reason of a FAILED response, naming the resource', async () => {
    // GIVEN a custom resource its handler refuses
    const failing = `CustomResourcesFailed-${run}`;
    const assembly = synthesize(failing, eventsFile, [
      { id: 'Broken', properties: { Name: 'b', Mode: 'fail' } },
    ]);

    // WHEN / THEN
    await expect(start(assembly)).rejects.toThrow(
      new RegExp(
        `^custom resource ${failing}/Broken \\(Custom::Echo\\) failed to Create: refused to Create b$`,
      ),
    );
    expect(Object.keys(state()).filter((key) => key.startsWith(`${failing}/`))).toEqual([]);
    received();
  });

  it('fails the start, without waiting for the timeout, when the handler throws without responding', async () => {
    // GIVEN
    const throwing = `CustomResourcesThrow-${run}`;
    const assembly = synthesize(throwing, eventsFile, [
      { id: 'Throws', properties: { Name: 't', Mode: 'throw' } },
    ]);
    const started = Date.now();

    // WHEN / THEN
    await expect(start(assembly)).rejects.toThrow(
      /Throws \(Custom::Echo\) failed to Create: the function failed without responding: Error: handler broke on Create$/,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    received();
  });

  it('keeps the records in memory only when asked to', async () => {
    // GIVEN a stack already recorded in the file
    const assembly = synthesize(stackName, eventsFile, [
      {
        id: 'Topics',
        properties: { Name: name, Partitions: 6, Compacted: true, PhysicalId: `renamed-${run}` },
      },
    ]);
    const before = readFileSync(stateFile, 'utf8');

    // WHEN
    cloud = await start(assembly, { customResourceState: false });

    // THEN it is created again, and the file is left alone
    expect(received().map((e) => e.RequestType)).toEqual(['Create']);
    expect(readFileSync(stateFile, 'utf8')).toBe(before);
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { CfnResource, StackArtifact } from '../../../scripts/local-cloud/assembly.js';
import {
  type CustomResourceRecord,
  type CustomResourceRequest,
  cdkFrameworkHandler,
  cloudFormationProperties,
  FileCustomResourceStore,
  parseResponse,
  ResponseEndpoint,
  sendCustomResourceRequest,
} from '../../../scripts/local-cloud/custom-resources.js';
import { LocalFunction } from '../../../scripts/local-cloud/lambda/local-function.js';
import { provision } from '../../../scripts/local-cloud/provision.js';
import { Registry } from '../../../scripts/local-cloud/registry.js';

const HANDLER_DIR = fileURLToPath(new URL('./fixtures/custom-resource/', import.meta.url));

const record = (logicalId: string, physicalResourceId: string): CustomResourceRecord => ({
  stackName: 'Stack',
  logicalId,
  resourceType: 'Custom::Echo',
  serviceToken: 'arn:aws:lambda:us-east-1:123456789012:function:handler',
  physicalResourceId,
  properties: { Name: logicalId },
});

describe('the custom resource state file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lc-custom-resources-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps records across instances and merges with what another local cloud wrote', () => {
    // GIVEN two stores on one file, as `npm start` beside the tests
    const file = join(dir, 'nested', 'state.json');
    const first = new FileCustomResourceStore(file);
    first.set(record('A', 'a-1'));
    const second = new FileCustomResourceStore(file);

    // WHEN each changes its own records
    second.set(record('B', 'b-1'));
    first.set(record('C', 'c-1'));
    second.delete('Stack', 'A');

    // THEN the file has both writers' changes, and a new store reads them back
    const reread = new FileCustomResourceStore(file);
    expect(reread.ofStack('Stack').map((r) => `${r.logicalId}=${r.physicalResourceId}`)).toEqual([
      'B=b-1',
      'C=c-1',
    ]);
    expect(reread.ofStack('Other')).toEqual([]);
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')))).toEqual(['Stack/B', 'Stack/C']);
  });

  it('starts empty from an unreadable file instead of failing', () => {
    // GIVEN a file that is not JSON
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ not json');

    // WHEN / THEN
    expect(new FileCustomResourceStore(file).ofStack('Stack')).toEqual([]);
  });
});

describe('custom resource requests and responses', () => {
  it('passes properties the way CloudFormation does: numbers and booleans as strings', () => {
    expect(
      cloudFormationProperties({
        Partitions: 3,
        Compact: true,
        Nested: [{ Replicas: 1, Name: 'x' }],
        Nil: null,
      }),
    ).toEqual({ Partitions: '3', Compact: 'true', Nested: [{ Replicas: '1', Name: 'x' }], Nil: null });
  });

  it('accepts SUCCESS with a physical id and refuses what CloudFormation refuses', () => {
    const ok = parseResponse(JSON.stringify({ Status: 'SUCCESS', PhysicalResourceId: 'p', Data: { A: 1 } }), {
      RequestType: 'Create',
    });
    expect(ok).toMatchObject({ ok: true, response: { PhysicalResourceId: 'p', Data: { A: 1 } } });

    const reasons = [
      JSON.stringify({ Status: 'FAILED', Reason: 'no topic for you', PhysicalResourceId: 'p' }),
      JSON.stringify({ Status: 'SUCCESS' }),
      JSON.stringify({ Status: 'DONE', PhysicalResourceId: 'p' }),
      JSON.stringify({ Status: 'SUCCESS', PhysicalResourceId: 'p', Data: { Blob: 'x'.repeat(5000) } }),
      'not json',
    ].map((body) => {
      const outcome = parseResponse(body, { RequestType: 'Update' });
      return outcome.ok ? 'ok' : outcome.reason;
    });
    expect(reasons).toEqual([
      'no topic for you',
      'the response has no PhysicalResourceId',
      'invalid Status "DONE" in the response',
      expect.stringMatching(/^Response object is too long/),
      expect.stringMatching(/^the response is not JSON/),
    ]);
  });

  it('tells the Lambda-backed handlers of aws-cdk-lib from the application`s', () => {
    const fn = (Handler: string, path?: string) => ({
      Type: 'AWS::Lambda::Function',
      Properties: { Handler },
      ...(path ? { Metadata: { 'aws:cdk:path': path } } : {}),
    });
    const cdk = [
      ['CustomS3AutoDeleteObjectsCustomResourceProviderHandler9D90184F', fn('index.handler')],
      ['CustomVpcRestrictDefaultSGCustomResourceProviderHandlerDC833E5E', fn('__entrypoint__.handler')],
      ['Renamed', fn('index.handler', 'Stack/Custom::EcrAutoDeleteCustomResourceProvider/Handler')],
      ['ProviderframeworkonEvent83C1D0A7', fn('framework.onEvent')],
      ['AWS679f53fac002430cb0da5b7982bd22872D164C4C', fn('index.handler')],
      ['LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8aFD4BFC8A', fn('index.handler')],
    ] as const;
    for (const [logicalId, resource] of cdk) expect(cdkFrameworkHandler(logicalId, resource)).toBeDefined();
    expect(
      cdkFrameworkHandler('KafkaTopicsHandler1A2B3C4D', fn('index.handler', 'Stack/KafkaTopics/Handler')),
    ).toBeUndefined();
  });
});

describe('sending a request to a custom resource function', () => {
  const functions: LocalFunction[] = [];
  const endpoint = new ResponseEndpoint();
  afterEach(async () => {
    await Promise.all(functions.splice(0).map((f) => f.stop()));
  });
  afterAll(() => endpoint.close());

  const send = (properties: Record<string, unknown>, timeoutMs = 10_000) => {
    const fn = new LocalFunction(
      {
        name: 'cr-handler',
        assetDir: HANDLER_DIR,
        handler: 'index.handler',
        timeoutSeconds: 3,
        memoryMb: 128,
        environment: {},
      },
      { log: () => undefined },
    );
    functions.push(fn);
    const events: CustomResourceRequest[] = [];
    const outcome = sendCustomResourceRequest(
      {
        RequestType: 'Create',
        ServiceToken: fn.arn,
        StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Stack/id',
        ResourceType: 'Custom::Echo',
        LogicalResourceId: 'Topics',
        ResourceProperties: { ServiceToken: fn.arn, ...properties },
      },
      {
        endpoint,
        timeoutMs,
        invoke: (event) => {
          events.push(event);
          return fn.invoke(event);
        },
      },
    );
    return { outcome, events };
  };

  it('sends the CloudFormation event and returns the response PUT to its ResponseURL', async () => {
    // WHEN
    const { outcome, events } = send({ Name: 'orders' });

    // THEN
    const result = await outcome;
    const [event] = events;
    expect(event?.ResponseURL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/cloudformation-response\/.+/);
    expect(event?.RequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(result).toEqual({
      ok: true,
      response: expect.objectContaining({
        Status: 'SUCCESS',
        PhysicalResourceId: `orders-${event?.RequestId.slice(0, 8)}`,
        RequestId: event?.RequestId,
        LogicalResourceId: 'Topics',
        Data: { QueueName: 'orders-queue', Echo: 'Create:orders' },
      }),
    });
  });

  it('gives a unique ResponseURL to each request', async () => {
    const a = send({ Name: 'a' });
    const b = send({ Name: 'b' });
    await Promise.all([a.outcome, b.outcome]);
    expect(a.events[0]?.ResponseURL).not.toBe(b.events[0]?.ResponseURL);
  });

  it('fails at once, with the error, when the function throws without responding', async () => {
    const started = Date.now();
    const result = await send({ Name: 'x', Mode: 'throw' }, 60_000).outcome;
    expect(result).toEqual({
      ok: false,
      reason: 'the function failed without responding: Error: handler broke on Create',
    });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('keeps the response of a function that fails after responding', async () => {
    const result = await send({ Name: 'y', Mode: 'respond-then-throw' }).outcome;
    expect(result).toMatchObject({ ok: true, response: { Status: 'SUCCESS' } });
  });

  it('gives up when no response comes in time', async () => {
    const result = await send({ Name: 'z', Mode: 'silent' }, 1_500).outcome;
    expect(result).toEqual({ ok: false, reason: 'no response at the ResponseURL within 1.5 s' });
  });

  it('reports FAILED with its Reason', async () => {
    const result = await send({ Name: 'w', Mode: 'fail' }).outcome;
    expect(result).toMatchObject({ ok: false, reason: 'refused to Create w' });
  });
});

describe('provisioning custom resources', () => {
  const stack = (resources: Record<string, CfnResource>, outputs = {}): StackArtifact => ({
    artifactId: 'Stack',
    stackName: 'Stack',
    assemblyDir: tmpdir(),
    templateFile: join(tmpdir(), 'Stack.template.json'),
    template: { Resources: resources, Outputs: outputs },
    dependencies: [],
    environment: {},
  });
  const target = { endpoint: 'http://127.0.0.1:9', region: 'us-east-1', accountId: '123456789012' };

  it('waits for the ServiceToken`s function, hands the resolved properties over and resolves its Data', async () => {
    // GIVEN a custom resource declared before its function, one whose ServiceToken never resolves,
    // and what depends on each
    const template = stack(
      {
        Topics: {
          Type: 'Custom::Topics',
          Properties: { ServiceToken: { 'Fn::GetAtt': ['Fn', 'Arn'] }, Partitions: 3 },
        },
        Fn: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'topics', Runtime: 'nodejs22.x' } },
        Stuck: { Type: 'Custom::Other', Properties: { ServiceToken: { 'Fn::GetAtt': ['Missing', 'Arn'] } } },
        Policy: { Type: 'AWS::IAM::Policy', DependsOn: 'Stuck', Properties: {} },
      },
      { Name: { Value: { 'Fn::GetAtt': ['Topics', 'TopicName'] } }, Id: { Value: { Ref: 'Topics' } } },
    );
    const calls: Record<string, unknown>[] = [];
    const order: string[] = [];
    const registry = new Registry();

    // WHEN
    const result = await provision([template], target, {
      registry,
      customResource: async ({ logicalId, props }) => {
        calls.push({ logicalId, ...props });
        order.push(`apply ${logicalId}`);
        return { type: 'Custom::Topics', ref: 'topics-1', attrs: { TopicName: 'orders' } };
      },
      afterStack: async (s) => {
        order.push(`after ${s.stackName} with outputs ${Object.keys(registry.outputs[s.stackName] ?? {})}`);
      },
      log: () => undefined,
    });

    // THEN only the resolvable one is applied; the other is a stand-in and nothing is unsupported
    expect(calls).toEqual([
      {
        logicalId: 'Topics',
        ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:topics',
        Partitions: 3,
      },
    ]);
    expect(result.registry.outputs.Stack).toEqual({ Name: 'orders', Id: 'topics-1' });
    expect(result.registry.get('Stack', 'Stuck')?.attrs).toHaveProperty('__localStandIn', true);
    expect(result.registry.get('Stack', 'Policy')).toBeDefined();
    expect(result.unsupported).toEqual([]);
    expect(result.registry).toBe(registry);
    expect(order).toEqual(['apply Topics', 'after Stack with outputs Name,Id']);
  });
});

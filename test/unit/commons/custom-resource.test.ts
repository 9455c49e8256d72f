import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

// The shared Powertools logger reads its level when the module loads: keep the test output quiet.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});

const { customResource } = await import('../../../lambdas/commons/custom-resource.js');
type Request = Parameters<ReturnType<typeof customResource<{ Topics: string }>>>[0];

/** What CloudFormation's pre-signed URL received. */
interface Received {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
}

let server: Server;
let baseUrl: string;
let received: Received[];
let answerStatus: number;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method, url: req.url, headers: req.headers, body: JSON.parse(text) });
      res.writeHead(answerStatus, { 'content-type': 'text/plain' });
      res.end(answerStatus === 200 ? '' : 'AccessDenied');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
});

beforeEach(() => {
  received = [];
  answerStatus = 200;
});

const context = {
  logStreamName: '2024/05/01/[$LATEST]abc123',
  functionName: 'topics',
  awsRequestId: 'aws-req-1',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:topics',
  functionVersion: '$LATEST',
  memoryLimitInMB: '128',
} as unknown as Context;

function request(overrides: Partial<Request> = {}): Request {
  return {
    RequestType: 'Create',
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:topics',
    ResponseURL: `${baseUrl}/cfn-response?X-Amz-Signature=abc`,
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/analytics/guid',
    RequestId: 'req-1',
    ResourceType: 'Custom::KafkaTopics',
    LogicalResourceId: 'Topics',
    ResourceProperties: { ServiceToken: 'token', Topics: 'user_activity' },
    ...overrides,
  };
}

describe('customResource', () => {
  it('PUTs SUCCESS with the physical id and data, echoing the request ids', async () => {
    // GIVEN a handler that applies the resource
    const handle = vi.fn(async () => ({ physicalResourceId: 'topics-1', data: { TopicCount: '4' } }));
    const req = request();
    // WHEN CloudFormation invokes it
    await customResource(handle)(req, context);
    // THEN the handler got the request and context, and the pre-signed URL one SUCCESS response
    expect(handle).toHaveBeenCalledWith(req, context);
    expect(received).toHaveLength(1);
    expect(received[0]?.method).toBe('PUT');
    expect(received[0]?.url).toBe('/cfn-response?X-Amz-Signature=abc');
    expect(received[0]?.body).toEqual({
      Status: 'SUCCESS',
      PhysicalResourceId: 'topics-1',
      Data: { TopicCount: '4' },
      StackId: req.StackId,
      RequestId: 'req-1',
      LogicalResourceId: 'Topics',
    });
  });

  it('sends an empty content type, as the pre-signed URL is signed for', async () => {
    await customResource(async () => ({ physicalResourceId: 'topics-1' }))(request(), context);
    expect(received[0]?.headers['content-type'] ?? '').toBe('');
  });

  it('answers empty Data when the handler returns none', async () => {
    await customResource(async () => ({ physicalResourceId: 'topics-1' }))(request(), context);
    expect(received[0]?.body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'topics-1', Data: {} });
  });

  it('answers FAILED with the reason and keeps the existing physical id on Update', async () => {
    // GIVEN a handler that throws on an Update of an existing resource
    const req = request({ RequestType: 'Update', PhysicalResourceId: 'topics-1', RequestId: 'req-2' });
    const handle = async () => {
      throw new Error('topic "user_activity" has 6 partitions; Kafka cannot reduce them to 3');
    };
    // WHEN CloudFormation invokes it
    // THEN the invocation itself succeeds (the failure is reported to CloudFormation, not thrown)
    await expect(customResource(handle)(req, context)).resolves.toBeUndefined();
    // AND the response is FAILED with the error and log stream, the old id kept
    expect(received).toHaveLength(1);
    expect(received[0]?.method).toBe('PUT');
    const body = received[0]?.body;
    expect(body).toEqual({
      Status: 'FAILED',
      Reason: expect.stringContaining(
        'topic "user_activity" has 6 partitions; Kafka cannot reduce them to 3',
      ),
      PhysicalResourceId: 'topics-1',
      StackId: req.StackId,
      RequestId: 'req-2',
      LogicalResourceId: 'Topics',
    });
    expect(body?.Reason).toContain(context.logStreamName);
  });

  it('answers FAILED with <LogicalResourceId>-failed as physical id on a failed Create', async () => {
    const handle = async () => {
      throw new Error('no broker reachable');
    };
    await customResource(handle)(request({ RequestType: 'Create' }), context);
    expect(received[0]?.body).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringContaining('no broker reachable'),
      PhysicalResourceId: 'Topics-failed',
    });
  });

  it('keeps the physical id of a failed Delete', async () => {
    const handle = async () => {
      throw new Error('cannot delete');
    };
    await customResource(handle)(request({ RequestType: 'Delete', PhysicalResourceId: 'topics-9' }), context);
    expect(received[0]?.body).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'topics-9' });
  });

  it('caps the reason at 3000 characters', async () => {
    const handle = async () => {
      throw new Error('x'.repeat(5000));
    };
    await customResource(handle)(request(), context);
    expect(String(received[0]?.body.Reason)).toHaveLength(3000);
  });

  it('fails the invocation when the response is refused', async () => {
    // GIVEN a response URL that answers 403
    answerStatus = 403;
    // WHEN the resource is applied
    // THEN the invocation fails with the status and body
    await expect(
      customResource(async () => ({ physicalResourceId: 'topics-1' }))(request(), context),
    ).rejects.toThrow('CloudFormation refused the response: 403 AccessDenied');
  });
});

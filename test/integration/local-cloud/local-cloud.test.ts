import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { PublishCommand } from '@aws-sdk/client-sns';
import {
  GetQueueAttributesCommand,
  type Message,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JwtIssuer } from '../../../scripts/local-cloud/auth/jwt-issuer.js';
import { ScheduleEventSource } from '../../../scripts/local-cloud/event-sources/schedule.js';
import { LocalCloud } from '../../../scripts/local-cloud/runtime.js';
import { eventually } from '../eventually.js';
import { buildMessagingFixture } from './fixtures/messaging-app.js';
import { signedFetch } from './signed-fetch.js';

const target = () => ({
  endpoint: process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566',
  region: process.env.AWS_REGION ?? 'us-east-1',
  accountId: '123456789012',
});

describe('the local cloud running a synthesized fixture app', () => {
  let cloud: LocalCloud;
  const run = Date.now().toString(36);
  const ref = (logicalPrefix: string) => {
    const all = [
      ...cloud.resources.ofType('AWS::SQS::Queue'),
      ...cloud.resources.ofType('AWS::SNS::Topic'),
      ...cloud.resources.ofType('AWS::DynamoDB::Table'),
    ];
    const found = all.find((r) => r.logicalId.startsWith(logicalPrefix));
    if (!found) throw new Error(`no resource ${logicalPrefix}`);
    return found;
  };
  const effect = async (pk: string) =>
    (
      await cloud.clients.dynamodb.send(
        new GetItemCommand({ TableName: ref('Effects').ref, Key: { pk: { S: pk } }, ConsistentRead: true }),
      )
    ).Item;
  const drain = async (queuePrefix: string, waitSeconds = 1): Promise<Message[]> => {
    const out: Message[] = [];
    for (;;) {
      const r = await cloud.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: ref(queuePrefix).ref,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: waitSeconds,
          MessageAttributeNames: ['All'],
        }),
      );
      if (!r.Messages?.length) return out;
      out.push(...r.Messages);
    }
  };

  beforeAll(async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'fixture-'));
    buildMessagingFixture(outdir, { extraRoute: `added${run}` });
    cloud = await LocalCloud.start({
      assemblyDir: outdir,
      target: target(),
      port: 0,
      log: () => undefined,
      functionLog: () => undefined,
    });
    // Earlier runs on a long-lived emulator may have left messages behind.
    for (const q of [
      'PlacedQueue',
      'EverythingQueue',
      'BodyFilteredQueue',
      'StreamFailures',
      'WorkDeadLetterQueue',
    ]) {
      await cloud.clients.sqs.send(new PurgeQueueCommand({ QueueUrl: ref(q).ref })).catch(() => undefined);
    }
  }, 180_000);

  afterAll(async () => {
    await cloud?.stop();
  });

  it('provisions queues with their redrive policy and visibility timeout from the template', async () => {
    const attrs = await cloud.clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: ref('WorkQueue').ref, AttributeNames: ['All'] }),
    );
    expect(JSON.parse(attrs.Attributes?.RedrivePolicy ?? '{}')).toMatchObject({
      maxReceiveCount: 2,
      deadLetterTargetArn: ref('WorkDeadLetterQueue').attrs.Arn,
    });
    expect(attrs.Attributes?.VisibilityTimeout).toBe('6');
    expect(ref('Source').attrs.StreamArn).toMatch(/^arn:aws:dynamodb:.*\/stream\//);
  });

  it('reports nothing unsupported for an app built from the platform constructs', () => {
    expect(cloud.unsupported).toEqual([]);
  });

  describe('SQS event source mapping', () => {
    it('delivers batches and deletes what succeeded', async () => {
      const ids = Array.from({ length: 4 }, (_, i) => `${run}-ok-${i}`);
      for (const id of ids) {
        await cloud.clients.sqs.send(
          new SendMessageCommand({
            QueueUrl: ref('WorkQueue').ref,
            MessageBody: JSON.stringify({ id, mode: 'ok' }),
          }),
        );
      }
      for (const id of ids) {
        const item = await eventually(() => effect(`sqs#${id}`));
        expect(item.receiveCount?.S).toBe('1');
      }
    });

    it('retries a failed record and moves it to the DLQ after maxReceiveCount receives', async () => {
      const id = `${run}-fail`;
      await cloud.clients.sqs.send(
        new SendMessageCommand({
          QueueUrl: ref('WorkQueue').ref,
          MessageBody: JSON.stringify({ id, mode: 'fail' }),
        }),
      );
      const dead = await eventually(
        async () => (await drain('WorkDeadLetterQueue', 2)).find((m) => m.Body?.includes(id)),
        40_000,
      );
      expect(JSON.parse(dead.Body ?? '{}')).toEqual({ id, mode: 'fail' });
      expect(await effect(`sqs#${id}`)).toBeUndefined();
    }, 60_000);
  });

  describe('SNS subscriptions', () => {
    it('passes only matching messages through attribute and body filter policies, with raw delivery', async () => {
      const publish = (eventType: string, kind: string) =>
        cloud.clients.sns.send(
          new PublishCommand({
            TopicArn: ref('EventsTopic').ref,
            Message: JSON.stringify({ kind, run }),
            MessageAttributes: { eventType: { DataType: 'String', StringValue: eventType } },
          }),
        );
      await publish('OrderPlaced', 'small');
      await publish('OrderShipped', 'big');
      const placed = await drain('PlacedQueue');
      const everything = await drain('EverythingQueue');
      const body = await drain('BodyFilteredQueue');
      expect(placed.map((m) => JSON.parse(m.Body ?? '{}'))).toEqual([{ kind: 'small', run }]);
      expect(everything.map((m) => JSON.parse(m.Body ?? '{}').kind).sort()).toEqual(['big', 'small']);
      expect(body.map((m) => JSON.parse(m.Body ?? '{}'))).toEqual([{ kind: 'big', run }]);
    });

    it('invokes a subscribed function with the SNS event shape, honouring its filter policy', async () => {
      const publish = (message: string, eventType: string) =>
        cloud.clients.sns.send(
          new PublishCommand({
            TopicArn: cloud.resources
              .ofType('AWS::SNS::Topic')
              .find((t) => t.logicalId.startsWith('NotifyTopic'))?.ref,
            Message: message,
            MessageAttributes: { eventType: { DataType: 'String', StringValue: eventType } },
          }),
        );
      await publish(`${run}-hello`, 'Greeting');
      await publish(`${run}-other`, 'Other');
      const item = await eventually(() => effect(`sns#${run}-hello`));
      expect(item.type?.S).toBe('Greeting');
      await new Promise((r) => setTimeout(r, 1500));
      expect(await effect(`sns#${run}-other`)).toBeUndefined();
    });
  });

  describe('DynamoDB stream event source mapping', () => {
    it('delivers every change in order and isolates a poison record by bisection into the on-failure destination', async () => {
      const put = (pk: string, poison = false) =>
        cloud.clients.dynamodb.send(
          new PutItemCommand({
            TableName: ref('Source').ref,
            Item: { pk: { S: pk }, poison: { BOOL: poison } },
          }),
        );
      const good = Array.from({ length: 6 }, (_, i) => `${run}-s${i}`);
      for (const [i, pk] of good.entries()) {
        await put(pk);
        if (i === 2) await put(`${run}-poison`, true);
      }
      for (const pk of good) await eventually(() => effect(`stream#${pk}`));
      const failure = await eventually(async () => (await drain('StreamFailures', 2))[0], 30_000);
      const info = JSON.parse(failure.Body ?? '{}');
      expect(info.DDBStreamBatchInfo).toMatchObject({
        batchSize: 1,
        streamArn: ref('Source').attrs.StreamArn,
      });
      expect(info.requestContext.condition).toBe('RetryAttemptsExhausted');
      expect(await effect(`stream#${run}-poison`)).toBeUndefined();
    }, 60_000);
  });

  describe('schedules', () => {
    it('invokes the target with the scheduled event shape', async () => {
      const schedule = cloud.eventSources.find(
        (s): s is ScheduleEventSource => s instanceof ScheduleEventSource,
      );
      expect(schedule?.description).toMatch(/rate\(1 minute\)/);
      await schedule?.fire();
      const scan = await cloud.clients.dynamodb.send(new ScanCommand({ TableName: ref('Effects').ref }));
      expect(
        scan.Items?.some((i) => i.pk?.S?.startsWith('tick#') && i.detailType?.S === 'Scheduled Event'),
      ).toBe(true);
    });
  });

  describe('REST API', () => {
    it('routes path and query parameters to the function with the proxy event shape and template environment', async () => {
      const res = await fetch(`${cloud.url}/items/42?view=full`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-function')).toMatch(/Api/);
      expect(await res.json()).toMatchObject({
        resource: '/items/{id}',
        path: '/items/42',
        pathParameters: { id: '42' },
        query: { view: 'full' },
        greeting: 'hello from the template',
      });
    });

    it('validates the body against the method model', async () => {
      const post = (body: unknown) =>
        fetch(`${cloud.url}/items`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      expect((await post({ name: 'pen', quantity: 2 })).status).toBe(201);
      // The API's BAD_REQUEST_BODY gateway response shapes the refusal: status, header, template.
      const bad = await post({ name: '', quantity: -1, extra: true });
      expect(bad.status).toBe(422);
      expect(bad.headers.get('x-validated-by')).toBe('gateway');
      const refusal = (await bad.json()) as { message: string; detail: string };
      expect(refusal.message).toBe('Invalid request body');
      expect(refusal.detail).toContain('/name');
      expect(refusal.detail).toContain('/quantity');
    });

    it('answers 403 Missing Authentication Token for an unknown route or method', async () => {
      expect((await fetch(`${cloud.url}/nope`)).status).toBe(403);
      expect((await fetch(`${cloud.url}/items/1`, { method: 'DELETE' })).status).toBe(403);
    });

    it('enforces IAM authorization with SigV4 signatures made with the local credentials', async () => {
      expect((await fetch(`${cloud.url}/iam`)).status).toBe(403);
      const forged = await signedFetch(`${cloud.url}/iam`, { accessKeyId: 'test', secretAccessKey: 'wrong' });
      expect(forged.status).toBe(403);
      const signed = await signedFetch(`${cloud.url}/iam`, {
        accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
        secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
      });
      expect(signed.status).toBe(200);
      expect(((await signed.json()) as { accessKey: string }).accessKey).toBe(
        process.env.AWS_ACCESS_KEY_ID ?? 'test',
      );
    });

    it('enforces the JWT authorizer with tokens of the local issuer', async () => {
      expect((await fetch(`${cloud.url}/jwt`)).status).toBe(401);
      expect(
        (await fetch(`${cloud.url}/jwt`, { headers: { authorization: 'Bearer not.a.jwt' } })).status,
      ).toBe(401);
      const token = new JwtIssuer().issue({ sub: 'user-1', email: 'a@example.com' });
      const ok = await fetch(`${cloud.url}/jwt`, { headers: { authorization: token } });
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { claims: { sub: string } }).claims.sub).toBe('user-1');
    });

    it('serves a route added to the app without any change to the runtime', async () => {
      expect((await fetch(`${cloud.url}/added${run}`)).status).toBe(200);
    });

    it('refuses a payload over API Gateway limit with 413', async () => {
      const res = await fetch(`${cloud.url}/items`, {
        method: 'POST',
        body: 'x'.repeat(10 * 1024 * 1024 + 1),
      });
      expect(res.status).toBe(413);
    });
  });
});

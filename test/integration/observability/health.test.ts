/**
 * Observability end to end on the local cloud: the stage's alarms exist on the AWS emulator,
 * GET /health follows their states as they are set through the CloudWatch API (healthy, degraded,
 * unhealthy with 503), alarm transitions reach the chat webhook once each through the alert topic
 * and the notifier, and the scheduled run announces a change of the overall status.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeAlarmsCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { PublishCommand } from '@aws-sdk/client-sns';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alarmName } from '../../../lambdas/observability/domain/alerts.js';
import { type RunningApp, startApp } from '../app.js';
import { eventually } from '../eventually.js';

const PREFIX = 'Platform-Dev';
const QUEUE_DEPTH = 'fulfilment inventory queue depth';

interface Report {
  status: string;
  summary: string;
  checks: { name: string; kind: string; status: string; reason: string }[];
}

let app: RunningApp;
let chat: Server;
const chatMessages: string[] = [];

beforeAll(async () => {
  chat = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on('end', () => {
      chatMessages.push((JSON.parse(body) as { text: string }).text);
      response.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => chat.listen(0, '127.0.0.1', resolve));
  app = await startApp('observability-e2e');
  // An operator stores the chat webhook's URL in the secret.
  const port = (chat.address() as AddressInfo).port;
  await app.cloud.clients.secrets.send(
    new PutSecretValueCommand({
      SecretId: app.resource('AWS::SecretsManager::Secret', 'ChatWebhook').ref,
      SecretString: `http://127.0.0.1:${port}/hooks/alerts`,
    }),
  );
}, 240_000);

afterAll(async () => {
  // Leave no URL of this test's server behind in the emulator (the secret outlives the test).
  await app?.cloud.clients.secrets
    .send(
      new PutSecretValueCommand({
        SecretId: app.resource('AWS::SecretsManager::Secret', 'ChatWebhook').ref,
        SecretString: 'not-configured',
      }),
    )
    .catch(() => undefined);
  await app?.stop();
  await new Promise((resolve) => chat?.close(resolve));
});

const setState = (check: string, severity: 'warning' | 'critical', state: 'OK' | 'ALARM', reason: string) =>
  app.cloud.clients.cloudwatch.send(
    new SetAlarmStateCommand({
      AlarmName: alarmName(PREFIX, check, severity),
      StateValue: state,
      StateReason: reason,
    }),
  );

const health = async () => {
  const reply = await app.call('GET', '/health');
  return { status: reply.status, report: reply.body as unknown as Report };
};

describe('observability on the local cloud', () => {
  it('creates the alarms of every check on the emulator, warning and critical', async () => {
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await app.cloud.clients.cloudwatch.send(
        new DescribeAlarmsCommand({ AlarmNamePrefix: `${PREFIX}-`, NextToken: token }),
      );
      names.push(...(page.MetricAlarms ?? []).map((a) => a.AlarmName ?? ''));
      token = page.NextToken;
    } while (token);
    expect(names.length).toBeGreaterThan(100);
    expect(names).toEqual(
      expect.arrayContaining([
        alarmName(PREFIX, QUEUE_DEPTH, 'warning'),
        alarmName(PREFIX, QUEUE_DEPTH, 'critical'),
        alarmName(PREFIX, 'api 5xx responses', 'critical'),
        alarmName(PREFIX, 'windowing kafka time lag', 'warning'),
      ]),
    );
  });

  it('GIVEN every alarm OK WHEN GET /health THEN 200 healthy, with the event store probed', async () => {
    const { status, report } = await health();
    expect(status).toBe(200);
    expect(report.status).toBe('healthy');
    expect(report.checks.find((c) => c.name === 'event store')).toMatchObject({
      kind: 'probe',
      status: 'healthy',
    });
    expect(report.checks.find((c) => c.name === QUEUE_DEPTH)).toMatchObject({
      kind: 'alarm',
      status: 'healthy',
    });
  });

  it('GIVEN a warning alarm set to ALARM THEN GET /health is 200 degraded with the reason, and the chat hears it once', async () => {
    await setState(QUEUE_DEPTH, 'warning', 'ALARM', 'Threshold Crossed: 150 messages waiting');
    const { status, report } = await health();
    expect(status).toBe(200);
    expect(report.status).toBe('degraded');
    const check = report.checks[0];
    expect(check).toMatchObject({ name: QUEUE_DEPTH, status: 'degraded' });
    expect(check?.reason).toContain('150 messages waiting');

    const alarm = alarmName(PREFIX, QUEUE_DEPTH, 'warning');
    await eventually(
      async () => (chatMessages.some((m) => m.includes(alarm) && m.includes('ALARM')) ? true : undefined),
      30_000,
    );
    // Delivered at least once by SNS and SQS, and sent once: wait for stragglers, then count.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(chatMessages.filter((m) => m.includes(alarm) && m.includes('is in ALARM'))).toHaveLength(1);
    // The composite of its severity went to ALARM too, and notified.
    expect(chatMessages.some((m) => m.includes(alarmName(PREFIX, 'any', 'warning')))).toBe(true);
  });

  it('GIVEN a critical alarm set to ALARM THEN GET /health is 503 unhealthy, and the scheduled run announces the change', async () => {
    // The scheduled run records the current status first.
    const first = await app.cloud
      .invoker('HealthCheck')
      .invoke({ source: 'aws.events', 'detail-type': 'Scheduled Event' });
    expect(first.ok).toBe(true);

    await setState(QUEUE_DEPTH, 'critical', 'ALARM', 'Threshold Crossed: 2000 messages waiting');
    const { status, report } = await health();
    expect(status).toBe(503);
    expect(report.status).toBe('unhealthy');
    expect(report.checks[0]).toMatchObject({ name: QUEUE_DEPTH, status: 'unhealthy' });

    const run = await app.cloud
      .invoker('HealthCheck')
      .invoke({ source: 'aws.events', 'detail-type': 'Scheduled Event' });
    expect(run.ok && (run.result as Report).status).toBe('unhealthy');
    await eventually(
      async () => (chatMessages.some((m) => m.includes('unhealthy (was degraded)')) ? true : undefined),
      30_000,
    );
    // A second run with nothing changed announces nothing.
    await app.cloud.invoker('HealthCheck').invoke({ source: 'aws.events', 'detail-type': 'Scheduled Event' });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(chatMessages.filter((m) => m.includes('unhealthy (was degraded)'))).toHaveLength(1);
  });

  it('GIVEN the alarms back to OK THEN GET /health is healthy again', async () => {
    await setState(QUEUE_DEPTH, 'critical', 'OK', 'Threshold no longer crossed');
    await setState(QUEUE_DEPTH, 'warning', 'OK', 'Threshold no longer crossed');
    const { status, report } = await health();
    expect(status).toBe(200);
    expect(report.status).toBe('healthy');
    await eventually(
      async () =>
        chatMessages.some(
          (m) => m.includes(alarmName(PREFIX, QUEUE_DEPTH, 'critical')) && m.includes('back to OK'),
        )
          ? true
          : undefined,
      30_000,
    );
  });

  it('GIVEN a message on the alert topic that is not an alert THEN the notifier dead-letters it with the reason', async () => {
    const topicArn = app.resource('AWS::SNS::Topic', 'AlertsTopic').ref;
    await app.cloud.clients.sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Message: JSON.stringify({ AlarmName: 'x', NewStateValue: 'MAYBE' }),
      }),
    );
    const dlq = app.resource('AWS::SQS::Queue', 'AlertQueueDeadLetterQueue').ref;
    const message = await eventually(async () => {
      const { Messages } = await app.cloud.clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: dlq, MessageAttributeNames: ['All'], WaitTimeSeconds: 1 }),
      );
      return Messages?.[0];
    }, 30_000);
    expect(message.MessageAttributes?.reason?.StringValue).toMatch(/^not an alert: .*NewStateValue/);
  });
});

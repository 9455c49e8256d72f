/**
 * The notifier's channels against real parts: e-mail through the emulator's SES (sent from a
 * verified identity, refused from an unverified one), and the chat webhook whose URL is read from
 * the emulator's Secrets Manager and posted to a local HTTP server (skipped while the secret holds
 * no URL, failing loudly on a non-2xx answer).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { GetSendQuotaCommand, SESClient, VerifyEmailIdentityCommand } from '@aws-sdk/client-ses';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Alert } from '../../../lambdas/observability/domain/alerts.js';

const engines = inject('engines');
const aws = {
  endpoint: engines.awsEndpointUrl,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
};
// The adapters create their clients from the environment, as in Lambda (restored afterwards).
const savedEnv = { ...process.env };
process.env.AWS_ENDPOINT_URL = engines.awsEndpointUrl;
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'test';
process.env.AWS_SECRET_ACCESS_KEY = 'test';
const channels = await import('../../../lambdas/observability/adapters/alert-channels.js');

const alert: Alert = {
  id: 'alarm:Platform-Test-orders-queue-depth-critical:ALARM:2026-11-27T03:00:00.000+0000',
  source: 'alarm',
  severity: 'critical',
  title: 'Platform-Test-orders-queue-depth-critical is in ALARM',
  summary: 'Threshold Crossed: 1 datapoint [2000.0] was >= the threshold (1000.0) <queue & more>',
  at: '2026-11-27T03:00:00.000Z',
  details: { region: 'us-east-1' },
};

let server: Server;
let answer = 200;
const received: { path: string; body: { text: string } }[] = [];
let baseUrl = '';
const secrets = new SecretsManagerClient(aws);

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on('end', () => {
      received.push({ path: request.url ?? '', body: JSON.parse(body) as { text: string } });
      response.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  for (const key of ['AWS_ENDPOINT_URL', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
    if (savedEnv[key] === undefined) delete process.env[key];
    else process.env[key] = savedEnv[key];
  }
});

async function secretHolding(value: string): Promise<string> {
  const { ARN } = await secrets.send(
    new CreateSecretCommand({ Name: `chat-${randomUUID()}`, SecretString: value }),
  );
  return ARN as string;
}

describe('the chat webhook channel', () => {
  it('GIVEN the secret holds a URL THEN it posts the formatted alert there, escaped for Slack', async () => {
    const channel = channels.chatWebhookChannel(await secretHolding(`${baseUrl}/hooks/a`));
    await channel(alert);
    const posted = received.filter((r) => r.path === '/hooks/a');
    expect(posted).toHaveLength(1);
    expect(posted[0]?.body.text).toContain('Platform-Test-orders-queue-depth-critical is in ALARM');
    expect(posted[0]?.body.text).toContain('&lt;queue &amp; more&gt;');
  });

  it('GIVEN the secret holds no URL (not configured yet) THEN it posts nothing and does not fail', async () => {
    const before = received.length;
    const channel = channels.chatWebhookChannel(await secretHolding('r4nd0mPlaceholderValue'));
    await expect(channel(alert)).resolves.toBeUndefined();
    expect(await channel.url()).toBeUndefined();
    expect(received.length).toBe(before);
  });

  it('GIVEN the webhook answers 500 THEN the delivery fails (and the notifier retries it)', async () => {
    answer = 500;
    try {
      const channel = channels.chatWebhookChannel(await secretHolding(`${baseUrl}/hooks/b`));
      await expect(channel(alert)).rejects.toThrow('chat webhook answered 500');
    } finally {
      answer = 200;
    }
  });

  it('GIVEN an operator changes the URL THEN it is used once the cache expires', async () => {
    const arn = await secretHolding(`${baseUrl}/hooks/old`);
    const channel = channels.chatWebhookChannel(arn, { cacheMs: 0 });
    await channel(alert);
    await secrets.send(new PutSecretValueCommand({ SecretId: arn, SecretString: `${baseUrl}/hooks/new` }));
    await channel(alert);
    expect(received.filter((r) => r.path === '/hooks/old')).toHaveLength(1);
    expect(received.filter((r) => r.path === '/hooks/new')).toHaveLength(1);
  });
});

describe('the e-mail channel (SES)', () => {
  const ses = new SESClient(aws);

  it('GIVEN a verified sender THEN SES takes the e-mail', async () => {
    await ses.send(new VerifyEmailIdentityCommand({ EmailAddress: 'alerts@shop.example' }));
    const before = (await ses.send(new GetSendQuotaCommand({}))).SentLast24Hours ?? 0;
    await channels.sesChannel(ses, 'alerts@shop.example', ['oncall@shop.example', 'ops@shop.example'])(alert);
    const after = (await ses.send(new GetSendQuotaCommand({}))).SentLast24Hours ?? 0;
    expect(after).toBeGreaterThan(before);
  });

  it('GIVEN an unverified sender THEN SES refuses it and the delivery fails', async () => {
    await expect(
      channels.sesChannel(ses, `nobody-${randomUUID().slice(0, 8)}@unverified.example`, [
        'oncall@shop.example',
      ])(alert),
    ).rejects.toThrow(/not verified|MessageRejected/i);
  });
});

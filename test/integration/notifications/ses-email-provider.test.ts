/**
 * The SES adapter against the emulator's SES: templated e-mails handed over together go out as
 * one SendBulkTemplatedEmail call per template, and each caller gets its own message id.
 */
import { randomUUID } from 'node:crypto';
import { CreateTemplateCommand, SESClient, VerifyEmailIdentityCommand } from '@aws-sdk/client-ses';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import {
  EmailRejectedError,
  SesEmailProvider,
} from '../../../lambdas/notifications/adapters/ses-email-provider.js';
import { EMAIL_TEMPLATES, type Email, templateName } from '../../../lambdas/notifications/domain/emails.js';

const engines = inject('engines');
const FROM = 'orders@shop.example';

/** An SES client that records the name of every operation it sends. */
function recordingClient() {
  const client = new SESClient({
    endpoint: engines.awsEndpointUrl,
    region: process.env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const calls: { operation: string; destinations: number }[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Destinations?: unknown[] };
      calls.push({ operation: String(context.commandName), destinations: input.Destinations?.length ?? 0 });
      return next(args);
    },
    { step: 'initialize', name: 'recordCalls' },
  );
  return { client, calls };
}

const prefix = `Test-${randomUUID().slice(0, 8)}`;
const email = (to: string, template: 'OrderPlaced' | 'OrderShipped'): Email => ({
  to,
  template,
  data: { orderId: 'ord-1', total: '1.00 EUR', shipmentId: 'shp-1' },
  subject: '',
  text: '',
});

beforeAll(async () => {
  const { client } = recordingClient();
  await client.send(new VerifyEmailIdentityCommand({ EmailAddress: FROM }));
  for (const type of ['OrderPlaced', 'OrderShipped'] as const) {
    const { subject, text } = EMAIL_TEMPLATES[type];
    await client.send(
      new CreateTemplateCommand({
        Template: { TemplateName: templateName(prefix, type), SubjectPart: subject, TextPart: text },
      }),
    );
  }
});

describe('SesEmailProvider on the emulator', () => {
  it('sends e-mails handed over together in one bulk call per template, one message id each', async () => {
    // GIVEN the provider over a recording client
    const { client, calls } = recordingClient();
    const provider = new SesEmailProvider(client, { from: FROM, templatePrefix: prefix });
    // WHEN five e-mails of two templates are sent concurrently (as a batch's records are)
    const sent = await Promise.all([
      provider.send(email('a@example.com', 'OrderPlaced')),
      provider.send(email('b@example.com', 'OrderPlaced')),
      provider.send(email('c@example.com', 'OrderShipped')),
      provider.send(email('d@example.com', 'OrderPlaced')),
      provider.send(email('e@example.com', 'OrderShipped')),
    ]);
    // THEN two bulk calls went out (3 and 2 destinations), and every e-mail has its own id
    expect(calls.map((c) => c.operation)).toEqual([
      'SendBulkTemplatedEmailCommand',
      'SendBulkTemplatedEmailCommand',
    ]);
    expect(calls.map((c) => c.destinations).sort()).toEqual([2, 3]);
    expect(new Set(sent.map((s) => s.messageId)).size).toBe(5);
  });

  it('fails every e-mail of a call SES refuses (unverified sender), so each record is retried', async () => {
    const { client } = recordingClient();
    const provider = new SesEmailProvider(client, {
      from: 'nobody@unverified.example',
      templatePrefix: prefix,
    });
    const results = await Promise.allSettled([
      provider.send(email('a@example.com', 'OrderPlaced')),
      provider.send(email('b@example.com', 'OrderPlaced')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/not verified/);
  });

  it('fails an e-mail whose template does not exist, naming it', async () => {
    const { client } = recordingClient();
    const provider = new SesEmailProvider(client, { from: FROM, templatePrefix: 'Missing' });
    await expect(provider.send(email('a@example.com', 'OrderPlaced'))).rejects.toThrow(/Missing-OrderPlaced/);
  });

  it('reports a per-destination refusal as EmailRejectedError with SES status', () => {
    const error = new EmailRejectedError('MessageRejected', 'address on the suppression list');
    expect(error.message).toBe(
      'SES did not send the e-mail: MessageRejected (address on the suppression list)',
    );
  });
});

/**
 * Where alerts go: the log (always), e-mail through SES (when recipients are configured) and a chat
 * webhook whose URL is kept in Secrets Manager (when an operator has stored an https URL there).
 * Each channel is a function of a formatted alert; the notifier makes each delivery happen once.
 */

import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { secretsManagerClient } from '../../commons/clients/secrets-manager.js';
import { logger, tracer } from '../../commons/powertools.js';
import { type Alert, formatChat, formatEmail, formatLog } from '../domain/alerts.js';

export type AlertChannel = (alert: Alert) => Promise<void>;

export const logChannel: AlertChannel = async (alert) => {
  // `message` is the Logger's own key: the alert's goes in as the log message.
  const { message, ...entry } = formatLog(alert);
  const text = typeof message === 'string' ? message : alert.title;
  if (alert.severity === 'critical') logger.error(text, entry);
  else if (alert.severity === 'warning') logger.warn(text, entry);
  else logger.info(text, entry);
};

export function sesChannel(client: SESClient, from: string, to: readonly string[]): AlertChannel {
  return async (alert) => {
    const { subject, text } = formatEmail(alert);
    await client.send(
      new SendEmailCommand({
        Source: from,
        Destination: { ToAddresses: [...to] },
        Message: {
          Subject: { Data: subject, Charset: 'UTF-8' },
          Body: { Text: { Data: text, Charset: 'UTF-8' } },
        },
      }),
    );
  };
}

/** The webhook URL is read at most once per `cacheMs` (an operator may change it any time). */
export function chatWebhookChannel(
  secretArn: string,
  options: { cacheMs?: number; timeoutMs?: number } = {},
): AlertChannel & { url(): Promise<string | undefined> } {
  const cacheMs = options.cacheMs ?? 5 * 60_000;
  let cached: { url: string | undefined; at: number } | undefined;
  const url = async (): Promise<string | undefined> => {
    if (cached && Date.now() - cached.at < cacheMs) return cached.url;
    const out = await secretsManagerClient().send(new GetSecretValueCommand({ SecretId: secretArn }));
    const value = (out.SecretString ?? '').trim();
    cached = {
      url:
        /^https:\/\/\S+$/.test(value) || /^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(value)
          ? value
          : undefined,
      at: Date.now(),
    };
    if (!cached.url) logger.info('No chat webhook configured (the secret holds no https URL): chat skipped');
    return cached.url;
  };
  const send = async (alert: Alert): Promise<void> => {
    const target = await url();
    if (!target) return;
    const response = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(formatChat(alert)),
      signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
    });
    if (!response.ok) {
      throw new Error(`chat webhook answered ${response.status} ${response.statusText}`);
    }
  };
  return Object.assign(send, { url });
}

export const tracedSes = (): SESClient => tracer.captureAWSv3Client(new SESClient({}));

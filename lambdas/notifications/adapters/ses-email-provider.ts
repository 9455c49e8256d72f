/**
 * SES adapter of `EmailProvider`: templated e-mails (the templates of `EMAIL_TEMPLATES`, deployed
 * by the Fulfilment stack), batched. E-mails handed over together (the records of one SQS batch,
 * handled concurrently) go out in one `SendBulkTemplatedEmail` call per template, up to SES's 50
 * destinations per call; each e-mail keeps its own status, so one rejected address fails only its
 * own record.
 */
import { type SESClient, SendBulkTemplatedEmailCommand } from '@aws-sdk/client-ses';
import { Coalescer, type ItemOutcome } from '../../commons/batching/coalescer.js';
import { type Email, type EmailProvider, templateName } from '../domain/emails.js';

/** SES refused one destination of a bulk call (`status` is SES's, e.g. `MessageRejected`). */
export class EmailRejectedError extends Error {
  constructor(
    readonly status: string,
    detail: string | undefined,
  ) {
    super(`SES did not send the e-mail: ${status}${detail ? ` (${detail})` : ''}`);
    this.name = 'EmailRejectedError';
  }
}

export interface SesEmailProviderOptions {
  /** The verified sender address. */
  readonly from: string;
  /** Template names are `<templatePrefix>-<event type>`. */
  readonly templatePrefix: string;
  readonly configurationSet?: string;
  /** How long an e-mail waits for others of its template. @default 20 */
  readonly maxWaitMs?: number;
}

/** SES's limit of destinations per SendBulkTemplatedEmail call. */
export const SES_MAX_DESTINATIONS = 50;

export class SesEmailProvider implements EmailProvider {
  private readonly batcher: Coalescer<Email, { messageId: string }>;

  constructor(
    private readonly client: SESClient,
    private readonly options: SesEmailProviderOptions,
  ) {
    this.batcher = new Coalescer((emails) => this.sendBulk(emails), {
      maxItems: SES_MAX_DESTINATIONS,
      maxWaitMs: options.maxWaitMs ?? 20,
      groupOf: (email) => email.template,
    });
  }

  send(email: Email): Promise<{ messageId: string }> {
    return this.batcher.submit(email);
  }

  private async sendBulk(emails: readonly Email[]): Promise<ItemOutcome<{ messageId: string }>[]> {
    const [first] = emails;
    if (!first) return [];
    const out = await this.client.send(
      new SendBulkTemplatedEmailCommand({
        Source: this.options.from,
        Template: templateName(this.options.templatePrefix, first.template),
        DefaultTemplateData: '{}',
        ConfigurationSetName: this.options.configurationSet,
        Destinations: emails.map((email) => ({
          Destination: { ToAddresses: [email.to] },
          ReplacementTemplateData: JSON.stringify(email.data),
        })),
      }),
    );
    // A destination with a message id was accepted (SES says `Success`; emulators may omit it).
    return emails.map((_, i) => {
      const status = out.Status?.[i];
      return status?.MessageId && (status.Status ?? 'Success') === 'Success'
        ? { ok: true, value: { messageId: status.MessageId } }
        : { ok: false, error: new EmailRejectedError(status?.Status ?? 'NoStatus', status?.Error) };
    });
  }
}

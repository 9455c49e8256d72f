/** SES (v2) adapter of `EmailProvider`: a simple message from the configured sender identity. */
import { type SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { Email, EmailProvider } from '../domain/emails.js';

export class SesEmailProvider implements EmailProvider {
  constructor(
    private readonly client: SESv2Client,
    private readonly from: string,
    private readonly configurationSet?: string,
  ) {}

  async send(email: Email): Promise<{ messageId: string }> {
    const out = await this.client.send(
      new SendEmailCommand({
        FromEmailAddress: this.from,
        Destination: { ToAddresses: [email.to] },
        Content: {
          Simple: {
            Subject: { Data: email.subject, Charset: 'UTF-8' },
            Body: { Text: { Data: email.text, Charset: 'UTF-8' } },
          },
        },
        ConfigurationSetName: this.configurationSet,
      }),
    );
    return { messageId: out.MessageId ?? '' };
  }
}

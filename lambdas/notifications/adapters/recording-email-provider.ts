/**
 * The test e-mail provider (`EMAIL_PROVIDER=test`, the local runtime and tests): sends nothing and
 * records every e-mail it accepts in the recipient's mailbox, an item `test-mailbox#<to>` of the
 * operational-state table (`count` and the list of `{subject, template, messageId, at}`), so that
 * tests and the fault-injection ledger can count what a run sent, per recipient: a duplicate shows
 * as two entries, a missing e-mail as none. Mailboxes expire after a week (the table's TTL).
 */
import { randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { OPERATIONAL_STATE_KEY } from '../../commons/resilience/table-schema.js';
import type { Email, EmailProvider } from '../domain/emails.js';

export const TEST_MAILBOX_PREFIX = 'test-mailbox#';
const RETENTION_SECONDS = 7 * 24 * 3600;

export interface RecordedEmail {
  readonly subject: string;
  readonly template: string;
  readonly messageId: string;
  readonly at: string;
}

export class RecordingEmailProvider implements EmailProvider {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async send(email: Email): Promise<{ messageId: string }> {
    const messageId = `test-${randomUUID()}`;
    const entry: RecordedEmail = {
      subject: email.subject,
      template: email.template,
      messageId,
      at: new Date().toISOString(),
    };
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { [OPERATIONAL_STATE_KEY]: `${TEST_MAILBOX_PREFIX}${email.to}` },
        UpdateExpression:
          'SET emails = list_append(if_not_exists(emails, :none), :one), expiresAt = :exp ADD #count :inc',
        ExpressionAttributeNames: { '#count': 'count' },
        ExpressionAttributeValues: {
          ':none': [],
          ':one': [entry],
          ':exp': Math.floor(Date.now() / 1000) + RETENTION_SECONDS,
          ':inc': 1,
        },
      }),
    );
    return { messageId };
  }
}

/**
 * The e-mail markers (`domain/email-outbox.ts`) in the operational-state table: one item per
 * `email#<subject>#<type>`, written whole with optimistic concurrency (`rev`), so two senders
 * deciding on the same marker cannot both win: the loser decides again on what is stored.
 *
 * Item: `pk, rev, status, to, subject, eventId` (the latter three for people and older readers),
 * `task` (the rendered e-mail), `pendingSince` and `pendingShard` (only while the e-mail is owed:
 * a sparse index on them finds owed e-mails without reading the others), `claimToken, claimedAt,
 * attempts, messageId, sentAt, reason`, and `expiresAt` (the table's TTL) once sent or given up:
 * 30 days, far beyond any redelivery (SQS keeps a message 14 days at most).
 *
 * Owed e-mails are found (`owed`) through the sparse index named by `EMAIL_PENDING_INDEX_NAME`
 * (partition `pendingShard`, sort `pendingSince`); without one, by a filtered scan, which reads the
 * whole table: fine for a small stage, the index is the production answer.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import { DomainError } from '../../commons/domain/decider.js';
import { OPERATIONAL_STATE_KEY } from '../../commons/resilience/table-schema.js';
import type { EmailMarkerStore } from '../application/email-outbox-service.js';
import type { EmailTask } from '../domain/email-dispatch.js';
import {
  type EmailMarker,
  type EmailMarkerCommand,
  type EmailMarkerEvent,
  emailMarkerDecider,
  initialEmailMarker,
} from '../domain/email-outbox.js';

/** The partition of the sparse index of owed e-mails. */
export const EMAIL_PENDING_SHARD = 'email';
const RETENTION_SECONDS = 30 * 24 * 3600;
/** Decisions re-taken when another writer changed the marker meanwhile. */
const MAX_DECISIONS = 5;

type Item = Record<string, unknown>;

interface Loaded {
  readonly marker: EmailMarker;
  /** null: no item; 0: an item of an older version (no `rev`). */
  readonly rev: number | null;
  readonly item: Item | undefined;
}

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const num = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;

/** The marker an item holds (items of the former at-most-once marker included). */
export function markerOf(item: Item | undefined): EmailMarker {
  if (!item) return initialEmailMarker;
  const status = item.status;
  const token = str(item.claimToken);
  return {
    status:
      status === 'queued' || status === 'sending' || status === 'sent' || status === 'failed'
        ? status
        : 'queued',
    task: (item.task as EmailTask | undefined) ?? null,
    pendingSince: num(item.pendingSince),
    // A former `sending` marker has no claim: its sender is long gone, so it reads as stale.
    claim: status === 'sending' ? { token: token ?? 'unknown', at: num(item.claimedAt) ?? 0 } : null,
    attempts: num(item.attempts) ?? 0,
    messageId: str(item.messageId),
    reason: str(item.reason),
  };
}

export class DynamoDbEmailMarkerStore implements EmailMarkerStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: { readonly pendingIndexName?: string; readonly now?: () => number } = {},
  ) {}

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  async load(key: string): Promise<Loaded> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { [OPERATIONAL_STATE_KEY]: key },
        ConsistentRead: true,
      }),
    );
    return { marker: markerOf(Item), rev: Item ? (num(Item.rev) ?? 0) : null, item: Item };
  }

  /**
   * Decides `command` on the stored marker and stores the outcome; decides again when another
   * writer got there first. Throws the decider's DomainError when the command is refused.
   */
  async execute(
    key: string,
    command: (marker: EmailMarker) => EmailMarkerCommand,
  ): Promise<{ events: readonly EmailMarkerEvent[]; marker: EmailMarker }> {
    for (let decision = 1; decision <= MAX_DECISIONS; decision++) {
      const loaded = await this.load(key);
      const events = emailMarkerDecider.decide(loaded.marker, command(loaded.marker));
      if (events.length === 0) return { events, marker: loaded.marker };
      const marker = events.reduce(emailMarkerDecider.evolve, loaded.marker);
      try {
        await this.save(key, marker, loaded);
        return { events, marker };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    throw new DomainError('CONTENDED', `${key} kept changing during ${MAX_DECISIONS} decisions`);
  }

  private async save(key: string, marker: EmailMarker, loaded: Loaded): Promise<void> {
    const done = marker.status === 'sent' || marker.status === 'failed';
    const now = this.now();
    const item: Item = {
      [OPERATIONAL_STATE_KEY]: key,
      rev: (loaded.rev ?? 0) + 1,
      status: marker.status,
      to: marker.task?.email.to ?? loaded.item?.to,
      subject: marker.task?.email.subject ?? loaded.item?.subject,
      eventId: marker.task?.eventId ?? loaded.item?.eventId,
      task: marker.task ?? undefined,
      attempts: marker.attempts,
      ...(marker.pendingSince !== null && !done
        ? { pendingSince: marker.pendingSince, pendingShard: EMAIL_PENDING_SHARD }
        : {}),
      ...(marker.claim ? { claimToken: marker.claim.token, claimedAt: marker.claim.at } : {}),
      ...(marker.messageId ? { messageId: marker.messageId } : {}),
      ...(marker.status === 'sent' ? { sentAt: new Date(now).toISOString() } : {}),
      ...(marker.reason ? { reason: marker.reason } : {}),
      ...(done ? { expiresAt: Math.floor(now / 1000) + RETENTION_SECONDS } : {}),
    };
    const names = { '#pk': OPERATIONAL_STATE_KEY, '#rev': 'rev' };
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: item,
        ...(loaded.rev === null
          ? {
              ConditionExpression: 'attribute_not_exists(#pk)',
              ExpressionAttributeNames: { '#pk': OPERATIONAL_STATE_KEY },
            }
          : loaded.rev === 0
            ? {
                ConditionExpression: 'attribute_exists(#pk) AND attribute_not_exists(#rev)',
                ExpressionAttributeNames: names,
              }
            : {
                ConditionExpression: '#rev = :rev',
                ExpressionAttributeNames: { '#rev': 'rev' },
                ExpressionAttributeValues: { ':rev': loaded.rev },
              }),
      }),
    );
  }

  /** E-mails owed since before `olderThan` (epoch ms), at most `limit`: what the sweep queues again. */
  async owed(olderThan: number, limit: number): Promise<EmailTask[]> {
    const tasks: EmailTask[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = this.options.pendingIndexName
        ? await this.db.send(
            new QueryCommand({
              TableName: this.tableName,
              IndexName: this.options.pendingIndexName,
              KeyConditionExpression: 'pendingShard = :shard AND pendingSince < :before',
              ExpressionAttributeValues: { ':shard': EMAIL_PENDING_SHARD, ':before': olderThan },
              ExclusiveStartKey: startKey,
            }),
          )
        : await this.db.send(
            new ScanCommand({
              TableName: this.tableName,
              FilterExpression: 'pendingShard = :shard AND pendingSince < :before',
              ExpressionAttributeValues: { ':shard': EMAIL_PENDING_SHARD, ':before': olderThan },
              ExclusiveStartKey: startKey,
              ConsistentRead: true,
            }),
          );
      for (const item of page.Items ?? []) {
        if (tasks.length >= limit) break;
        // An index that does not project the task: read the marker itself.
        const task =
          (item.task as EmailTask | undefined) ??
          (await this.load(String(item[OPERATIONAL_STATE_KEY]))).marker.task ??
          undefined;
        if (task) tasks.push(task);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey && tasks.length < limit);
    return tasks;
  }
}

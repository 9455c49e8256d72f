/**
 * One e-mail per (subject, event type), none missing and none twice, under redelivery of events
 * and of queued tasks, a crash between queueing and sending, and a Redis that lost its data.
 *
 * Where each fact lives, and why:
 * - The durable record is the e-mail's marker in DynamoDB (`email#<subject>#<type>`), a small
 *   state machine decided here. The notification consumer writes it (`queued`, with the rendered
 *   e-mail) BEFORE its SQS message is acknowledged, so from then on the e-mail is owed whatever
 *   happens to Redis or to the function.
 * - The Redis priority queue only schedules (transactional before bulk; backoff; leases). It may
 *   lose tasks (a restart without persistence, an asynchronous failover): the scheduled dispatcher
 *   sweeps the markers still owed (`queued`, or `sending` by a dead sender) and queues them again;
 *   the queue ignores a task id it already holds, so the sweep is harmless when nothing was lost.
 * - Sending claims the marker first (`sending`, with the delivery's lease token and the time);
 *   only the claimer sends, then records `sent` with the provider's message id. A provider failure
 *   gives the claim back (`queued`) for the retry; a marker already `sent` makes every later
 *   delivery a no-op.
 *
 * Why a claim and not "mark sent first" (the former at-most-once marker): a marker set before
 * sending plus a crash is an e-mail lost for good. A claim expires instead: a claim older than
 * `staleAfterMs` (longer than any function can live, so its sender is dead) may be taken over, and
 * the e-mail is sent. The one window left is a crash after the provider accepted the e-mail and
 * before `sent` was written (milliseconds): SES has no idempotency key to ask it "did you send
 * this?", so there the takeover sends it a second time. We choose that rare duplicate over a
 * missing e-mail; every other redelivery is exactly once.
 *
 *   NONE ─Request→ queued ─Claim→ sending ─Complete→ sent
 *                    ↑  ←Abandon─┘ │  ↑ Claim (stale: its sender died)
 *                    └── failed ←GiveUp (dead-lettered; a redriven task claims it again)
 *
 * Refusals (DomainError): ALREADY_SENT (nothing to do), GAVE_UP (the operator redrives it),
 * IN_PROGRESS (another sender holds a fresh claim: ask again after `retryAfterMs`).
 * Pure: no AWS, no Lambda; times are epoch milliseconds given by the caller.
 */
import { type Decider, DomainError, type DomainEvent } from '../../commons/domain/decider.js';
import type { EmailTask } from './email-dispatch.js';

export const EMAIL_MARKER_STATUSES = ['NONE', 'queued', 'sending', 'sent', 'failed'] as const;
export type EmailMarkerStatus = (typeof EMAIL_MARKER_STATUSES)[number];

export interface EmailMarker {
  readonly status: EmailMarkerStatus;
  /** The rendered e-mail (what the sweep queues again); absent on markers of older versions. */
  readonly task: EmailTask | null;
  /** When the e-mail was first owed (set while `queued` or `sending`: what the sweep looks at). */
  readonly pendingSince: number | null;
  readonly claim: { readonly token: string; readonly at: number } | null;
  /** Claims so far (sends tried). */
  readonly attempts: number;
  readonly messageId: string | null;
  readonly reason: string | null;
}

export const initialEmailMarker: EmailMarker = {
  status: 'NONE',
  task: null,
  pendingSince: null,
  claim: null,
  attempts: 0,
  messageId: null,
  reason: null,
};

export type EmailMarkerCommand =
  | { readonly type: 'Request'; readonly task: EmailTask; readonly now: number }
  | {
      readonly type: 'Claim';
      readonly task: EmailTask;
      readonly token: string;
      readonly now: number;
      readonly staleAfterMs: number;
    }
  | { readonly type: 'Complete'; readonly token: string; readonly messageId: string; readonly now: number }
  | { readonly type: 'Abandon'; readonly token: string; readonly reason: string }
  | { readonly type: 'GiveUp'; readonly token: string; readonly reason: string };

export type EmailMarkerEvent =
  | DomainEvent<'EmailRequested', { task: EmailTask; at: number }>
  | DomainEvent<'SendingClaimed', { token: string; at: number; tookOverFrom: string | null }>
  | DomainEvent<'EmailSent', { messageId: string; at: number; claimedBy: string }>
  | DomainEvent<'SendingAbandoned', { reason: string }>
  | DomainEvent<'EmailGivenUp', { reason: string }>;

/** Another sender holds a fresh claim: the e-mail is being sent; ask again after `retryAfterMs`. */
export class EmailInProgressError extends DomainError {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super('IN_PROGRESS', message);
    this.name = 'EmailInProgressError';
  }
}

function decide(state: EmailMarker, command: EmailMarkerCommand): readonly EmailMarkerEvent[] {
  switch (command.type) {
    case 'Request':
      if (state.status === 'sent') throw new DomainError('ALREADY_SENT', `${command.task.key} was sent`);
      if (state.status === 'failed') {
        throw new DomainError('GAVE_UP', `${command.task.key} was dead-lettered: ${state.reason ?? ''}`);
      }
      // Owed already (queued or being sent): nothing new to record; the caller queues it again.
      if (state.status !== 'NONE') return [];
      return [{ type: 'EmailRequested', data: { task: command.task, at: command.now } }];
    case 'Claim': {
      const key = command.task.key;
      if (state.status === 'sent') throw new DomainError('ALREADY_SENT', `${key} was sent`);
      const requested: EmailMarkerEvent[] =
        state.status === 'NONE'
          ? [{ type: 'EmailRequested', data: { task: command.task, at: command.now } }]
          : [];
      let tookOverFrom: string | null = null;
      if (state.status === 'sending' && state.claim && state.claim.token !== command.token) {
        const staleAt = state.claim.at + command.staleAfterMs;
        if (command.now < staleAt) {
          throw new EmailInProgressError(
            `${key} is being sent by ${state.claim.token}`,
            staleAt - command.now,
          );
        }
        tookOverFrom = state.claim.token;
      }
      return [
        ...requested,
        { type: 'SendingClaimed', data: { token: command.token, at: command.now, tookOverFrom } },
      ];
    }
    case 'Complete':
      // Sent is a fact, whoever holds the claim now; a second completion records nothing more.
      if (state.status === 'sent') return [];
      return [
        {
          type: 'EmailSent',
          data: { messageId: command.messageId, at: command.now, claimedBy: command.token },
        },
      ];
    case 'Abandon':
    case 'GiveUp': {
      const mine = state.status === 'sending' && state.claim?.token === command.token;
      if (!mine && !(command.type === 'GiveUp' && state.status === 'queued')) return [];
      return command.type === 'Abandon'
        ? [{ type: 'SendingAbandoned', data: { reason: command.reason } }]
        : [{ type: 'EmailGivenUp', data: { reason: command.reason } }];
    }
    default: {
      const unknown: never = command;
      throw new DomainError(
        'UNKNOWN_COMMAND',
        `Unknown e-mail command: ${String((unknown as { type?: unknown }).type)}`,
      );
    }
  }
}

function evolve(state: EmailMarker, event: EmailMarkerEvent): EmailMarker {
  switch (event.type) {
    case 'EmailRequested':
      return { ...state, status: 'queued', task: event.data.task, pendingSince: event.data.at, reason: null };
    case 'SendingClaimed':
      return {
        ...state,
        status: 'sending',
        pendingSince: state.pendingSince ?? event.data.at,
        claim: { token: event.data.token, at: event.data.at },
        attempts: state.attempts + 1,
      };
    case 'EmailSent':
      return { ...state, status: 'sent', pendingSince: null, claim: null, messageId: event.data.messageId };
    case 'SendingAbandoned':
      return { ...state, status: 'queued', claim: null, reason: event.data.reason };
    case 'EmailGivenUp':
      return { ...state, status: 'failed', pendingSince: null, claim: null, reason: event.data.reason };
    default:
      return state;
  }
}

export const emailMarkerDecider: Decider<EmailMarker, EmailMarkerCommand, EmailMarkerEvent> = {
  aggregateType: 'EmailMarker',
  initialState: initialEmailMarker,
  decide,
  evolve,
};

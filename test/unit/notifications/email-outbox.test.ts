/**
 * The e-mail marker's state machine, given/when/then: GIVEN the marker's past, WHEN the consumer
 * requests the e-mail or a sender claims, completes, abandons or gives it up, THEN what is
 * recorded, or the refusal that makes the delivery a no-op.
 */
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../lambdas/commons/domain/decider.js';
import type { EmailTask } from '../../../lambdas/notifications/domain/email-dispatch.js';
import {
  EmailInProgressError,
  type EmailMarkerCommand,
  type EmailMarkerEvent,
  emailMarkerDecider,
  initialEmailMarker,
} from '../../../lambdas/notifications/domain/email-outbox.js';

const task: EmailTask = {
  key: 'email#ord-1#OrderPlaced',
  eventId: 'e1',
  email: {
    to: 'a@b.c',
    template: 'OrderPlaced',
    data: { orderId: 'ord-1' },
    subject: 'Order ord-1 received',
    text: 't',
  },
};
const STALE = 120_000;
const requested: EmailMarkerEvent = { type: 'EmailRequested', data: { task, at: 1000 } };
const claimed = (token: string, at: number): EmailMarkerEvent => ({
  type: 'SendingClaimed',
  data: { token, at, tookOverFrom: null },
});
const sent: EmailMarkerEvent = { type: 'EmailSent', data: { messageId: 'm1', at: 3000, claimedBy: 'A' } };

const given = (...past: EmailMarkerEvent[]) => {
  const state = past.reduce(emailMarkerDecider.evolve, initialEmailMarker);
  return {
    when(command: EmailMarkerCommand) {
      try {
        const events = emailMarkerDecider.decide(state, command);
        return { events, state: events.reduce(emailMarkerDecider.evolve, state), error: undefined };
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        return { events: [], state, error };
      }
    },
  };
};
const claim = (token: string, now: number): EmailMarkerCommand => ({
  type: 'Claim',
  task,
  token,
  now,
  staleAfterMs: STALE,
});

describe('e-mail marker', () => {
  it('GIVEN nothing WHEN requested THEN it is owed (queued) with its e-mail, since then', () => {
    const then = given().when({ type: 'Request', task, now: 1000 });
    expect(then.events).toEqual([requested]);
    expect(then.state).toMatchObject({ status: 'queued', task, pendingSince: 1000 });
  });

  it('GIVEN an owed or in-flight e-mail WHEN requested again (a redelivered event) THEN nothing new is recorded', () => {
    expect(given(requested).when({ type: 'Request', task, now: 5000 })).toMatchObject({
      events: [],
      error: undefined,
    });
    expect(given(requested, claimed('A', 2000)).when({ type: 'Request', task, now: 5000 }).events).toEqual(
      [],
    );
  });

  it('GIVEN a sent e-mail WHEN requested or claimed again THEN it is refused: ALREADY_SENT', () => {
    expect(
      given(requested, claimed('A', 2000), sent).when({ type: 'Request', task, now: 9000 }).error?.code,
    ).toBe('ALREADY_SENT');
    expect(given(requested, claimed('A', 2000), sent).when(claim('B', 9000)).error?.code).toBe(
      'ALREADY_SENT',
    );
  });

  it('GIVEN an owed e-mail WHEN claimed THEN the claimer holds it; a second claimer is told to come back when the claim goes stale', () => {
    const first = given(requested).when(claim('A', 2000));
    expect(first.state).toMatchObject({ status: 'sending', claim: { token: 'A', at: 2000 }, attempts: 1 });
    const second = given(requested, claimed('A', 2000)).when(claim('B', 10_000));
    expect(second.error).toBeInstanceOf(EmailInProgressError);
    expect((second.error as EmailInProgressError).retryAfterMs).toBe(2000 + STALE - 10_000);
  });

  it('GIVEN a claim whose sender died (older than the stale bound) WHEN claimed THEN it is taken over: the e-mail is not lost', () => {
    const then = given(requested, claimed('A', 2000)).when(claim('B', 2000 + STALE));
    expect(then.events).toEqual([
      { type: 'SendingClaimed', data: { token: 'B', at: 2000 + STALE, tookOverFrom: 'A' } },
    ]);
    expect(then.state).toMatchObject({ status: 'sending', attempts: 2 });
  });

  it('GIVEN a claim WHEN completed THEN it is sent, no longer owed; a second completion records nothing', () => {
    const then = given(requested, claimed('A', 2000)).when({
      type: 'Complete',
      token: 'A',
      messageId: 'm1',
      now: 3000,
    });
    expect(then.state).toMatchObject({ status: 'sent', messageId: 'm1', pendingSince: null, claim: null });
    expect(
      given(requested, claimed('A', 2000), sent).when({
        type: 'Complete',
        token: 'B',
        messageId: 'm2',
        now: 4000,
      }).events,
    ).toEqual([]);
  });

  it('GIVEN a claim WHEN its sender abandons it (the provider failed) THEN it is owed again; another sender’s abandon changes nothing', () => {
    const mine = given(requested, claimed('A', 2000)).when({
      type: 'Abandon',
      token: 'A',
      reason: 'throttled',
    });
    expect(mine.state).toMatchObject({
      status: 'queued',
      claim: null,
      pendingSince: 1000,
      reason: 'throttled',
    });
    expect(
      given(requested, claimed('B', 2000)).when({ type: 'Abandon', token: 'A', reason: 'x' }).events,
    ).toEqual([]);
  });

  it('GIVEN a dead-lettered e-mail THEN it is no longer owed (not swept), a request is refused, and a redriven task claims it', () => {
    const failed = given(requested, claimed('A', 2000)).when({
      type: 'GiveUp',
      token: 'A',
      reason: 'rejected',
    });
    expect(failed.state).toMatchObject({ status: 'failed', pendingSince: null, reason: 'rejected' });
    const past = [requested, claimed('A', 2000), ...failed.events];
    expect(given(...past).when({ type: 'Request', task, now: 9000 }).error?.code).toBe('GAVE_UP');
    expect(given(...past).when(claim('C', 9000)).state).toMatchObject({
      status: 'sending',
      pendingSince: 9000,
    });
  });

  it('GIVEN no marker (a task queued before markers) WHEN claimed THEN it is recorded and claimed at once', () => {
    expect(
      given()
        .when(claim('A', 2000))
        .events.map((e) => e.type),
    ).toEqual(['EmailRequested', 'SendingClaimed']);
  });
});

import { describe, expect, it } from 'vitest';
import { createEnvelope, type EventEnvelope } from '../../../lambdas/commons/event-store/envelope.js';
import { InvalidEventError } from '../../../lambdas/commons/projection/projection.js';
import {
  CUSTOMER_AGGREGATE_TYPE,
  type CustomerCommand,
  type CustomerEvent,
  type CustomerState,
  customerDecider,
} from '../../../lambdas/customers/domain/customer.js';
import {
  type CustomerView,
  customerViewProjection,
  emailDomainOf,
  projectCustomer,
} from '../../../lambdas/customers/read-model/customer-view.js';

// ---- helpers ------------------------------------------------------------------------------------

const CUSTOMER_ID = 'cus-1';

/** Event n occurs at minute n. */
const at = (version: number) => `2024-05-01T10:${String(version).padStart(2, '0')}:00.000Z`;

const envelopeOf = (event: { type: string; data: unknown }, version: number): EventEnvelope =>
  createEnvelope(event, {
    aggregateType: CUSTOMER_AGGREGATE_TYPE,
    aggregateId: CUSTOMER_ID,
    version,
    correlationId: 'corr-1',
    causationId: `cmd-${version}`,
    occurredAt: at(version),
    eventId: `evt-${version}`,
  });

/** Runs commands through the decider and folds the events it decided into the view. */
function run(commands: readonly CustomerCommand[]) {
  let state: CustomerState = customerDecider.initialState;
  let view: CustomerView | undefined;
  const envelopes: EventEnvelope[] = [];
  for (const command of commands) {
    for (const event of customerDecider.decide(state, command)) {
      const envelope = envelopeOf(event, envelopes.length + 1);
      envelopes.push(envelope);
      state = customerDecider.evolve(state, event as CustomerEvent);
      view = projectCustomer(view, envelope);
    }
  }
  if (!view) throw new Error('no events were decided');
  return { state, view, envelopes };
}

/** The view fields the decider's state also has must agree with it. */
function expectAgreement(view: CustomerView, state: CustomerState) {
  expect(view.status).toBe(state.status);
  expect(view.active).toBe(state.status === 'ACTIVE');
  expect(view.customerId).toBe(state.customerId);
  expect(view.email).toBe(state.email);
  expect(view.name).toBe(state.name);
  expect(view.deactivationReason ?? null).toBe(state.deactivationReason);
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the projection to refuse the event');
}

const register: CustomerCommand = {
  type: 'RegisterCustomer',
  data: { customerId: CUSTOMER_ID, email: 'Ada@Example.COM', name: 'Ada Lovelace' },
};
const changeEmail: CustomerCommand = { type: 'ChangeEmail', data: { email: 'ada@Analytical.Engine.ORG' } };
const deactivate: CustomerCommand = { type: 'DeactivateCustomer', data: { reason: 'asked to close' } };
const deactivateSilently: CustomerCommand = { type: 'DeactivateCustomer', data: {} };
const reactivate: CustomerCommand = { type: 'ReactivateCustomer', data: {} };

const registeredView: CustomerView = {
  customerId: CUSTOMER_ID,
  email: 'ada@example.com',
  emailDomain: 'example.com',
  name: 'Ada Lovelace',
  status: 'ACTIVE',
  active: true,
  registeredAt: at(1),
  updatedAt: at(1),
};

// ---- emailDomainOf ------------------------------------------------------------------------------

describe('emailDomainOf', () => {
  it.each([
    ['Ann@Example.COM', 'example.com'],
    ['a@b.co', 'b.co'],
    ['"odd@name"@Mail.Example.org', 'mail.example.org'],
  ])('%s → %s (lower-case text after the last @)', (email, domain) => {
    expect(emailDomainOf(email)).toBe(domain);
  });
});

// ---- projectCustomer ----------------------------------------------------------------------------

describe('projectCustomer', () => {
  it('is the customers projection of the Customer aggregate', () => {
    expect(customerViewProjection).toMatchObject({ name: 'customers', aggregateType: 'Customer' });
    expect(customerViewProjection.project).toBe(projectCustomer);
  });

  it('GIVEN no view WHEN CustomerRegistered THEN ACTIVE, active true and a lower-case email domain', () => {
    // WHEN
    const { state, view } = run([register]);

    // THEN
    expect(view).toEqual(registeredView);
    expectAgreement(view, state);
  });

  it('lower-cases the domain even when the stored event carries an upper-case email', () => {
    // GIVEN an event written before emails were normalized
    const event = envelopeOf(
      { type: 'CustomerRegistered', data: { customerId: CUSTOMER_ID, email: 'Bo@MAIL.Example', name: 'Bo' } },
      1,
    );

    // WHEN
    const view = projectCustomer(undefined, event);

    // THEN
    expect(view.emailDomain).toBe('mail.example');
    expect(view.email).toBe('bo@mail.example');
  });

  it('GIVEN ACTIVE WHEN CustomerEmailChanged THEN the email and its domain change', () => {
    const { state, view } = run([register, changeEmail]);

    expect(view).toEqual({
      ...registeredView,
      email: 'ada@analytical.engine.org',
      emailDomain: 'analytical.engine.org',
      updatedAt: at(2),
    });
    expectAgreement(view, state);
  });

  it('GIVEN ACTIVE WHEN CustomerDeactivated with a reason THEN INACTIVE, active false, with the reason', () => {
    const { state, view } = run([register, deactivate]);

    expect(view).toEqual({
      ...registeredView,
      status: 'INACTIVE',
      active: false,
      deactivationReason: 'asked to close',
      updatedAt: at(2),
    });
    expectAgreement(view, state);
  });

  it('GIVEN ACTIVE WHEN CustomerDeactivated without a reason THEN INACTIVE with no reason field', () => {
    const { state, view } = run([register, deactivateSilently]);

    expect(view).toEqual({ ...registeredView, status: 'INACTIVE', active: false, updatedAt: at(2) });
    expect(view).not.toHaveProperty('deactivationReason');
    expectAgreement(view, state);
  });

  it('GIVEN INACTIVE with a reason WHEN CustomerReactivated THEN ACTIVE and the reason is dropped', () => {
    const { state, view } = run([register, deactivate, reactivate]);

    expect(view).toEqual({ ...registeredView, updatedAt: at(3) });
    expect(view).not.toHaveProperty('deactivationReason');
    expectAgreement(view, state);
  });

  it('folds a longer history: a second deactivation without a reason does not revive the first reason', () => {
    const { state, view } = run([register, deactivate, reactivate, changeEmail, deactivateSilently]);

    expect(view).toEqual({
      ...registeredView,
      email: 'ada@analytical.engine.org',
      emailDomain: 'analytical.engine.org',
      status: 'INACTIVE',
      active: false,
      updatedAt: at(5),
    });
    expectAgreement(view, state);
  });

  // ---- refusals ---------------------------------------------------------------------------------

  it.each([
    ['CustomerEmailChanged', { customerId: CUSTOMER_ID, previousEmail: 'a@b.co', email: 'c@d.co' }],
    ['CustomerDeactivated', { customerId: CUSTOMER_ID }],
    ['CustomerReactivated', { customerId: CUSTOMER_ID }],
    ['CustomerNicknamed', { nickname: 'Ada' }],
  ])('GIVEN no view WHEN %s THEN InvalidEventError: it precedes CustomerRegistered', (type, data) => {
    const error = caught(() => projectCustomer(undefined, envelopeOf({ type, data }, 1)));

    expect(error).toBeInstanceOf(InvalidEventError);
    expect((error as Error).message).toBe(
      `${type} evt-1 (customer ${CUSTOMER_ID} v1) precedes CustomerRegistered`,
    );
  });

  it.each([
    [
      'CustomerRegistered',
      { customerId: CUSTOMER_ID, email: 'not-an-email', name: 'Ada' },
      'email: email must be a valid email address',
    ],
    ['CustomerRegistered', { customerId: CUSTOMER_ID, email: 'a@b.co' }, 'name: name is required'],
    [
      'CustomerEmailChanged',
      { customerId: CUSTOMER_ID, previousEmail: 'a@b.co', email: 42 },
      'email: email must be a string',
    ],
    ['CustomerDeactivated', { customerId: CUSTOMER_ID, reason: '' }, 'reason: reason must not be empty'],
    ['CustomerReactivated', { customerId: '' }, 'customerId: customerId must not be empty'],
  ])('GIVEN bad %s data WHEN projected THEN InvalidEventError names the field', (type, data, expected) => {
    // GIVEN a registered view (so only the data can be wrong)
    const version = type === 'CustomerRegistered' ? 1 : 2;
    const current = type === 'CustomerRegistered' ? undefined : registeredView;

    // WHEN
    const error = caught(() => projectCustomer(current, envelopeOf({ type, data }, version)));

    // THEN
    expect(error).toBeInstanceOf(InvalidEventError);
    const message = (error as Error).message;
    expect(message.startsWith(`${type} evt-${version} (customer ${CUSTOMER_ID} v${version}): `)).toBe(true);
    expect(message).toContain(expected);
  });

  it('GIVEN a view WHEN an unknown event type THEN only updatedAt moves', () => {
    const { view } = run([register, deactivate]);

    const after = projectCustomer(
      view,
      envelopeOf({ type: 'CustomerNicknamed', data: { nickname: 'A' } }, 3),
    );

    expect(after).toEqual({ ...view, updatedAt: at(3) });
  });
});

import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../lambdas/commons/domain/decider.js';
import {
  CUSTOMER_STATUSES,
  type CustomerCommand,
  type CustomerEvent,
  type CustomerState,
  type CustomerStatus,
  customerDecider,
} from '../../../lambdas/customers/domain/customer.js';
import {
  changeEmailBodySchema,
  customerEventDataSchemas,
  registerCustomerBodySchema,
} from '../../../lambdas/customers/domain/customer-schemas.js';

const fold = (events: readonly CustomerEvent[], from: CustomerState = customerDecider.initialState) =>
  events.reduce((state, event) => customerDecider.evolve(state, event), from);

/** GIVEN past events, WHEN a command: the new events and the state they fold to. */
const given = (events: readonly CustomerEvent[]) => {
  const state = fold(events);
  return {
    state,
    when(command: CustomerCommand) {
      const produced = customerDecider.decide(state, command);
      return { events: produced, state: fold(produced, state) };
    },
  };
};

function expectDomainError(fn: () => unknown, code: string, message?: RegExp): void {
  let error: unknown;
  try {
    fn();
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(DomainError);
  expect((error as DomainError).code).toBe(code);
  if (message) expect((error as DomainError).message).toMatch(message);
}

const ID = 'cus-1';
const registered: CustomerEvent = {
  type: 'CustomerRegistered',
  data: { customerId: ID, email: 'ada@example.com', name: 'Ada Lovelace' },
};
const deactivated: CustomerEvent = {
  type: 'CustomerDeactivated',
  data: { customerId: ID, reason: 'fraud check' },
};
const reactivated: CustomerEvent = { type: 'CustomerReactivated', data: { customerId: ID } };

const commands = {
  RegisterCustomer: {
    type: 'RegisterCustomer',
    data: { customerId: ID, email: 'ada@example.com', name: 'Ada Lovelace' },
  },
  ChangeEmail: { type: 'ChangeEmail', data: { email: 'countess@example.org' } },
  DeactivateCustomer: { type: 'DeactivateCustomer', data: { reason: 'fraud check' } },
  ReactivateCustomer: { type: 'ReactivateCustomer', data: {} },
} as const satisfies Record<string, CustomerCommand>;
type CommandName = keyof typeof commands;

const historyFor: Record<CustomerStatus, readonly CustomerEvent[]> = {
  NONE: [],
  ACTIVE: [registered],
  INACTIVE: [registered, deactivated],
};

describe('customerDecider', () => {
  it('is the Customer aggregate and starts unregistered', () => {
    expect(customerDecider.aggregateType).toBe('Customer');
    expect(customerDecider.initialState.status).toBe('NONE');
  });

  it('GIVEN nothing WHEN RegisterCustomer with a mixed-case email THEN it is stored lower-cased', () => {
    const { events, state } = given([]).when({
      type: 'RegisterCustomer',
      data: { customerId: ID, email: ' Ada@Example.COM ', name: ' Ada Lovelace ' },
    });
    expect(events).toEqual([registered]);
    expect(state).toEqual({
      status: 'ACTIVE',
      customerId: ID,
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      deactivationReason: null,
    });
  });

  it('GIVEN an active customer WHEN ChangeEmail THEN CustomerEmailChanged carries the previous email', () => {
    const { events, state } = given([registered]).when({
      type: 'ChangeEmail',
      data: { email: 'Countess@Example.org' },
    });
    expect(events).toEqual([
      {
        type: 'CustomerEmailChanged',
        data: { customerId: ID, previousEmail: 'ada@example.com', email: 'countess@example.org' },
      },
    ]);
    expect(state.email).toBe('countess@example.org');
  });

  it('folds deactivate → reactivate → change email', () => {
    let history: CustomerEvent[] = [registered];
    for (const [name, status] of [
      ['DeactivateCustomer', 'INACTIVE'],
      ['ReactivateCustomer', 'ACTIVE'],
      ['ChangeEmail', 'ACTIVE'],
    ] as const) {
      const { events, state } = given(history).when(commands[name]);
      expect(state.status).toBe(status);
      history = [...history, ...events];
    }
    expect(history.slice(1, 3)).toEqual([deactivated, reactivated]);
    expect(fold(history)).toMatchObject({
      status: 'ACTIVE',
      email: 'countess@example.org',
      deactivationReason: null,
    });
  });

  it('records the deactivation reason only when one is given', () => {
    expect(given([registered]).when(commands.DeactivateCustomer).state.deactivationReason).toBe(
      'fraud check',
    );
    const { events, state } = given([registered]).when({ type: 'DeactivateCustomer', data: {} });
    expect(events).toEqual([{ type: 'CustomerDeactivated', data: { customerId: ID } }]);
    expect(state).toMatchObject({ status: 'INACTIVE', deactivationReason: null });
  });
});

/** Independent oracle of what each command does in each status. */
const expected: Record<CustomerStatus, Record<CommandName, string | null>> = {
  NONE: {
    RegisterCustomer: null,
    ChangeEmail: 'CUSTOMER_NOT_FOUND',
    DeactivateCustomer: 'CUSTOMER_NOT_FOUND',
    ReactivateCustomer: 'CUSTOMER_NOT_FOUND',
  },
  ACTIVE: {
    RegisterCustomer: 'CUSTOMER_EXISTS',
    ChangeEmail: null,
    DeactivateCustomer: null,
    ReactivateCustomer: 'INVALID_TRANSITION',
  },
  INACTIVE: {
    RegisterCustomer: 'CUSTOMER_EXISTS',
    ChangeEmail: 'CUSTOMER_INACTIVE',
    DeactivateCustomer: 'INVALID_TRANSITION',
    ReactivateCustomer: null,
  },
};

const matrix = CUSTOMER_STATUSES.flatMap((status) =>
  (Object.keys(commands) as CommandName[]).map((name) => ({ status, name, refusal: expected[status][name] })),
);

describe('every status × every command', () => {
  it.each(matrix)('GIVEN $status WHEN $name THEN $refusal', ({ status, name, refusal }) => {
    const history = given(historyFor[status]);
    if (refusal === null) {
      expect(history.when(commands[name]).events).toHaveLength(1);
    } else {
      expectDomainError(() => history.when(commands[name]), refusal);
    }
  });

  it('names the command and status in an INVALID_TRANSITION', () => {
    expectDomainError(
      () => given([registered]).when(commands.ReactivateCustomer),
      'INVALID_TRANSITION',
      /Reactivate.*ACTIVE/,
    );
  });

  it('refuses an email change to the same address, whatever its case', () => {
    for (const email of ['ada@example.com', 'ADA@example.com', ' Ada@Example.Com ']) {
      expectDomainError(
        () => given([registered]).when({ type: 'ChangeEmail', data: { email } }),
        'EMAIL_UNCHANGED',
      );
    }
  });

  it('refuses malformed command data with INVALID_COMMAND and the field', () => {
    expectDomainError(
      () => given([registered]).when({ type: 'ChangeEmail', data: { email: 'not-an-email' } }),
      'INVALID_COMMAND',
      /email/,
    );
    expectDomainError(
      () =>
        given([]).when({ type: 'RegisterCustomer', data: { customerId: '', email: 'a@b.co', name: 'A' } }),
      'INVALID_COMMAND',
      /customerId/,
    );
  });
});

describe('customer schemas', () => {
  const issuesOf = (
    schema: typeof registerCustomerBodySchema | typeof changeEmailBodySchema,
    input: unknown,
  ) => {
    const result = schema.safeParse(input);
    expect(result.success).toBe(false);
    return result.success ? [] : result.error.issues;
  };

  it('normalizes the email of a valid body', () => {
    expect(registerCustomerBodySchema.parse({ email: ' Ada@Example.COM', name: 'Ada' })).toEqual({
      email: 'ada@example.com',
      name: 'Ada',
    });
    expect(changeEmailBodySchema.parse({ email: 'X@Y.IO' })).toEqual({ email: 'x@y.io' });
  });

  it.each([
    ['a missing email', { name: 'Ada' }, 'email', 'email is required'],
    ['a numeric email', { email: 7, name: 'Ada' }, 'email', 'email must be a string'],
    ['a malformed email', { email: 'ada@', name: 'Ada' }, 'email', 'email must be a valid email address'],
    ['an email without @', { email: 'ada.example.com', name: 'Ada' }, 'email', 'valid email'],
    ['a missing name', { email: 'a@b.co' }, 'name', 'name is required'],
    ['a blank name', { email: 'a@b.co', name: '   ' }, 'name', 'name must not be empty'],
  ])('POST /customers refuses %s', (_case, input, path, message) => {
    const issues = issuesOf(registerCustomerBodySchema, input);
    const issue = issues.find((candidate) => candidate.path.join('.') === path);
    expect(issue, JSON.stringify(issues)).toBeDefined();
    expect(issue?.message).toContain(message);
  });

  it('refuses unknown fields, including a client-chosen id', () => {
    expect(issuesOf(registerCustomerBodySchema, { email: 'a@b.co', name: 'A', customerId: 'x' })).toEqual([
      expect.objectContaining({ code: 'unrecognized_keys', keys: ['customerId'] }),
    ]);
    expect(issuesOf(changeEmailBodySchema, { email: 'a@b.co', name: 'A' })).toEqual([
      expect.objectContaining({ code: 'unrecognized_keys', keys: ['name'] }),
    ]);
  });

  it('PUT email refuses a bad or missing email and a non-object body', () => {
    expect(issuesOf(changeEmailBodySchema, { email: 'nope' })[0]?.path).toEqual(['email']);
    expect(issuesOf(changeEmailBodySchema, {})[0]?.message).toBe('email is required');
    expect(issuesOf(changeEmailBodySchema, 'a@b.co')[0]?.message).toBe('body must be a JSON object');
  });

  it('event data schemas accept the events decide produces', () => {
    const changed = given([registered]).when(commands.ChangeEmail).events;
    for (const event of [registered, deactivated, reactivated, ...changed]) {
      expect(customerEventDataSchemas[event.type].safeParse(event.data).success, event.type).toBe(true);
    }
  });
});

describe('property: random command sequences', () => {
  it('evolve accepts whatever decide emits and the status stays known', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pool: CustomerCommand[] = [
      commands.RegisterCustomer,
      commands.ChangeEmail,
      { type: 'ChangeEmail', data: { email: 'ada@example.com' } },
      commands.DeactivateCustomer,
      { type: 'DeactivateCustomer', data: {} },
      commands.ReactivateCustomer,
    ];
    for (let run = 0; run < 200; run += 1) {
      let state = customerDecider.initialState;
      const history: CustomerEvent[] = [];
      for (let step = 0; step < 10; step += 1) {
        const command = pool[Math.floor(random() * pool.length)] ?? commands.RegisterCustomer;
        try {
          const events = customerDecider.decide(state, command);
          for (const event of events) {
            state = customerDecider.evolve(state, event);
            history.push(event);
          }
        } catch (error) {
          expect(error).toBeInstanceOf(DomainError);
        }
        expect(CUSTOMER_STATUSES).toContain(state.status);
        if (state.status !== 'NONE') expect(state.email).toBe(state.email?.toLowerCase());
      }
      expect(fold(history)).toEqual(state);
    }
  });
});

/**
 * The Customer aggregate as a decider (see `lambdas/commons/domain/decider.ts`).
 *
 *   NONE ─RegisterCustomer→ ACTIVE ⇄ INACTIVE   (DeactivateCustomer / ReactivateCustomer)
 *   ACTIVE ─ChangeEmail→ ACTIVE
 *
 * Refusals (DomainError codes): CUSTOMER_EXISTS (registering twice), CUSTOMER_NOT_FOUND (any other
 * command before registration), CUSTOMER_INACTIVE (email change while inactive), EMAIL_UNCHANGED
 * (same address after normalization), INVALID_TRANSITION (deactivating an inactive customer or
 * reactivating an active one), INVALID_COMMAND (data failing its schema). Emails are lower-cased.
 */
import type * as z from 'zod';
import { type Decider, DomainError, type DomainEvent } from '../../commons/domain/decider.js';
import {
  type ChangeEmailData,
  type CustomerDeactivatedData,
  type CustomerEmailChangedData,
  type CustomerReactivatedData,
  type CustomerRegisteredData,
  customerCommandDataSchemas,
  type DeactivateCustomerData,
  formatCustomerIssues,
  type ReactivateCustomerData,
  type RegisterCustomerData,
} from './customer-schemas.js';

export const CUSTOMER_AGGREGATE_TYPE = 'Customer';

export const CUSTOMER_STATUSES = ['NONE', 'ACTIVE', 'INACTIVE'] as const;
export type CustomerStatus = (typeof CUSTOMER_STATUSES)[number];

export const CUSTOMER_COMMAND_TYPES = [
  'RegisterCustomer',
  'ChangeEmail',
  'DeactivateCustomer',
  'ReactivateCustomer',
] as const;
export type CustomerCommandType = (typeof CUSTOMER_COMMAND_TYPES)[number];

export const CUSTOMER_EVENT_TYPES = [
  'CustomerRegistered',
  'CustomerEmailChanged',
  'CustomerDeactivated',
  'CustomerReactivated',
] as const;
export type CustomerEventType = (typeof CUSTOMER_EVENT_TYPES)[number];

export type CustomerCommand =
  | { readonly type: 'RegisterCustomer'; readonly data: RegisterCustomerData }
  | { readonly type: 'ChangeEmail'; readonly data: ChangeEmailData }
  | { readonly type: 'DeactivateCustomer'; readonly data: DeactivateCustomerData }
  | { readonly type: 'ReactivateCustomer'; readonly data: ReactivateCustomerData };

export type CustomerRegistered = DomainEvent<'CustomerRegistered', CustomerRegisteredData>;
export type CustomerEmailChanged = DomainEvent<'CustomerEmailChanged', CustomerEmailChangedData>;
export type CustomerDeactivated = DomainEvent<'CustomerDeactivated', CustomerDeactivatedData>;
export type CustomerReactivated = DomainEvent<'CustomerReactivated', CustomerReactivatedData>;
export type CustomerEvent =
  | CustomerRegistered
  | CustomerEmailChanged
  | CustomerDeactivated
  | CustomerReactivated;

export interface CustomerState {
  readonly status: CustomerStatus;
  readonly customerId: string | null;
  readonly email: string | null;
  readonly name: string | null;
  /** Set while INACTIVE when a reason was given. */
  readonly deactivationReason: string | null;
}

export const initialCustomerState: CustomerState = {
  status: 'NONE',
  customerId: null,
  email: null,
  name: null,
  deactivationReason: null,
};

function validated<T>(commandType: CustomerCommandType, schema: z.ZodType<T>, data: unknown): T {
  const result = schema.safeParse(data);
  if (!result.success) {
    throw new DomainError('INVALID_COMMAND', `${commandType}: ${formatCustomerIssues(result.error)}`);
  }
  return result.data;
}

interface Registered {
  readonly customerId: string;
  readonly email: string;
}

function requireRegistered(state: CustomerState, commandType: CustomerCommandType): Registered {
  if (state.status === 'NONE' || state.customerId === null || state.email === null) {
    throw new DomainError('CUSTOMER_NOT_FOUND', `${commandType}: the customer does not exist`);
  }
  return { customerId: state.customerId, email: state.email };
}

function decide(state: CustomerState, command: CustomerCommand): readonly CustomerEvent[] {
  switch (command.type) {
    case 'RegisterCustomer': {
      const data = validated(command.type, customerCommandDataSchemas.RegisterCustomer, command.data);
      if (state.status !== 'NONE') {
        throw new DomainError(
          'CUSTOMER_EXISTS',
          `RegisterCustomer: customer ${state.customerId ?? data.customerId} already exists`,
        );
      }
      return [
        {
          type: 'CustomerRegistered',
          data: { customerId: data.customerId, email: data.email, name: data.name },
        },
      ];
    }
    case 'ChangeEmail': {
      const data = validated(command.type, customerCommandDataSchemas.ChangeEmail, command.data);
      const { customerId, email } = requireRegistered(state, command.type);
      if (state.status === 'INACTIVE') {
        throw new DomainError('CUSTOMER_INACTIVE', `ChangeEmail: customer ${customerId} is inactive`);
      }
      if (data.email === email) {
        throw new DomainError(
          'EMAIL_UNCHANGED',
          `ChangeEmail: customer ${customerId} already has this email`,
        );
      }
      return [
        { type: 'CustomerEmailChanged', data: { customerId, previousEmail: email, email: data.email } },
      ];
    }
    case 'DeactivateCustomer': {
      const data = validated(command.type, customerCommandDataSchemas.DeactivateCustomer, command.data);
      const { customerId } = requireRegistered(state, command.type);
      if (state.status !== 'ACTIVE') {
        throw new DomainError(
          'INVALID_TRANSITION',
          `DeactivateCustomer is not allowed: customer ${customerId} is ${state.status}`,
        );
      }
      return [
        {
          type: 'CustomerDeactivated',
          data: { customerId, ...(data.reason === undefined ? {} : { reason: data.reason }) },
        },
      ];
    }
    case 'ReactivateCustomer': {
      validated(command.type, customerCommandDataSchemas.ReactivateCustomer, command.data);
      const { customerId } = requireRegistered(state, command.type);
      if (state.status !== 'INACTIVE') {
        throw new DomainError(
          'INVALID_TRANSITION',
          `ReactivateCustomer is not allowed: customer ${customerId} is ${state.status}`,
        );
      }
      return [{ type: 'CustomerReactivated', data: { customerId } }];
    }
    default:
      return unknownCommand(command);
  }
}

function unknownCommand(command: never): never {
  const type = (command as { type?: unknown } | null)?.type;
  throw new DomainError('UNKNOWN_COMMAND', `Unknown customer command: ${String(type)}`);
}

/** Total over every event type; events are facts, so it applies them without re-checking. */
function evolve(state: CustomerState, event: CustomerEvent): CustomerState {
  switch (event.type) {
    case 'CustomerRegistered': {
      const { customerId, email, name } = event.data;
      return { ...initialCustomerState, status: 'ACTIVE', customerId, email, name };
    }
    case 'CustomerEmailChanged':
      return { ...state, email: event.data.email };
    case 'CustomerDeactivated':
      return { ...state, status: 'INACTIVE', deactivationReason: event.data.reason ?? null };
    case 'CustomerReactivated':
      return { ...state, status: 'ACTIVE', deactivationReason: null };
    default: {
      // An event type this version does not know (e.g. added later): leave the state as it is.
      const _unknown: never = event;
      return state;
    }
  }
}

export const customerDecider: Decider<CustomerState, CustomerCommand, CustomerEvent> = {
  aggregateType: CUSTOMER_AGGREGATE_TYPE,
  initialState: initialCustomerState,
  decide,
  evolve,
};

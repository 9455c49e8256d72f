/**
 * The customers read model: one document per customer, what `GET /customers/{customerId}` and
 * `GET /customers?emailDomain=&active=` return. Pure: nothing from AWS or Lambda.
 */
import type * as z from 'zod';
import type { DomainEvent } from '../../commons/domain/decider.js';
import { formatIssues } from '../../commons/domain/validation-issues.js';
import type { EventEnvelope } from '../../commons/event-store/envelope.js';
import { InvalidEventError, type ViewProjection } from '../../commons/projection/projection.js';
import { CUSTOMER_AGGREGATE_TYPE } from '../domain/customer.js';
import { customerEventDataSchemas } from '../domain/customer-schemas.js';

export interface CustomerView {
  readonly customerId: string;
  readonly email: string;
  /** Lower-case domain of `email`: the key of the by-domain query. */
  readonly emailDomain: string;
  readonly name: string;
  readonly status: 'ACTIVE' | 'INACTIVE';
  readonly active: boolean;
  readonly deactivationReason?: string;
  readonly registeredAt: string;
  readonly updatedAt: string;
}

/** `Ann@Example.COM` → `example.com`. */
export function emailDomainOf(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1).toLowerCase();
}

function dataOf<T extends keyof typeof customerEventDataSchemas>(
  type: T,
  event: EventEnvelope,
): z.infer<(typeof customerEventDataSchemas)[T]> {
  const parsed = customerEventDataSchemas[type].safeParse(event.data);
  if (!parsed.success) {
    throw new InvalidEventError(
      `${type} ${event.eventId} (customer ${event.aggregateId} v${event.version}): ${formatIssues(parsed.error)}`,
    );
  }
  return parsed.data as z.infer<(typeof customerEventDataSchemas)[T]>;
}

function requireView(current: CustomerView | undefined, event: EventEnvelope): CustomerView {
  if (!current) {
    throw new InvalidEventError(
      `${event.type} ${event.eventId} (customer ${event.aggregateId} v${event.version}) precedes CustomerRegistered`,
    );
  }
  return current;
}

export function projectCustomer(
  current: CustomerView | undefined,
  event: EventEnvelope<DomainEvent>,
): CustomerView {
  const updatedAt = event.occurredAt;
  switch (event.type) {
    case 'CustomerRegistered': {
      const d = dataOf('CustomerRegistered', event);
      return {
        customerId: d.customerId,
        email: d.email,
        emailDomain: emailDomainOf(d.email),
        name: d.name,
        status: 'ACTIVE',
        active: true,
        registeredAt: event.occurredAt,
        updatedAt,
      };
    }
    case 'CustomerEmailChanged': {
      const d = dataOf('CustomerEmailChanged', event);
      return {
        ...requireView(current, event),
        email: d.email,
        emailDomain: emailDomainOf(d.email),
        updatedAt,
      };
    }
    case 'CustomerDeactivated': {
      const d = dataOf('CustomerDeactivated', event);
      return {
        ...requireView(current, event),
        status: 'INACTIVE',
        active: false,
        ...(d.reason === undefined ? {} : { deactivationReason: d.reason }),
        updatedAt,
      };
    }
    case 'CustomerReactivated': {
      dataOf('CustomerReactivated', event);
      const { deactivationReason: _dropped, ...rest } = requireView(current, event);
      return { ...rest, status: 'ACTIVE', active: true, updatedAt };
    }
    default:
      return { ...requireView(current, event), updatedAt };
  }
}

export const customerViewProjection: ViewProjection<CustomerView> = {
  name: 'customers',
  aggregateType: CUSTOMER_AGGREGATE_TYPE,
  project: projectCustomer,
};

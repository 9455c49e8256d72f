/**
 * The platform's e-mails: which events notify, and their content. Pure: no AWS, no Lambda.
 */
import type { EventEnvelope } from '../../commons/event-store/envelope.js';

export interface Email {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

export interface EmailProvider {
  send(email: Email): Promise<{ messageId: string }>;
}

/** Events that send an e-mail, and whether the mail is transactional (sent first) or bulk. */
export const NOTIFYING_EVENTS = {
  CustomerRegistered: 'transactional',
  OrderPlaced: 'transactional',
  InventoryRejected: 'transactional',
  PaymentCompleted: 'transactional',
  PaymentFailed: 'transactional',
  OrderShipped: 'transactional',
  OrderCancelled: 'transactional',
} as const;
export type NotifyingEvent = keyof typeof NOTIFYING_EVENTS;

export const isNotifying = (type: string): type is NotifyingEvent => Object.hasOwn(NOTIFYING_EVENTS, type);

/** The subject and text of the e-mail an event sends; `undefined` when the event sends none. */
export function renderEmail(event: EventEnvelope, to: string): Email | undefined {
  const d = event.data as Record<string, unknown>;
  const order = String(d.orderId ?? '');
  const money = (amount: unknown, currency: unknown) =>
    typeof amount === 'number' ? `${(amount / 100).toFixed(2)} ${String(currency ?? '')}`.trim() : '';
  switch (event.type) {
    case 'CustomerRegistered':
      return { to, subject: 'Welcome!', text: `Hello ${String(d.name ?? '')}, your account is ready.` };
    case 'OrderPlaced':
      return {
        to,
        subject: `Order ${order} received`,
        text: `We received your order ${order} of ${money(d.total, d.currency)}.`,
      };
    case 'InventoryRejected':
      return {
        to,
        subject: `Order ${order} could not be fulfilled`,
        text: `Sorry: ${String(d.reason ?? '')}.`,
      };
    case 'PaymentCompleted':
      return {
        to,
        subject: `Payment for order ${order} received`,
        text: `We received ${money(d.amount, d.currency)} for order ${order}.`,
      };
    case 'PaymentFailed':
      return {
        to,
        subject: `Payment for order ${order} failed`,
        text: `The payment failed: ${String(d.reason ?? '')}.`,
      };
    case 'OrderShipped':
      return {
        to,
        subject: `Order ${order} shipped`,
        text: `Your order ${order} is on its way (shipment ${String(d.shipmentId ?? '')}).`,
      };
    case 'OrderCancelled':
      return {
        to,
        subject: `Order ${order} cancelled`,
        text: `Your order ${order} was cancelled: ${String(d.reason ?? '')}.`,
      };
    default:
      return undefined;
  }
}

/** The subject an e-mail is sent about, for "at most one e-mail per (subject, event type)". */
export function subjectIdOf(event: EventEnvelope): string {
  return event.aggregateId;
}

/** Records e-mails without sending them: the deterministic provider of tests and the local runtime. */
export class LoggingEmailProvider implements EmailProvider {
  readonly sent: Email[] = [];
  async send(email: Email): Promise<{ messageId: string }> {
    this.sent.push(email);
    return { messageId: `test-${this.sent.length}` };
  }
}

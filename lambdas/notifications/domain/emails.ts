/**
 * The platform's e-mails: which events notify, their templates, and the data each event fills
 * them with. Pure: no AWS, no Lambda.
 *
 * The templates are defined once, here: the Fulfilment stack deploys them as SES templates
 * (`AWS::SES::Template`), the SES adapter sends by template name with the event's data, and the
 * recording test provider renders them the way SES does (`{{name}}` replaced by the value).
 */
import type { EventEnvelope } from '../../commons/event-store/envelope.js';

/**
 * Events that send an e-mail, and whether the mail is transactional (sent first) or bulk. The
 * welcome mail is bulk: nothing waits on it, and a burst of registrations must not hold back the
 * e-mails about orders and payments.
 */
export const NOTIFYING_EVENTS = {
  CustomerRegistered: 'bulk',
  OrderPlaced: 'transactional',
  InventoryRejected: 'transactional',
  PaymentCompleted: 'transactional',
  PaymentFailed: 'transactional',
  OrderShipped: 'transactional',
  OrderCancelled: 'transactional',
} as const;
export type NotifyingEvent = keyof typeof NOTIFYING_EVENTS;

export const isNotifying = (type: string): type is NotifyingEvent => Object.hasOwn(NOTIFYING_EVENTS, type);

/** An SES template: subject and text parts with `{{placeholder}}`s. */
export interface EmailTemplate {
  readonly subject: string;
  readonly text: string;
}

/** One template per notifying event; its SES name is `<prefix>-<event type>`. */
export const EMAIL_TEMPLATES: { readonly [K in NotifyingEvent]: EmailTemplate } = {
  CustomerRegistered: { subject: 'Welcome!', text: 'Hello {{name}}, your account is ready.' },
  OrderPlaced: {
    subject: 'Order {{orderId}} received',
    text: 'We received your order {{orderId}} of {{total}}.',
  },
  InventoryRejected: {
    subject: 'Order {{orderId}} could not be fulfilled',
    text: 'Sorry: {{reason}}.',
  },
  PaymentCompleted: {
    subject: 'Payment for order {{orderId}} received',
    text: 'We received {{amount}} for order {{orderId}}.',
  },
  PaymentFailed: {
    subject: 'Payment for order {{orderId}} failed',
    text: 'The payment failed: {{reason}}.',
  },
  OrderShipped: {
    subject: 'Order {{orderId}} shipped',
    text: 'Your order {{orderId}} is on its way (shipment {{shipmentId}}).',
  },
  OrderCancelled: {
    subject: 'Order {{orderId}} cancelled',
    text: 'Your order {{orderId}} was cancelled: {{reason}}.',
  },
};

/** The SES name of an event's template. */
export const templateName = (prefix: string, type: NotifyingEvent): string => `${prefix}-${type}`;

/** An e-mail to send: a template, the data that fills it, and (rendered) its subject and text. */
export interface Email {
  readonly to: string;
  readonly template: NotifyingEvent;
  readonly data: Readonly<Record<string, string>>;
  readonly subject: string;
  readonly text: string;
}

export interface EmailProvider {
  send(email: Email): Promise<{ messageId: string }>;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

/** The names a template part refers to. */
export const placeholdersOf = (part: string): string[] =>
  [...part.matchAll(PLACEHOLDER)].map((m) => m[1] ?? '');

/** Fills `{{name}}` with `data[name]` (an absent value renders empty, as in SES). */
export const renderTemplate = (part: string, data: Readonly<Record<string, string>>): string =>
  part.replace(PLACEHOLDER, (_, name: string) => data[name] ?? '');

const money = (amount: unknown, currency: unknown): string =>
  typeof amount === 'number' ? `${(amount / 100).toFixed(2)} ${String(currency ?? '')}`.trim() : '';

const text = (value: unknown): string => (value === undefined || value === null ? '' : String(value));

/** The template data of a notifying event: every placeholder of its template, as text. */
export function templateDataOf(event: EventEnvelope & { type: NotifyingEvent }): Record<string, string> {
  const d = event.data as Record<string, unknown>;
  const orderId = text(d.orderId);
  switch (event.type) {
    case 'CustomerRegistered':
      return { name: text(d.name) };
    case 'OrderPlaced':
      return { orderId, total: money(d.total, d.currency) };
    case 'PaymentCompleted':
      return { orderId, amount: money(d.amount, d.currency) };
    case 'OrderShipped':
      return { orderId, shipmentId: text(d.shipmentId) };
    case 'InventoryRejected':
    case 'PaymentFailed':
    case 'OrderCancelled':
      return { orderId, reason: text(d.reason) };
  }
}

/** The e-mail an event sends to `to`; `undefined` when the event sends none. */
export function renderEmail(event: EventEnvelope, to: string): Email | undefined {
  const type = event.type;
  if (!isNotifying(type)) return undefined;
  const template = EMAIL_TEMPLATES[type];
  const data = templateDataOf({ ...event, type });
  return {
    to,
    template: type,
    data,
    subject: renderTemplate(template.subject, data),
    text: renderTemplate(template.text, data),
  };
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

import { describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../../lambdas/commons/domain/decider.js';
import { createEnvelope, type EventEnvelope } from '../../../lambdas/commons/event-store/envelope.js';
import {
  EMAIL_TEMPLATES,
  type Email,
  isNotifying,
  LoggingEmailProvider,
  NOTIFYING_EVENTS,
  type NotifyingEvent,
  placeholdersOf,
  renderEmail,
  renderTemplate,
  subjectIdOf,
  templateDataOf,
  templateName,
} from '../../../lambdas/notifications/domain/emails.js';

const TO = 'ada@example.com';

function envelope(type: string, data: Record<string, unknown>, aggregate = { type: 'Order', id: 'ord-7' }) {
  return createEnvelope({ type, data } as DomainEvent, {
    aggregateType: aggregate.type,
    aggregateId: aggregate.id,
    version: 1,
    correlationId: 'corr-1',
    causationId: 'cause-1',
  }) as EventEnvelope;
}

describe('renderEmail', () => {
  it('welcomes a registered customer by name', () => {
    // GIVEN a CustomerRegistered event
    const event = envelope(
      'CustomerRegistered',
      { customerId: 'cus-1', name: 'Ada Lovelace', email: TO },
      { type: 'Customer', id: 'cus-1' },
    );
    // WHEN it is rendered
    // THEN the e-mail welcomes the customer
    expect(renderEmail(event, TO)).toMatchObject({
      to: TO,
      subject: 'Welcome!',
      text: 'Hello Ada Lovelace, your account is ready.',
    });
  });

  it('confirms a placed order with its total in major units and currency', () => {
    // GIVEN an order of 2500 minor units in EUR
    const event = envelope('OrderPlaced', {
      orderId: 'ord-7',
      customerId: 'cus-1',
      items: [{ sku: 'SKU-A', quantity: 1, unitPrice: 2500 }],
      total: 2500,
      currency: 'EUR',
    });
    // THEN the e-mail names the order and formats 25.00 EUR
    expect(renderEmail(event, TO)).toMatchObject({
      to: TO,
      subject: 'Order ord-7 received',
      text: 'We received your order ord-7 of 25.00 EUR.',
    });
  });

  it.each([
    [2500, 'EUR', '25.00 EUR'],
    [1, 'USD', '0.01 USD'],
    [199_999, 'GBP', '1999.99 GBP'],
    [0, 'EUR', '0.00 EUR'],
    [1050, 'CHF', '10.50 CHF'],
  ])('formats %i %s as %s', (total, currency, formatted) => {
    const email = renderEmail(envelope('OrderPlaced', { orderId: 'ord-7', total, currency }), TO);
    expect(email?.text).toBe(`We received your order ord-7 of ${formatted}.`);
  });

  it('formats an amount without a currency without a trailing space', () => {
    const email = renderEmail(envelope('OrderPlaced', { orderId: 'ord-7', total: 2500 }), TO);
    expect(email?.text).toBe('We received your order ord-7 of 25.00.');
  });

  it('tells the customer why inventory was rejected', () => {
    const event = envelope('InventoryRejected', { orderId: 'ord-7', reason: 'SKU-A out of stock' });
    expect(renderEmail(event, TO)).toMatchObject({
      to: TO,
      subject: 'Order ord-7 could not be fulfilled',
      text: 'Sorry: SKU-A out of stock.',
    });
  });

  it('confirms a completed payment with the amount paid', () => {
    const event = envelope('PaymentCompleted', {
      orderId: 'ord-7',
      paymentId: 'pay-1',
      amount: 2500,
      currency: 'EUR',
    });
    expect(renderEmail(event, TO)).toMatchObject({
      to: TO,
      subject: 'Payment for order ord-7 received',
      text: 'We received 25.00 EUR for order ord-7.',
    });
  });

  it('tells the customer why a payment failed', () => {
    const event = envelope('PaymentFailed', { orderId: 'ord-7', reason: 'card declined' });
    expect(renderEmail(event, TO)).toMatchObject({
      to: TO,
      subject: 'Payment for order ord-7 failed',
      text: 'The payment failed: card declined.',
    });
  });

  it('announces a shipment with its id', () => {
    const event = envelope('OrderShipped', { orderId: 'ord-7', shipmentId: 'shp-9', carrier: 'DHL' });
    expect(renderEmail(event, TO)).toMatchObject({
      to: TO,
      subject: 'Order ord-7 shipped',
      text: 'Your order ord-7 is on its way (shipment shp-9).',
    });
  });

  it('tells the customer why the order was cancelled', () => {
    const event = envelope('OrderCancelled', {
      orderId: 'ord-7',
      reason: 'customer asked',
      previousStatus: 'PENDING',
    });
    expect(renderEmail(event, TO)).toMatchObject({
      to: TO,
      subject: 'Order ord-7 cancelled',
      text: 'Your order ord-7 was cancelled: customer asked.',
    });
  });

  it('renders an e-mail for every notifying event type, addressed to the recipient', () => {
    // GIVEN an event of each notifying type
    for (const type of Object.keys(NOTIFYING_EVENTS)) {
      // WHEN it is rendered
      const email = renderEmail(envelope(type, { orderId: 'ord-7', name: 'Ada' }), 'x@example.com');
      // THEN there is an e-mail with a subject and a text
      expect(email, type).toBeDefined();
      expect(email?.to, type).toBe('x@example.com');
      expect(email?.subject.length, type).toBeGreaterThan(0);
      expect(email?.text.length, type).toBeGreaterThan(0);
    }
  });

  it.each(['InventoryReserved', 'CustomerEmailChanged', 'CustomerDeactivated', 'SomethingNew'])(
    'renders nothing for %s, which does not notify',
    (type) => {
      expect(renderEmail(envelope(type, { orderId: 'ord-7' }), TO)).toBeUndefined();
    },
  );
});

describe('isNotifying', () => {
  it.each([
    'CustomerRegistered',
    'OrderPlaced',
    'InventoryRejected',
    'PaymentCompleted',
    'PaymentFailed',
    'OrderShipped',
    'OrderCancelled',
  ])('is true for %s', (type) => {
    expect(isNotifying(type)).toBe(true);
  });

  it.each(['InventoryReserved', 'CustomerEmailChanged', '', 'toString', 'hasOwnProperty', '__proto__'])(
    'is false for %j',
    (type) => {
      expect(isNotifying(type)).toBe(false);
    },
  );

  it('agrees with renderEmail on which events send an e-mail', () => {
    for (const type of [...Object.keys(NOTIFYING_EVENTS), 'InventoryReserved', 'CustomerDeactivated']) {
      expect(renderEmail(envelope(type, {}), TO) !== undefined, type).toBe(isNotifying(type));
    }
  });
});

describe('subjectIdOf', () => {
  it("is the aggregate id of the event (the order's or the customer's)", () => {
    // GIVEN events of an order and of a customer
    const orderEvent = envelope('OrderShipped', { orderId: 'ord-7' }, { type: 'Order', id: 'ord-7' });
    const customerEvent = envelope('CustomerRegistered', {}, { type: 'Customer', id: 'cus-3' });
    // THEN each is about its aggregate
    expect(subjectIdOf(orderEvent)).toBe('ord-7');
    expect(subjectIdOf(customerEvent)).toBe('cus-3');
  });

  it('is the same for two deliveries of the same event', () => {
    const event = envelope('OrderPlaced', { orderId: 'ord-7' });
    expect(subjectIdOf({ ...event, eventId: 'another-delivery' } as EventEnvelope)).toBe(subjectIdOf(event));
  });
});

describe('LoggingEmailProvider', () => {
  it('records each e-mail instead of sending it, with increasing message ids', async () => {
    // GIVEN a logging provider
    const provider = new LoggingEmailProvider();
    const base = { template: 'OrderPlaced', data: {} } as const;
    const first: Email = { ...base, to: 'a@example.com', subject: 'One', text: '1' };
    const second: Email = { ...base, to: 'b@example.com', subject: 'Two', text: '2' };
    // WHEN two e-mails are sent
    const ids = [await provider.send(first), await provider.send(second)];
    // THEN both are recorded in order with distinct ids
    expect(provider.sent).toEqual([first, second]);
    expect(ids).toEqual([{ messageId: 'test-1' }, { messageId: 'test-2' }]);
  });

  it('starts with nothing sent', () => {
    expect(new LoggingEmailProvider().sent).toEqual([]);
  });
});

describe('e-mail templates', () => {
  it('has exactly one template per notifying event', () => {
    expect(Object.keys(EMAIL_TEMPLATES).sort()).toEqual(Object.keys(NOTIFYING_EVENTS).sort());
  });

  it.each(Object.keys(EMAIL_TEMPLATES) as NotifyingEvent[])(
    'fills every placeholder of %s from the event, and nothing more',
    (type) => {
      // GIVEN an event of this type
      const data = templateDataOf(
        envelope(type, { orderId: 'ord-7' }) as EventEnvelope & { type: typeof type },
      );
      // THEN the data has exactly the names the template refers to (SES would render a missing one empty)
      const { subject, text } = EMAIL_TEMPLATES[type];
      const names = new Set([...placeholdersOf(subject), ...placeholdersOf(text)]);
      expect(new Set(Object.keys(data))).toEqual(names);
    },
  );

  it('renders placeholders as SES does: spaces inside braces allowed, absent values empty', () => {
    expect(
      renderTemplate('Hi {{ name }}, {{missing}}order {{orderId}}', { name: 'Ada', orderId: 'o-1' }),
    ).toBe('Hi Ada, order o-1');
  });

  it('renders the e-mail from the template the e-mail names, with the data it carries', () => {
    const email = renderEmail(envelope('OrderShipped', { orderId: 'ord-7', shipmentId: 'shp-9' }), TO);
    expect(email?.template).toBe('OrderShipped');
    expect(email?.data).toEqual({ orderId: 'ord-7', shipmentId: 'shp-9' });
    expect(email?.subject).toBe(renderTemplate(EMAIL_TEMPLATES.OrderShipped.subject, email?.data ?? {}));
  });

  it('names the SES template after the prefix and the event type', () => {
    expect(templateName('Platform-Dev-Fulfilment', 'OrderPlaced')).toBe(
      'Platform-Dev-Fulfilment-OrderPlaced',
    );
  });
});

/**
 * End to end through the local HTTP API: the real app (`bin/app.ts`, stage dev) synthesized and run
 * by the local cloud against the local engines. Requests carry a JWT from the local issuer, as
 * they would carry a Cognito ID token in AWS; reads go through the projector and read models.
 */
import { DeleteItemCommand, PutItemCommand, ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../../scripts/local-cloud/runtime.js';
import { type Reply, type RunningApp, startApp } from '../app.js';
import { eventually } from '../eventually.js';

interface FieldError {
  path: string;
  message: string;
}

describe('the order and customer HTTP API on the local cloud', () => {
  let app: RunningApp;
  let cloud: LocalCloud;
  const run = Date.now().toString(36);
  const call: RunningApp['call'] = (...args) => app.call(...args);
  const read = (path: string, until: (reply: Reply) => boolean) => app.read(path, until);
  const pathsOf = (reply: Reply) => (reply.body.errors as FieldError[]).map((e) => e.path);
  /** SKUs nobody stocks: the inventory service rejects such orders, which keeps them cancellable until then. */
  const order = (customerId: string) => ({
    customerId,
    currency: 'EUR',
    items: [
      { sku: 'BOOK-1', quantity: 2, unitPrice: 1250 },
      { sku: 'PEN-9', quantity: 1, unitPrice: 199 },
    ],
  });

  beforeAll(async () => {
    app = await startApp(`e2e-${run}`);
    cloud = app.cloud;
  }, 180_000);

  afterAll(async () => {
    await app?.stop();
  });

  it('starts every function of the app with nothing left unemulated', () => {
    expect(cloud.unsupported).toEqual([]);
    expect(cloud.routes.length).toBeGreaterThanOrEqual(10);
  });

  it('places an order (202) and serves its read model within seconds', async () => {
    // GIVEN the projector has caught up with the stream (a long-lived emulator replays older
    // events from the start) and the functions are warm
    const warmUp = await call('POST', '/orders', order(`warm-${run}`));
    await eventually(async () => {
      const reply = await call('GET', `/orders/${warmUp.body.orderId}`);
      return reply.status === 200 ? reply : undefined;
    }, 60_000);
    // WHEN an order is placed (the bench measures the typical figure: about 0.25 s; the bound here
    // leaves room for the rest of the suite running on the same two cores)
    const placed = await call('POST', '/orders', order(`cust-${run}`));
    expect(placed.status).toBe(202);
    expect(placed.body).toEqual({ orderId: expect.any(String), status: 'PENDING' });
    const started = Date.now();
    // THEN the read model shows it, with the total computed by the domain
    const got = await read(`/orders/${placed.body.orderId}`, (r) => r.status === 200);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(got.body).toMatchObject({
      orderId: placed.body.orderId,
      customerId: `cust-${run}`,
      total: 2 * 1250 + 199,
      currency: 'EUR',
      items: order('x').items,
    });
    // Fulfilment runs too: nobody stocks these SKUs, so the order may already be rejected.
    expect(['PENDING', 'REJECTED']).toContain(got.body.status);
    expect(got.body.version).toBeGreaterThanOrEqual(1);
    expect(got.body.updatedAt).toEqual(expect.any(String));
  });

  it("lists a customer's orders newest first, with pagination", async () => {
    const customerId = `list-${run}`;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push(String((await call('POST', '/orders', order(customerId))).body.orderId));
    const all = await read(
      `/customers/${customerId}/orders`,
      (r) => (r.body.items as unknown[] | undefined)?.length === 3,
    );
    expect((all.body.items as { orderId: string }[]).map((o) => o.orderId).sort()).toEqual([...ids].sort());
    const first = await call('GET', `/customers/${customerId}/orders?limit=2`);
    expect(first.body.items).toHaveLength(2);
    const rest = await call(
      'GET',
      `/customers/${customerId}/orders?limit=2&nextToken=${first.body.nextToken}`,
    );
    expect(rest.body.items).toHaveLength(1);
    const seen = [
      ...(first.body.items as { orderId: string }[]),
      ...(rest.body.items as { orderId: string }[]),
    ];
    expect(new Set(seen.map((o) => o.orderId)).size).toBe(3);
  });

  it('cancels an open order (202), then refuses a second cancel with 409', async () => {
    // GIVEN stock for the SKU and a card that is declined: every state the order passes through
    // (PENDING, INVENTORY_RESERVED, PAYMENT_FAILED) can be cancelled
    const sku = `CANCEL-${run}`;
    expect((await call('PUT', `/inventory/${sku}`, { available: 10 })).status).toBe(200);
    const placed = await call('POST', '/orders', {
      customerId: `cancel-${run}`,
      currency: 'EUR',
      paymentToken: 'tok_decline',
      items: [{ sku, quantity: 1, unitPrice: 500 }],
    });
    const cancelled = await call('POST', `/orders/${placed.body.orderId}/cancel`, {
      reason: 'changed my mind',
    });
    expect(cancelled.status).toBe(202);
    const view = await read(`/orders/${placed.body.orderId}`, (r) => r.body.status === 'CANCELLED');
    expect(view.body).toMatchObject({ status: 'CANCELLED', reason: 'changed my mind' });
    expect(view.body.version).toBeGreaterThanOrEqual(2);
    const again = await call('POST', `/orders/${placed.body.orderId}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'INVALID_TRANSITION', errors: [] });
  });

  it('answers 404 for an unknown order, on read and on cancel', async () => {
    const missing = await call('GET', `/orders/no-such-order-${run}`);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ message: expect.any(String), errors: [], code: 'ORDER_NOT_FOUND' });
    expect((await call('POST', `/orders/no-such-order-${run}/cancel`)).status).toBe(404);
  });

  it('refuses bad input with 400 and field-level errors, never a 5xx', async () => {
    // Wrong types, a negative quantity, an unknown field.
    const wrong = await call('POST', '/orders', {
      customerId: 42,
      currency: 'euro',
      items: [{ sku: 'A', quantity: -1, unitPrice: 10 }],
      coupon: 'FREE',
    });
    expect(wrong.status).toBe(400);
    expect(pathsOf(wrong)).toEqual(
      expect.arrayContaining(['customerId', 'currency', 'items.0.quantity', 'coupon']),
    );
    // Missing fields and an empty item list.
    const missing = await call('POST', '/orders', { items: [] });
    expect(missing.status).toBe(400);
    expect(pathsOf(missing)).toEqual(expect.arrayContaining(['customerId', 'currency', 'items']));
    // Malformed JSON and a body that is not an object are refused by the gateway's validator.
    for (const body of ['{"customerId": ', '[1,2]']) {
      const refused = await call('POST', '/orders', body);
      expect(refused.status).toBe(400);
      expect(refused.body).toEqual({
        message: 'Invalid request body',
        errors: [{ path: '', message: 'body must be a JSON object' }],
      });
    }
    // Query parameters.
    const query = await call('GET', '/customers?active=maybe');
    expect(query.status).toBe(400);
    expect(pathsOf(query)).toEqual(expect.arrayContaining(['query.emailDomain', 'query.active']));
  });

  it('refuses a body over the limit with 413', async () => {
    const huge = { ...order(`big-${run}`), note: 'x'.repeat(64 * 1024) };
    const refused = await call('POST', '/orders', huge);
    expect(refused.status).toBe(413);
    expect(refused.body.errors).toEqual([{ path: '', message: expect.stringContaining('at most') }]);
  });

  it('answers 401 without a valid token', async () => {
    const response = await fetch(`${cloud.url}/orders/x`, { headers: { authorization: 'Bearer forged' } });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ message: 'Unauthorized', errors: [] });
  });

  it('honours Idempotency-Key: same key and body → same order; same key, other body → 422', async () => {
    const key = `key-${run}`;
    const body = order(`idem-${run}`);
    const first = await call('POST', '/orders', body, { 'Idempotency-Key': key });
    const retry = await call(
      'POST',
      '/orders',
      { ...body, items: [...body.items] },
      { 'Idempotency-Key': key },
    );
    expect(first.status).toBe(202);
    expect(retry.status).toBe(202);
    expect(retry.body.orderId).toBe(first.body.orderId);
    const other = await call('POST', '/orders', order(`someone-else-${run}`), { 'Idempotency-Key': key });
    expect(other.status).toBe(422);
    expect(other.body).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    // Only one order exists for the customer.
    const list = await read(`/customers/idem-${run}/orders`, (r) => (r.body.items as unknown[]).length > 0);
    expect(list.body.items).toHaveLength(1);
  });

  it('registers a customer (201), changes the email, deactivates, and queries by domain', async () => {
    const domain = `d${run}.example`;
    const registered = await call('POST', '/customers', { email: `Ann@${domain}`, name: 'Ann' });
    expect(registered.status).toBe(201);
    const customerId = String(registered.body.customerId);
    const other = await call('POST', '/customers', { email: `bob@${domain}`, name: 'Bob' });
    const view = await read(`/customers/${customerId}`, (r) => r.status === 200);
    expect(view.body).toMatchObject({
      customerId,
      email: `ann@${domain}`,
      emailDomain: domain,
      active: true,
      status: 'ACTIVE',
      version: 1,
    });

    const changed = await call('PUT', `/customers/${customerId}/email`, { email: `ann@new.${domain}` });
    expect(changed.status).toBe(200);
    await read(`/customers/${customerId}`, (r) => r.body.emailDomain === `new.${domain}`);

    expect(
      (await call('POST', `/customers/${other.body.customerId}/deactivate`, { reason: 'left' })).status,
    ).toBe(200);
    const inactive = await read(`/customers/${other.body.customerId}`, (r) => r.body.active === false);
    expect(inactive.body).toMatchObject({ status: 'INACTIVE', deactivationReason: 'left' });
    // No email change while inactive; no double deactivation.
    expect(
      (await call('PUT', `/customers/${other.body.customerId}/email`, { email: `b@${domain}` })).status,
    ).toBe(409);
    expect((await call('POST', `/customers/${other.body.customerId}/deactivate`)).status).toBe(409);

    const byDomain = await call('GET', `/customers?emailDomain=${domain}`);
    expect((byDomain.body.items as { customerId: string }[]).map((c) => c.customerId)).toEqual([
      other.body.customerId,
    ]);
    const activeOnly = await call('GET', `/customers?emailDomain=new.${domain}&active=true`);
    expect((activeOnly.body.items as { customerId: string }[]).map((c) => c.customerId)).toEqual([
      customerId,
    ]);
    expect((await call('GET', `/customers?emailDomain=${domain}&active=true`)).body.items).toEqual([]);

    expect((await call('POST', `/customers/${other.body.customerId}/reactivate`)).status).toBe(200);
    await read(`/customers/${other.body.customerId}`, (r) => r.body.active === true);
    expect((await call('GET', `/customers/no-such-${run}`)).status).toBe(404);
    expect((await call('PUT', `/customers/no-such-${run}/email`, { email: `x@${domain}` })).status).toBe(404);
    const badEmail = await call('POST', '/customers', { email: 'not-an-email', name: '' });
    expect(badEmail.status).toBe(400);
    expect(pathsOf(badEmail)).toEqual(expect.arrayContaining(['email', 'name']));
  });

  it('sends an event store item the projector cannot read to its failure queue, with the reason', async () => {
    const table = cloud.resources
      .ofType('AWS::DynamoDB::Table')
      .find((t) => t.logicalId.startsWith('EventStore'));
    const queue = cloud.resources
      .ofType('AWS::SQS::Queue')
      .find((q) => q.logicalId.startsWith('ReadModelProjectorFailures'));
    expect(table && queue).toBeTruthy();
    // GIVEN an item that passes the mapping's filter (an inserted event) but is no envelope
    const aggregateId = `poison-${run}`;
    await cloud.clients.dynamodb.send(
      new PutItemCommand({
        TableName: table?.ref,
        Item: {
          aggregateId: { S: aggregateId },
          version: { N: '1' },
          recordType: { S: 'event' },
          type: { S: 'OrderPlaced' },
        },
      }),
    );
    // THEN it arrives in the failure queue with the reason, and the projector goes on
    const dead = await eventually(async () => {
      const received = await cloud.clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queue?.ref, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      return received.Messages?.map(
        (m) => JSON.parse(m.Body ?? '{}') as { reason: string; record: unknown },
      ).find((m) => JSON.stringify(m.record).includes(aggregateId));
    }, 20_000);
    expect(dead.reason).toMatch(/not an event envelope: .*eventId/);
    // The emulator outlives the test: leave no poison behind for the next start or rebuild.
    await cloud.clients.dynamodb.send(
      new DeleteItemCommand({
        TableName: table?.ref,
        Key: { aggregateId: { S: aggregateId }, version: { N: '1' } },
      }),
    );
    const placed = await call('POST', '/orders', order(`after-poison-${run}`));
    await read(`/orders/${placed.body.orderId}`, (r) => r.status === 200);
  });

  // ---- Hostile requests (issue 14): every refusal a 4xx in the platform's error shape ----------

  /** A 4xx with `{message, errors}` (and at most `code`), never a 5xx. */
  const expectRefusal = (reply: Reply, status: number) => {
    expect(reply.status).toBe(status);
    expect(reply.body).toEqual({
      message: expect.any(String),
      errors: expect.any(Array),
      ...(reply.body.code === undefined ? {} : { code: expect.any(String) }),
    });
  };
  const PROTOTYPE_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];

  it('treats headers and query parameters named like Object.prototype members as ordinary names', async () => {
    const names = PROTOTYPE_NAMES.map((n) => `${n}=1`).join('&');
    const headers = Object.fromEntries(PROTOTYPE_NAMES.map((n) => [n, 'x']));
    const routes: [string, string, unknown?][] = [
      ['GET', `/orders/no-such-${run}?${names}`],
      ['GET', `/customers/proto-${run}/orders?${names}`],
      ['GET', `/customers?emailDomain=example.com&${names}`],
      ['GET', `/customers/no-such-${run}?${names}`],
      ['POST', `/orders?${names}`, order(`proto-${run}`)],
      ['PUT', `/inventory/PROTO-${run}?${names}`, { available: 1 }],
    ];
    for (const [method, path, body] of routes) {
      const reply = await call(method, path, body, headers);
      expect(reply.status, `${method} ${path}`).toBeLessThan(500);
    }
    // An unknown query parameter named constructor is ignored, a known one still checked.
    expect((await call('GET', `/customers/proto-${run}/orders?constructor=1&limit=0`)).status).toBe(400);
  });

  it('answers a path or query with malformed percent-encoding with 400, on every kind of route', async () => {
    for (const bad of ['%', '%ZZ', '%E0%A4%A', '%FF%FE', '%C0%AF', '%ED%A0%80']) {
      for (const [method, path] of [
        ['GET', `/orders/${bad}`],
        ['POST', `/orders/${bad}/cancel`],
        ['GET', `/customers/${bad}/orders`],
        ['PUT', `/inventory/${bad}`],
        ['GET', `/analytics/users/${bad}`],
        ['GET', `/customers?emailDomain=${bad}`],
      ] as const) {
        const reply = await call(method, path, method === 'GET' ? undefined : {});
        expectRefusal(reply, 400);
      }
    }
    // %00 and control characters decode fine and are the handler's to refuse.
    const nul = await call('GET', '/orders/a%00b');
    expectRefusal(nul, 400);
    expect(pathsOf(nul)).toEqual(['path.orderId']);
  });

  it('refuses a lone or reversed surrogate in any body field with 400 at its path', async () => {
    for (const bad of ['\ud800', '\udc00\ud800', 'ok\udbff']) {
      const cases: [string, string, unknown, string][] = [
        ['POST', '/orders', { ...order('c'), customerId: bad }, 'customerId'],
        ['POST', '/orders', { ...order('c'), paymentToken: bad }, 'paymentToken'],
        [
          'POST',
          '/orders',
          { ...order('c'), items: [{ sku: bad, quantity: 1, unitPrice: 1 }] },
          'items.0.sku',
        ],
        ['POST', '/customers', { email: `a${bad}@example.com`, name: 'A' }, 'email'],
        ['POST', '/customers', { email: 'a@example.com', name: bad }, 'name'],
        ['PUT', `/customers/c-${run}/email`, { email: bad }, 'email'],
        ['POST', `/orders/o-${run}/cancel`, { reason: bad }, 'reason'],
        ['POST', '/orders', { ...order('c'), [bad]: 1 }, '\\ud800'],
      ];
      for (const [method, path, body, field] of cases) {
        if (field === '\\ud800' && bad !== '\ud800') continue;
        // JSON.stringify escapes the surrogate: the request is valid JSON text in ASCII.
        const reply = await call(method, path, body);
        expectRefusal(reply, 400);
        expect(pathsOf(reply), `${method} ${path} ${field}`).toEqual([field]);
      }
    }
    // Analytics: the event with the bad string is rejected on its own, the good one accepted.
    const now = new Date().toISOString();
    const good = { type: 'page_view', userId: `u-${run}`, occurredAt: now, page: '/', schemaVersion: 1 };
    const batch = await call('POST', '/events', { events: [{ ...good, userId: '\ud800' }, good] });
    expect(batch.status).toBeLessThan(500);
    if (batch.status === 207) {
      expect(batch.body.rejected).toEqual([
        { index: 0, errors: [{ path: 'userId', message: expect.any(String) }] },
      ]);
    }
  });

  it('refuses bodies nested too deeply, and JSON that is not an object, with 400', async () => {
    const deep = `{"customerId":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    expectRefusal(await call('POST', '/orders', deep), 400);
    for (const body of ['"text"', '42', 'null', '[]']) {
      expectRefusal(await call('POST', '/orders', body), 400);
    }
    const huge = await call('PUT', `/inventory/NUM-${run}`, '{"available":1e400}');
    expectRefusal(huge, 400);
    expect(pathsOf(huge)).toEqual(['available']);
  });

  it('refuses a forged or malformed nextToken with 400 at query.nextToken', async () => {
    const forge = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const customerId = `cursor-${run}`;
    for (const token of [
      '%25',
      'not-a-cursor',
      forge({ orderId: 1, customerId, placedAt: 'p' }),
      forge({ orderId: '', customerId, placedAt: 'p' }),
      forge({ orderId: '\ud800', customerId, placedAt: 'p' }),
      forge({ orderId: 'x'.repeat(1500), customerId, placedAt: 'p' }),
      forge({ orderId: { S: 'o' }, customerId, placedAt: 'p' }),
      forge([1, 2, 3]),
      'A'.repeat(3000),
    ]) {
      const reply = await call(
        'GET',
        `/customers/${customerId}/orders?nextToken=${encodeURIComponent(token)}`,
      );
      expectRefusal(reply, 400);
      expect(pathsOf(reply)).toEqual(['query.nextToken']);
      const customers = await call(
        'GET',
        `/customers?emailDomain=example.com&nextToken=${encodeURIComponent(token)}`,
      );
      expectRefusal(customers, 400);
    }
  });

  it('answers 401 to malformed Authorization values', async () => {
    for (const authorization of [
      'Bearer',
      'Bearer a.b',
      'Bearer a.b.c',
      `Bearer ${Buffer.from('null').toString('base64url')}.e30.c2ln`,
      `Bearer eyJhbGciOiJSUzI1NiJ9.${Buffer.from('[1]').toString('base64url')}.c2ln`,
      'Bearer \u00e9\u00e8.x.y',
      `Bearer ${'a'.repeat(9000)}.b.c`,
      'Basic Zm9vOmJhcg==',
    ]) {
      const response = await fetch(`${cloud.url}/orders/x`, { headers: { authorization } });
      expect(response.status, authorization.slice(0, 40)).toBe(401);
      expect(await response.json()).toEqual({ message: 'Unauthorized', errors: [] });
    }
  });

  it('refuses an odd Idempotency-Key with 400 at header.Idempotency-Key, and never echoes an odd X-Correlation-Id', async () => {
    for (const key of ['a b', 'x'.repeat(300), '\u00e9t\u00e9', ' ']) {
      const reply = await call('POST', '/orders', order(`odd-key-${run}`), { 'Idempotency-Key': key });
      expectRefusal(reply, 400);
      expect(new Set(pathsOf(reply))).toEqual(new Set(['header.Idempotency-Key']));
    }
    for (const id of ['a b', '\u00e9', 'x'.repeat(500), '<script>', 'a\tb']) {
      const reply = await call('GET', `/orders/no-such-${run}`, undefined, { 'X-Correlation-Id': id });
      expect(reply.status).toBe(404);
      expect(reply.headers.get('x-correlation-id')).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
      expect(reply.headers.get('x-correlation-id')).not.toBe(id);
    }
  });

  it('places one order per Idempotency-Key even when its idempotency record was left INPROGRESS or is gone', async () => {
    const table = cloud.resources
      .ofType('AWS::DynamoDB::Table')
      .find((t) => t.logicalId.startsWith('IdempotencyTable'));
    expect(table).toBeTruthy();
    const key = `robust-${run}`;
    const body = order(`robust-${run}`);
    const first = await call('POST', '/orders', body, { 'Idempotency-Key': key });
    expect(first.status).toBe(202);
    const orderId = String(first.body.orderId);
    /** The Powertools record(s) whose stored response names this order. */
    const records = async () =>
      ((await cloud.clients.dynamodb.send(new ScanCommand({ TableName: table?.ref }))).Items ?? []).filter(
        // The stored response (a map or a string, by version) names the order.
        (item) => JSON.stringify(item.data ?? {}).includes(orderId),
      );
    const [record] = await records();
    expect(record?.id?.S).toBeTruthy();
    const id = { id: { S: String(record?.id?.S) } };

    // GIVEN the record says INPROGRESS and its attempt is long dead (the API was killed mid-request)
    await cloud.clients.dynamodb.send(
      new UpdateItemCommand({
        TableName: table?.ref,
        Key: id,
        UpdateExpression: 'SET #s = :s, in_progress_expiration = :past REMOVE #d',
        ExpressionAttributeNames: { '#s': 'status', '#d': 'data' },
        ExpressionAttributeValues: { ':s': { S: 'INPROGRESS' }, ':past': { N: String(Date.now() - 60_000) } },
      }),
    );
    const afterCrash = await call('POST', '/orders', body, { 'Idempotency-Key': key });
    expect(afterCrash.status).toBe(202);
    expect(afterCrash.body).toEqual({ orderId, status: 'PENDING' });

    // GIVEN the record is gone (the first attempt failed after appending, or the record expired)
    await cloud.clients.dynamodb.send(new DeleteItemCommand({ TableName: table?.ref, Key: id }));
    const afterExpiry = await call('POST', '/orders', body, { 'Idempotency-Key': key });
    expect(afterExpiry.status).toBe(202);
    expect(afterExpiry.body).toEqual({ orderId, status: 'PENDING' });
    // ...and another body under the key is still the 422 of a reused key
    await cloud.clients.dynamodb.send(new DeleteItemCommand({ TableName: table?.ref, Key: id }));
    const reused = await call('POST', '/orders', order(`other-${run}`), { 'Idempotency-Key': key });
    expectRefusal(reused, 422);
    expect(reused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');

    // THEN exactly one order exists for the customer
    const list = await read(`/customers/robust-${run}/orders`, (r) => (r.body.items as unknown[]).length > 0);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const again = await call('GET', `/customers/robust-${run}/orders`);
    expect(list.body.items).toHaveLength(1);
    expect(again.body.items).toHaveLength(1);
  });
});

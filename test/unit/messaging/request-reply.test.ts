/**
 * Request-reply trusts nothing of a request: the reply queue must be the allowed one, or an SQS
 * queue URL of the request queue's account and region; a reply a queue refuses for good is told
 * from a transient failure.
 */
import { describe, expect, it } from 'vitest';
import {
  checkReplyTo,
  readRequestAttributes,
  undeliverableReplyReason,
} from '../../../lambdas/commons/messaging/request-reply.js';

const requestQueueArn = 'arn:aws:sqs:eu-west-1:123456789012:StockCheckRequests';
const aws = { requestQueueArn };
const local = { requestQueueArn, endpoint: 'http://localhost:4566' };
const ownQueue = 'https://sqs.eu-west-1.amazonaws.com/123456789012/StockCheckReplies';

describe('checkReplyTo', () => {
  it('takes a queue URL of the same account and region (AWS or the configured endpoint)', () => {
    expect(checkReplyTo(ownQueue, aws)).toEqual({ ok: true, url: ownQueue });
    expect(checkReplyTo('https://eu-west-1.queue.amazonaws.com/123456789012/r.fifo', aws).ok).toBe(true);
    expect(checkReplyTo('http://localhost:4566/123456789012/replies', local).ok).toBe(true);
    expect(checkReplyTo('http://127.0.0.1:4566/123456789012/replies', local).ok).toBe(true);
  });

  it.each([
    [undefined, /replyTo is missing/],
    ['', /replyTo is missing/],
    ['not a url', /replyTo holds characters no queue URL has/],
    ['nourl', /is not a URL/],
    ['https://evil.example/123456789012/q', /is not an SQS queue URL of region eu-west-1/],
    ['http://sqs.eu-west-1.amazonaws.com/123456789012/q', /is not an SQS queue URL/],
    ['https://sqs.us-east-1.amazonaws.com/123456789012/q', /is not an SQS queue URL of region eu-west-1/],
    ['https://sqs.eu-west-1.amazonaws.com/999999999999/q', /names a queue of account 999999999999/],
    ['https://sqs.eu-west-1.amazonaws.com/123456789012/q?Action=DeleteQueue', /not a plain queue URL/],
    ['https://user:pw@sqs.eu-west-1.amazonaws.com/123456789012/q', /not a plain queue URL/],
    ['https://sqs.eu-west-1.amazonaws.com/123456789012/q/more', /expected \/<account>\/<queue name>/],
    ['https://sqs.eu-west-1.amazonaws.com/123456789012/bad%20name', /names no valid queue/],
    ['https://sqs.eu-west-1.amazonaws.com/123456789012/\ud800', /holds characters no queue URL has/],
    [`https://sqs.eu-west-1.amazonaws.com/123456789012/${'q'.repeat(1100)}`, /longer than 1024/],
    ['http://localhost:9999/123456789012/q', /is not an SQS queue URL/],
  ])('refuses %j with a precise reason', (replyTo, reason) => {
    const checked = checkReplyTo(replyTo, local);
    expect(checked.ok).toBe(false);
    expect(!checked.ok && checked.reason).toMatch(reason);
  });

  it('takes only the allowed reply queue when one is configured', () => {
    const policy = { ...aws, allowedReplyQueueUrl: ownQueue };
    expect(checkReplyTo(ownQueue, policy).ok).toBe(true);
    const other = checkReplyTo('https://sqs.eu-west-1.amazonaws.com/123456789012/Other', policy);
    expect(!other.ok && other.reason).toMatch(/is not the reply queue of this service/);
  });
});

describe('readRequestAttributes', () => {
  it('names every unusable field', () => {
    const read = readRequestAttributes(
      { correlationId: { stringValue: 'has space' }, replyTo: { stringValue: 'https://evil.example/1/q' } },
      aws,
    );
    expect(read.ok).toBe(false);
    expect(!read.ok && read.reasons).toEqual([
      'correlationId must be 1 to 128 printable ASCII characters without spaces',
      expect.stringMatching(/^replyTo "https:\/\/evil.example\/1\/q" is not an SQS queue URL/),
    ]);
    const missing = readRequestAttributes({}, aws);
    expect(!missing.ok && missing.reasons).toEqual([
      'correlationId is missing (message attribute correlationId)',
      'replyTo is missing (message attribute replyTo)',
    ]);
  });

  it('returns the correlation id and reply queue of a good request', () => {
    expect(
      readRequestAttributes(
        { correlationId: { stringValue: 'req-1' }, replyTo: { stringValue: ownQueue } },
        aws,
      ),
    ).toEqual({ ok: true, correlationId: 'req-1', replyTo: ownQueue });
  });
});

describe('undeliverableReplyReason', () => {
  it('dead-letters a queue that does not exist or refuses us; retries anything else', () => {
    const err = (name: string, extra: object = {}) => Object.assign(new Error(name), { name, ...extra });
    expect(undeliverableReplyReason(err('QueueDoesNotExist'), ownQueue)).toMatch(
      /^replyTo ".*StockCheckReplies": the reply queue does not exist$/,
    );
    expect(
      undeliverableReplyReason(
        err('Whatever', { Code: 'AWS.SimpleQueueService.NonExistentQueue' }),
        ownQueue,
      ),
    ).toMatch(/does not exist/);
    expect(undeliverableReplyReason(err('AccessDenied'), ownQueue)).toMatch(/may not send to it/);
    expect(undeliverableReplyReason(err('RequestThrottled'), ownQueue)).toBeUndefined();
    expect(undeliverableReplyReason(err('TimeoutError'), ownQueue)).toBeUndefined();
  });
});

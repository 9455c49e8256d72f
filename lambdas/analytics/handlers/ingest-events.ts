/**
 * POST /events: a batch of user activity events (at most 500, 256 KiB). Each event is validated on
 * its own; the valid ones are produced to `user_activity`, keyed by userId, in one batched,
 * idempotent, compressed send acknowledged by all in-sync replicas. The answer says which were
 * accepted and why the others were not:
 *
 * - 202 `{accepted, rejected: []}` when every event is valid;
 * - 207 `{accepted, rejected: [{index, errors}]}` when some are;
 * - 400 with the same `rejected` list when none is (nothing is produced).
 *
 * Every record carries the request's correlation id as its `correlationId` header. Metrics:
 * EventsProduced (accepted), ActivityEventsRejected and BatchSize (events in the request), with
 * the API adapter's per-request ones.
 */
import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { apiHandler } from '../../commons/http/api-handler.js';
import { HttpError } from '../../commons/http/errors.js';
import { jsonValueIssues, MAX_JSON_DEPTH, parseJsonBody } from '../../commons/http/request.js';
import { kafkaConnectionFromEnv } from '../../commons/kafka/connection.js';
import { createProducer, produce } from '../../commons/kafka/producer.js';
import { kafkaHeadersWith } from '../../commons/observability/correlation.js';
import { countEvents, PlatformMetric } from '../../commons/observability/invocation.js';
import { logger, metrics } from '../../commons/powertools.js';
import { ANALYTICS_TOPICS, ingestBodySchema, validateEvents } from '../domain/activity.js';

const MAX_BYTES = 256 * 1024;
const producer = createProducer(kafkaConnectionFromEnv(), 'analytics-ingest');
const topic = process.env.USER_ACTIVITY_TOPIC ?? ANALYTICS_TOPICS.userActivity;

/**
 * `validateEvents`, after the edge's own check of each event: an event with a key or string that is
 * not well-formed Unicode (or nested too deeply) is rejected on its own, like any invalid event,
 * and the others of its batch still count. Indices are those of the request's `events`.
 */
function validateBatch(events: readonly unknown[]): ReturnType<typeof validateEvents> {
  const checked = events.map((e, index) => ({
    index,
    // `events.N` is already two levels deep in the body.
    issues: jsonValueIssues(e, { maxDepth: MAX_JSON_DEPTH - 2 }),
  }));
  const wellFormed = checked.filter((c) => c.issues.length === 0);
  const validated = validateEvents(wellFormed.map((c) => events[c.index]));
  const indexOf = (i: number) => (wellFormed[i] as (typeof wellFormed)[number]).index;
  return {
    accepted: validated.accepted.map((a) => ({ ...a, index: indexOf(a.index) })),
    rejected: [
      ...checked
        .filter((c) => c.issues.length > 0)
        .map((c) => ({
          index: c.index,
          errors: c.issues.map((issue) => ({ path: issue.path || '(event)', message: issue.message })),
        })),
      ...validated.rejected.map((r) => ({ ...r, index: indexOf(r.index) })),
    ].sort((a, b) => a.index - b.index),
  };
}

export const handler = apiHandler(async ({ event, correlationId }) => {
  const { events } = parseJsonBody(event, ingestBodySchema, {
    maxBytes: MAX_BYTES,
    itemsCheckedByCaller: 'events',
  });
  const { accepted, rejected } = validateBatch(events);
  metrics.addMetric(PlatformMetric.BatchSize, MetricUnit.Count, events.length);
  metrics.addMetric('ActivityEventsRejected', MetricUnit.Count, rejected.length);
  if (accepted.length === 0) {
    throw new HttpError(
      400,
      'No event of the batch is valid',
      rejected.flatMap((r) =>
        r.errors.map((e) => ({ path: `events.${r.index}.${e.path}`, message: e.message })),
      ),
    );
  }
  const receivedAt = new Date().toISOString();
  const ids = accepted.map(({ event: e }) => e.eventId ?? randomUUID());
  await produce(
    producer,
    accepted.map(({ event: e }, i) => ({
      topic,
      key: e.userId,
      value: JSON.stringify({ ...e, eventId: ids[i], receivedAt }),
      headers: kafkaHeadersWith(correlationId, { eventType: e.type, schemaVersion: String(e.schemaVersion) }),
    })),
  );
  countEvents('EventsProduced', accepted.length);
  logger.debug('Activity events produced', { accepted: accepted.length, rejected: rejected.length });
  return {
    statusCode: rejected.length === 0 ? 202 : 207,
    body: {
      accepted: accepted.map(({ index }, i) => ({ index, eventId: ids[i] })),
      rejected,
    },
  };
});

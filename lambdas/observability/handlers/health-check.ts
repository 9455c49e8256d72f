/**
 * The health check, two ways in:
 *
 * - `GET /health`: the stage's alarms (warning = degraded, critical = unhealthy, per check) and
 *   live probes, aggregated into healthy / degraded / unhealthy with the reason of every check;
 *   200, or 503 when unhealthy.
 * - Every minute (EventBridge): the same report, published as the `HealthScore` metric (0, 1, 2);
 *   a change of the overall status is recorded with a conditional write (so that two concurrent
 *   runs cannot both announce it) and announced on the alert topic.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PublishCommand } from '@aws-sdk/client-sns';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { documentClient } from '../../commons/clients/dynamodb.js';
import { snsClient } from '../../commons/clients/sns.js';
import { requiredEnv } from '../../commons/env.js';
import { apiHandler } from '../../commons/http/api-handler.js';
import { logger, metrics } from '../../commons/powertools.js';
import { OPERATIONAL_STATE_KEY } from '../../commons/resilience/dynamodb-circuit-state-store.js';
import { alarmsProbe, eventStoreProbe } from '../adapters/health-sources.js';
import { healthStatusChangeMessage } from '../domain/alerts.js';
import {
  aggregateHealth,
  HEALTH_SCORE,
  type HealthReport,
  type HealthStatus,
  httpStatusOf,
  statusChange,
} from '../domain/health.js';

const prefix = requiredEnv('ALARM_NAME_PREFIX');
const eventStoreTable = requiredEnv('EVENT_STORE_TABLE_NAME');
const stateTable = requiredEnv('OPERATIONAL_STATE_TABLE_NAME');
const alertTopicArn = requiredEnv('ALERT_TOPIC_ARN');
const stage = process.env.STAGE ?? 'unknown';
const STATUS_KEY = { [OPERATIONAL_STATE_KEY]: 'health#status' };

export async function checkHealth(now = new Date()): Promise<HealthReport> {
  const [{ alarms, probe: alarmsRead }, eventStore] = await Promise.all([
    alarmsProbe(prefix),
    eventStoreProbe(eventStoreTable),
  ]);
  return aggregateHealth(alarms, [alarmsRead, eventStore], now);
}

/** Records the status; returns the change when this run is the one that changed it. */
async function recordStatus(
  report: HealthReport,
): Promise<{ from: HealthStatus; to: HealthStatus } | undefined> {
  try {
    const { Attributes } = await documentClient().send(
      new UpdateCommand({
        TableName: stateTable,
        Key: STATUS_KEY,
        UpdateExpression: 'SET #status = :status, changedAt = :at, summary = :summary',
        ConditionExpression: 'attribute_not_exists(#status) OR #status <> :status',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':status': report.status,
          ':at': report.checkedAt,
          ':summary': report.summary,
        },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return statusChange(Attributes?.status as HealthStatus | undefined, report.status);
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined; // unchanged
    throw error;
  }
}

async function scheduled(): Promise<HealthReport> {
  const report = await checkHealth();
  metrics.addMetric('HealthScore', MetricUnit.Count, HEALTH_SCORE[report.status]);
  const change = await recordStatus(report);
  if (change) {
    const message = healthStatusChangeMessage(change, report, stage);
    await snsClient().send(
      new PublishCommand({
        TopicArn: alertTopicArn,
        Subject: `Health of ${stage}: ${change.from} -> ${change.to}`.slice(0, 99),
        Message: JSON.stringify(message),
      }),
    );
    logger.warn('Health status changed', { from: change.from, to: change.to, summary: report.summary });
  } else {
    logger.info('Health checked', { status: report.status, summary: report.summary });
  }
  return report;
}

const http = apiHandler(async () => {
  const report = await checkHealth();
  const statusCode = httpStatusOf(report.status);
  // Counted so that the API 5xx alarm can leave out the health check's own 503s.
  if (statusCode === 503) metrics.addMetric('HealthUnavailableResponses', MetricUnit.Count, 1);
  return { statusCode, body: report };
});

const isApiEvent = (event: unknown): event is APIGatewayProxyEvent =>
  typeof event === 'object' && event !== null && 'httpMethod' in event && 'requestContext' in event;

export async function handler(
  event: unknown,
  context: Context,
): Promise<APIGatewayProxyResult | HealthReport> {
  if (isApiEvent(event)) return http(event, context);
  logger.addContext(context);
  try {
    return await scheduled();
  } finally {
    metrics.publishStoredMetrics();
  }
}

import { z } from 'zod';

/** A check's two thresholds: warning (degraded) at most critical (unhealthy). */
const threshold = (max = Number.MAX_SAFE_INTEGER) =>
  z
    .object({ warning: z.number().min(0).max(max), critical: z.number().min(0).max(max) })
    .strict()
    .refine((t) => t.warning <= t.critical, { message: 'warning cannot exceed critical', path: ['warning'] });

/**
 * Typed configuration of one deployment stage. The CDK app reads the stage name from context
 * (`-c stage=dev`) and may take overrides as a JSON object (`-c config='{"logRetentionDays":30}'`);
 * both are parsed here, so a typo in a context value fails synth with the field's name.
 */
export const STAGE_NAMES = ['dev', 'prod'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

/** CloudWatch Logs accepts only these retention periods (days). */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const logRetentionDays = z
  .number()
  .int()
  .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
    message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
  });

/** Interface VPC endpoints the functions may need; gateway endpoints (S3, DynamoDB) are always added. */
export const INTERFACE_ENDPOINTS = [
  'sqs',
  'sns',
  'secretsmanager',
  'kms',
  'monitoring',
  'logs',
  'events',
  'email',
  'sts',
  'kafka',
  'lambda',
] as const;
export type InterfaceEndpointName = (typeof INTERFACE_ENDPOINTS)[number];

export const stageConfigSchema = z
  .object({
    stage: z.enum(STAGE_NAMES),
    /** AWS account; undefined keeps the stacks environment-agnostic (synth needs no credentials). */
    account: z
      .string()
      .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')
      .optional(),
    region: z.string().min(1),
    network: z
      .object({
        cidr: z.string().regex(/^\d+\.\d+\.\d+\.\d+\/\d+$/, 'must be an IPv4 CIDR'),
        maxAzs: z.number().int().min(2).max(6),
        /** NAT gateways give egress to third-party HTTPS providers (payment, chat webhooks). */
        natGateways: z.number().int().min(0).max(6),
        interfaceEndpoints: z.array(z.enum(INTERFACE_ENDPOINTS)),
        flowLogRetentionDays: logRetentionDays,
      })
      .strict(),
    logRetentionDays,
    /** Whether stateful resources survive `cdk destroy` (always true in prod). */
    retainData: z.boolean(),
    queues: z
      .object({
        maxReceiveCount: z.number().int().min(1).max(1000),
      })
      .strict(),
    api: z
      .object({
        /** Stage-wide steady-state requests per second across all routes. */
        throttleRateLimit: z.number().positive(),
        /** Stage-wide burst of concurrent requests. */
        throttleBurstLimit: z.number().int().positive(),
        /** Associates an AWS WAF web ACL (managed common and bad-input rules, a per-IP rate limit). */
        waf: z.boolean(),
        /** Requests per 5 minutes per client IP before WAF blocks it (when `waf`). */
        wafRateLimitPer5Min: z.number().int().min(10),
      })
      .strict(),
    eventStore: z
      .object({
        /** A snapshot every N events, so a load reads at most N+1 items; 0 disables snapshots. */
        snapshotEvery: z.number().int().min(0).max(1000),
      })
      .strict(),
    projection: z
      .object({
        batchSize: z.number().int().min(1).max(10000),
        maxBatchingWindowSeconds: z.number().int().min(0).max(300),
        /** Retries of a failing batch before its coordinates go to the on-failure destination. */
        retryAttempts: z.number().int().min(0).max(10000),
        parallelizationFactor: z.number().int().min(1).max(10),
      })
      .strict(),
    fulfilment: z
      .object({
        /** Receives before a message moves to its DLQ, per consuming service. */
        maxReceiveCount: z
          .object({
            inventory: z.number().int().min(1).max(1000),
            payment: z.number().int().min(1).max(1000),
            shipping: z.number().int().min(1).max(1000),
            notification: z.number().int().min(1).max(1000),
            analytics: z.number().int().min(1).max(1000),
            broker: z.number().int().min(1).max(1000),
          })
          .strict(),
        /** `test`: the deterministic provider (card tokens drive outcomes); `http`: a real provider. */
        paymentProvider: z.enum(['test', 'http']),
        /** Base URL of the HTTP payment provider (with `http`). */
        paymentProviderUrl: z.string().url().optional(),
        /** `test`: e-mails recorded, not sent; `ses`: Amazon SES. */
        emailProvider: z.enum(['test', 'ses']),
        /** Sender identity for SES (with `ses`). */
        emailFrom: z.string().email().optional(),
        breakerFailureThreshold: z.number().int().min(1).max(100),
        breakerOpenSeconds: z.number().int().min(1).max(3600),
        shippingCarrier: z.string().min(1),
        /** The Redis priority queue of e-mails: lease of a taken e-mail, and sends before it is dead-lettered. */
        emailQueue: z
          .object({
            visibilitySeconds: z.number().int().min(5).max(900),
            maxAttempts: z.number().int().min(1).max(100),
          })
          .strict(),
        /** Messages above this size travel by claim check (S3); SNS and SQS stop at 256 KiB. */
        claimCheckThresholdBytes: z
          .number()
          .int()
          .min(1024)
          .max(250 * 1024),
      })
      .strict(),
    /** Real-time analytics on Kafka (MSK) with window state in Redis (ElastiCache). */
    analytics: z
      .object({
        kafka: z
          .object({
            mode: z.enum(['serverless', 'provisioned']),
            instanceType: z.string().startsWith('kafka.'),
            /** A multiple of the data subnets (one per AZ). */
            brokerNodes: z.number().int().min(1).max(30),
            volumeSizeGiB: z.number().int().min(1).max(16384),
          })
          .strict(),
        redis: z
          .object({
            mode: z.enum(['serverless', 'replicationGroup']),
            nodeType: z.string().startsWith('cache.'),
            replicas: z.number().int().min(0).max(5),
            /** Serverless: the data storage limit (GB), which the memory alarms measure against. */
            maxDataStorageGb: z.number().int().min(1).max(5000),
          })
          .strict(),
        topics: z
          .object({
            partitions: z.number().int().min(1).max(1000),
            /** Ignored by MSK Serverless, which manages replication itself. */
            replicationFactor: z.number().int().min(1).max(5),
            retentionHours: z
              .number()
              .int()
              .min(1)
              .max(24 * 365),
          })
          .strict(),
        consumer: z
          .object({
            groupId: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/),
            startingPosition: z.enum(['TRIM_HORIZON', 'LATEST']),
            batchSize: z.number().int().min(1).max(10000),
            maxBatchingWindowSeconds: z.number().int().min(0).max(300),
          })
          .strict(),
        windows: z
          .object({
            tumblingSeconds: z.number().int().min(1).max(86400),
            hoppingSizeSeconds: z.number().int().min(1).max(86400),
            hoppingAdvanceSeconds: z.number().int().min(1).max(86400),
            graceSeconds: z.number().int().min(0).max(86400),
          })
          .strict()
          .refine((w) => w.hoppingAdvanceSeconds <= w.hoppingSizeSeconds, {
            message: 'hoppingAdvanceSeconds cannot exceed hoppingSizeSeconds',
            path: ['hoppingAdvanceSeconds'],
          }),
        /** Closed windows kept per user for GET /analytics/users/{userId}. */
        resultsPerUser: z.number().int().min(1).max(10000),
      })
      .strict(),
    /** Amazon MQ for RabbitMQ. */
    broker: z
      .object({
        deploymentMode: z.enum(['SINGLE_INSTANCE', 'CLUSTER_MULTI_AZ']),
        instanceType: z.string().startsWith('mq.'),
      })
      .strict(),
    /** Alarms (a warning and a critical threshold per check), alerting and the health check. */
    observability: z
      .object({
        /** Period of the alarms' metrics; a multiple of 60. */
        periodSeconds: z
          .number()
          .int()
          .min(60)
          .max(3600)
          .refine((v) => v % 60 === 0, 'a multiple of 60'),
        /** Periods evaluated, and breaching periods among them that raise the alarm. */
        evaluationPeriods: z.number().int().min(1).max(24),
        datapointsToAlarm: z.number().int().min(1).max(24),
        thresholds: z
          .object({
            /** Visible messages in a work queue. */
            queueDepth: threshold(),
            /** Age of the oldest message in a work queue, seconds. */
            queueAgeSeconds: threshold(),
            /** Messages in a dead-letter queue (warning 1 means: any). */
            deadLetters: threshold(),
            /** Errors of one function per period. */
            lambdaErrors: threshold(),
            /** Throttles of one function per period. */
            lambdaThrottles: threshold(),
            /** p99 duration of one function, as a percentage of its timeout. */
            lambdaP99PercentOfTimeout: threshold(100),
            /** Records the Kafka consumer (windowing) is behind (Lambda's OffsetLag). */
            kafkaOffsetLag: threshold(),
            /** Age of the oldest unconsumed record (MSK EstimatedMaxTimeLag), seconds. */
            kafkaTimeLagSeconds: threshold(),
            /** Read plus write throttle events of one table per period. */
            dynamoDbThrottles: threshold(),
            /** API responses with a 5xx status per period. */
            api5xx: threshold(),
            /** API p99 latency, milliseconds. */
            apiP99LatencyMs: threshold(),
            /** Messages held by the RabbitMQ broker. */
            brokerMessages: threshold(),
            /** RabbitMQ memory in use, percent of its limit. */
            brokerMemoryPercent: threshold(100),
            /** Redis memory in use, percent of its limit. */
            redisMemoryPercent: threshold(100),
            /** Keys Redis evicted per period. */
            redisEvictions: threshold(),
          })
          .strict(),
        /** Where alerts are e-mailed (SES); none: no e-mail. */
        alertEmails: z.array(z.string().email()).max(50),
        /** The SES identity alerts are sent from (required with alertEmails). */
        alertFrom: z.string().email().optional(),
      })
      .strict()
      .refine((o) => o.datapointsToAlarm <= o.evaluationPeriods, {
        message: 'datapointsToAlarm cannot exceed evaluationPeriods',
        path: ['datapointsToAlarm'],
      })
      .refine((o) => o.alertEmails.length === 0 || o.alertFrom !== undefined, {
        message: 'required with alertEmails',
        path: ['alertFrom'],
      }),
    /** How long an `Idempotency-Key` is remembered. */
    idempotencyTtlSeconds: z
      .number()
      .int()
      .min(60)
      .max(7 * 24 * 3600),
    tags: z.record(z.string(), z.string()),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.stage === 'prod' && !c.retainData) {
      ctx.addIssue({ code: 'custom', path: ['retainData'], message: 'prod must retain data' });
    }
    if (c.fulfilment.paymentProvider === 'http' && !c.fulfilment.paymentProviderUrl) {
      ctx.addIssue({
        code: 'custom',
        path: ['fulfilment', 'paymentProviderUrl'],
        message: 'required with http',
      });
    }
    if (c.fulfilment.emailProvider === 'ses' && !c.fulfilment.emailFrom) {
      ctx.addIssue({ code: 'custom', path: ['fulfilment', 'emailFrom'], message: 'required with ses' });
    }
    if (c.network.natGateways > c.network.maxAzs) {
      ctx.addIssue({ code: 'custom', path: ['network', 'natGateways'], message: 'cannot exceed maxAzs' });
    }
  });

export type StageConfig = z.infer<typeof stageConfigSchema>;

/** The alarm thresholds of the dev stage; prod starts from them. */
const DEV_THRESHOLDS = {
  queueDepth: { warning: 100, critical: 1000 },
  queueAgeSeconds: { warning: 120, critical: 600 },
  deadLetters: { warning: 1, critical: 10 },
  lambdaErrors: { warning: 1, critical: 10 },
  lambdaThrottles: { warning: 1, critical: 10 },
  lambdaP99PercentOfTimeout: { warning: 70, critical: 90 },
  kafkaOffsetLag: { warning: 1000, critical: 10000 },
  kafkaTimeLagSeconds: { warning: 60, critical: 300 },
  dynamoDbThrottles: { warning: 1, critical: 50 },
  api5xx: { warning: 1, critical: 10 },
  apiP99LatencyMs: { warning: 1000, critical: 3000 },
  brokerMessages: { warning: 1000, critical: 10000 },
  brokerMemoryPercent: { warning: 60, critical: 80 },
  redisMemoryPercent: { warning: 70, critical: 90 },
  redisEvictions: { warning: 1, critical: 100 },
} as const satisfies StageConfig['observability']['thresholds'];

const DEFAULTS: Record<StageName, StageConfig> = {
  dev: {
    stage: 'dev',
    region: 'us-east-1',
    network: {
      cidr: '10.20.0.0/16',
      maxAzs: 2,
      natGateways: 1,
      interfaceEndpoints: ['sqs', 'sns', 'secretsmanager', 'kms', 'sts', 'lambda', 'kafka'],
      flowLogRetentionDays: 14,
    },
    logRetentionDays: 14,
    retainData: false,
    queues: { maxReceiveCount: 3 },
    api: { throttleRateLimit: 50, throttleBurstLimit: 100, waf: false, wafRateLimitPer5Min: 2000 },
    eventStore: { snapshotEvery: 50 },
    projection: { batchSize: 100, maxBatchingWindowSeconds: 0, retryAttempts: 20, parallelizationFactor: 1 },
    fulfilment: {
      maxReceiveCount: { inventory: 3, payment: 8, shipping: 3, notification: 5, analytics: 3, broker: 5 },
      paymentProvider: 'test',
      emailProvider: 'test',
      breakerFailureThreshold: 5,
      breakerOpenSeconds: 10,
      shippingCarrier: 'DHL',
      emailQueue: { visibilitySeconds: 60, maxAttempts: 8 },
      claimCheckThresholdBytes: 200 * 1024,
    },
    analytics: {
      kafka: { mode: 'serverless', instanceType: 'kafka.t3.small', brokerNodes: 2, volumeSizeGiB: 20 },
      redis: { mode: 'serverless', nodeType: 'cache.t4g.micro', replicas: 0, maxDataStorageGb: 1 },
      topics: { partitions: 3, replicationFactor: 1, retentionHours: 24 },
      consumer: {
        groupId: 'analytics-windowing',
        startingPosition: 'TRIM_HORIZON',
        batchSize: 100,
        maxBatchingWindowSeconds: 0,
      },
      windows: { tumblingSeconds: 60, hoppingSizeSeconds: 300, hoppingAdvanceSeconds: 60, graceSeconds: 30 },
      resultsPerUser: 100,
    },
    broker: { deploymentMode: 'SINGLE_INSTANCE', instanceType: 'mq.t3.micro' },
    observability: {
      periodSeconds: 60,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      thresholds: DEV_THRESHOLDS,
      alertEmails: [],
    },
    idempotencyTtlSeconds: 3600,
    tags: {},
  },
  prod: {
    stage: 'prod',
    region: 'us-east-1',
    network: {
      cidr: '10.30.0.0/16',
      maxAzs: 3,
      natGateways: 3,
      interfaceEndpoints: [
        'sqs',
        'sns',
        'secretsmanager',
        'kms',
        'monitoring',
        'events',
        'email',
        'kafka',
        'sts',
        'lambda',
      ],
      flowLogRetentionDays: 90,
    },
    logRetentionDays: 90,
    retainData: true,
    queues: { maxReceiveCount: 5 },
    api: { throttleRateLimit: 500, throttleBurstLimit: 1000, waf: true, wafRateLimitPer5Min: 2000 },
    eventStore: { snapshotEvery: 50 },
    projection: { batchSize: 100, maxBatchingWindowSeconds: 1, retryAttempts: 100, parallelizationFactor: 2 },
    fulfilment: {
      maxReceiveCount: { inventory: 5, payment: 10, shipping: 5, notification: 8, analytics: 5, broker: 8 },
      paymentProvider: 'test',
      emailProvider: 'test',
      breakerFailureThreshold: 5,
      breakerOpenSeconds: 30,
      shippingCarrier: 'DHL',
      emailQueue: { visibilitySeconds: 60, maxAttempts: 8 },
      claimCheckThresholdBytes: 200 * 1024,
    },
    analytics: {
      kafka: { mode: 'provisioned', instanceType: 'kafka.m7g.large', brokerNodes: 3, volumeSizeGiB: 500 },
      redis: { mode: 'replicationGroup', nodeType: 'cache.r7g.large', replicas: 2, maxDataStorageGb: 10 },
      topics: { partitions: 12, replicationFactor: 3, retentionHours: 7 * 24 },
      consumer: {
        groupId: 'analytics-windowing',
        startingPosition: 'TRIM_HORIZON',
        batchSize: 500,
        maxBatchingWindowSeconds: 1,
      },
      windows: { tumblingSeconds: 60, hoppingSizeSeconds: 300, hoppingAdvanceSeconds: 60, graceSeconds: 60 },
      resultsPerUser: 1000,
    },
    broker: { deploymentMode: 'CLUSTER_MULTI_AZ', instanceType: 'mq.m5.large' },
    observability: {
      periodSeconds: 60,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      thresholds: {
        ...DEV_THRESHOLDS,
        queueDepth: { warning: 1000, critical: 10000 },
        kafkaOffsetLag: { warning: 10000, critical: 100000 },
        api5xx: { warning: 5, critical: 50 },
      },
      alertEmails: [],
    },
    idempotencyTtlSeconds: 24 * 3600,
    tags: {},
  },
};

/** Deep-merges plain objects; arrays and scalars in `override` replace those in `base`. */
function merge(base: unknown, override: unknown): unknown {
  if (
    typeof base !== 'object' ||
    base === null ||
    Array.isArray(base) ||
    typeof override !== 'object' ||
    override === null ||
    Array.isArray(override)
  ) {
    return override === undefined ? base : override;
  }
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(override)) out[k] = merge(out[k], v);
  return out;
}

export class StageConfigError extends Error {}

/**
 * Builds the configuration of a stage from its defaults and optional overrides.
 * @param stage the stage name from context, e.g. `dev`
 * @param overrides a partial configuration (object or JSON string), e.g. from `-c config=...`
 */
export function loadStageConfig(
  stage: unknown,
  overrides?: unknown,
  env: { account?: string; region?: string } = {},
): StageConfig {
  const name = z.enum(STAGE_NAMES).safeParse(stage ?? 'dev');
  if (!name.success) {
    throw new StageConfigError(`Unknown stage "${String(stage)}": use one of ${STAGE_NAMES.join(', ')}.`);
  }
  let parsedOverrides: unknown = overrides;
  if (typeof overrides === 'string') {
    try {
      parsedOverrides = JSON.parse(overrides);
    } catch (e) {
      throw new StageConfigError(`Context "config" is not valid JSON: ${(e as Error).message}`);
    }
  }
  const candidate = merge(
    { ...DEFAULTS[name.data], ...(env.region ? { region: env.region } : {}), account: env.account },
    parsedOverrides ?? {},
  );
  const result = stageConfigSchema.safeParse(candidate);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new StageConfigError(`Invalid configuration for stage "${name.data}":\n${lines.join('\n')}`);
  }
  return result.data;
}

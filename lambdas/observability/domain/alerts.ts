/**
 * The alert notifier's domain: the messages that reach the alerts topic, the alert they become,
 * and how an alert is written to the log, to an e-mail and to a chat webhook. Pure: no AWS, no
 * Lambda; the notifier handler parses each SNS record with `parseAlert` and sends the formats.
 *
 * Two kinds of message reach the topic:
 * - the JSON CloudWatch publishes when an alarm changes state (the alarm's SNS action), see
 *   `CloudWatchAlarmMessageSchema`;
 * - the platform's own `HealthStatusChanged`, published by the scheduled health check when the
 *   overall status changes, see `HealthStatusChangeSchema`.
 *
 * SNS delivers at least once: the same state change can arrive twice. An alert's `id` is derived
 * from the state change alone (never from the delivery), so the notifier can drop the second one
 * with a conditional write on the id.
 *
 * Severity of an alarm comes from its name: the platform names its alarms
 * `<prefix>-<check>-warning` and `<prefix>-<check>-critical` (`alarmName`), so a notification
 * needs no lookup to know how loud to be.
 */
import * as z from 'zod';
import { formatIssues } from '../../commons/domain/validation-issues.js';
import type { HealthReport, HealthStatus, Severity } from './health.js';

export type { Severity } from './health.js';

// ---------------------------------------------------------------------------------------------
// Alarm naming convention
// ---------------------------------------------------------------------------------------------

/** CloudWatch's limit on an alarm name. */
export const ALARM_NAME_MAX_LENGTH = 255;

const SEVERITIES: readonly Severity[] = ['warning', 'critical'];
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it replaces
const CONTROL_CHARS_G = /[\u0000-\u001f\u007f-\u009f]+/g;

/** `orders queue depth` -> `orders-queue-depth`: lower-case ASCII letters and digits, dashes. */
export const checkSlug = (check: string): string =>
  check
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');

/** FNV-1a (32 bits) as 8 hex digits: a short, stable tag for a name that had to be shortened. */
const fnv1a = (text: string): string => {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
};

/**
 * The name of a check's alarm of one severity: `<prefix>-<check slug>-<severity>`, e.g.
 * `msg-prod-orders-queue-depth-critical`. Valid for CloudWatch: at most 255 characters, no
 * control characters. A slug too long for the limit is cut and tagged with a hash of the whole
 * check, so that two long checks sharing a beginning still get two names; the severity suffix is
 * always kept (`severityOfAlarmName` reads it).
 *
 * Throws (a deploy-time programming error, never a runtime one) when the prefix is empty, has
 * control characters or leaves no room, or when the check has no letter or digit.
 */
export function alarmName(prefix: string, check: string, severity: Severity): string {
  if (prefix.length === 0 || CONTROL_CHARS.test(prefix)) {
    throw new RangeError(`Invalid alarm name prefix ${JSON.stringify(prefix)}`);
  }
  const slug = checkSlug(check);
  if (slug.length === 0) throw new RangeError(`Check ${JSON.stringify(check)} has no letter or digit`);
  const suffix = `-${severity}`;
  const room = ALARM_NAME_MAX_LENGTH - prefix.length - 1 - suffix.length;
  if (slug.length <= room) return `${prefix}-${slug}${suffix}`;
  const tag = `-${fnv1a(check)}`;
  const kept = room > tag.length ? slug.slice(0, room - tag.length).replace(/-+$/, '') : '';
  if (kept.length === 0) throw new RangeError(`Alarm name prefix too long (${prefix.length} characters)`);
  return `${prefix}-${kept}${tag}${suffix}`;
}

/** The base (shared by a check's two alarms) and severity of a conventional alarm name. */
export function splitAlarmName(name: string): { base: string; severity: Severity } | undefined {
  for (const severity of SEVERITIES) {
    const suffix = `-${severity}`;
    if (name.length > suffix.length && name.endsWith(suffix)) {
      return { base: name.slice(0, -suffix.length), severity };
    }
  }
  return undefined;
}

/**
 * The check and severity of an alarm named by `alarmName` with this prefix, the check in words
 * (`msg-prod-orders-queue-depth-critical` -> `orders queue depth`, critical): how the health check
 * groups the alarms it lists by prefix. Undefined for a name off the convention.
 */
export function parseAlarmName(
  prefix: string,
  name: string,
): { check: string; severity: Severity } | undefined {
  const split = splitAlarmName(name);
  if (!split?.base.startsWith(`${prefix}-`)) return undefined;
  const check = split.base
    .slice(prefix.length + 1)
    .replace(/-/g, ' ')
    .trim();
  return check.length > 0 ? { check, severity: split.severity } : undefined;
}

/** `…-critical` -> critical, `…-warning` -> warning; undefined for a name off the convention. */
export const severityOfAlarmName = (name: string): Severity | undefined => splitAlarmName(name)?.severity;

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

const AlarmStateSchema = z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']);
const HealthStatusSchema = z.enum(['healthy', 'degraded', 'unhealthy']);

/**
 * CloudWatch's timestamps in notifications, `2024-01-31T12:00:00.000+0000` (an offset without a
 * colon, which `z.iso.datetime` refuses); a `Z` or `+00:00` is accepted too.
 */
const CLOUDWATCH_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;
const cloudWatchTime = z
  .string()
  .regex(CLOUDWATCH_TIME, 'expected a timestamp like 2024-01-31T12:00:00.000+0000')
  .refine((t) => !Number.isNaN(Date.parse(t)), 'not a valid date');

/**
 * The metric (or metric math) a metric alarm watches. Only read for the alert's details: every
 * member is optional and unknown members are kept (CloudWatch adds members over time, and metric
 * math alarms have `Metrics` instead of `MetricName`).
 */
const TriggerSchema = z.looseObject({
  MetricName: z.string().nullish(),
  Namespace: z.string().nullish(),
  Statistic: z.string().nullish(),
  ExtendedStatistic: z.string().nullish(),
  Unit: z.string().nullish(),
  Period: z.number().nullish(),
  EvaluationPeriods: z.number().nullish(),
  ComparisonOperator: z.string().nullish(),
  Threshold: z.number().nullish(),
  TreatMissingData: z.string().nullish(),
});

/**
 * The JSON CloudWatch publishes to SNS on an alarm state change (the notification's `Message`):
 *
 * ```json
 * {"AlarmName":"msg-prod-orders-queue-depth-critical","AlarmDescription":null,
 *  "AWSAccountId":"123456789012","NewStateValue":"ALARM",
 *  "NewStateReason":"Threshold Crossed: 2 out of the last 3 datapoints [...] ...",
 *  "StateChangeTime":"2024-01-31T12:00:00.000+0000","Region":"EU (Ireland)",
 *  "AlarmArn":"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:...","OldStateValue":"OK",
 *  "Trigger":{"MetricName":"ApproximateNumberOfMessagesVisible","Namespace":"AWS/SQS",...}}
 * ```
 *
 * `AlarmDescription` is null when the alarm has none; `Region` is the region's long name;
 * `AlarmArn` is absent from older messages. A metric alarm's message has a `Trigger`; a composite
 * alarm's has none but an `AlarmRule` and `TriggeringChildren`. Members not listed here (such as
 * `OKActions`, `AlarmConfigurationUpdatedTimestamp`) are kept.
 */
export const CloudWatchAlarmMessageSchema = z.looseObject({
  AlarmName: z.string().min(1).max(ALARM_NAME_MAX_LENGTH),
  AlarmDescription: z.string().nullish(),
  AWSAccountId: z.string(),
  NewStateValue: AlarmStateSchema,
  NewStateReason: z.string(),
  StateChangeTime: cloudWatchTime,
  Region: z.string(),
  AlarmArn: z.string().optional(),
  OldStateValue: AlarmStateSchema,
  Trigger: TriggerSchema.optional(),
  AlarmRule: z.string().optional(),
  TriggeringChildren: z
    .array(z.looseObject({ Arn: z.string(), State: z.looseObject({ Value: z.string() }).optional() }))
    .optional(),
});
export type CloudWatchAlarmMessage = z.infer<typeof CloudWatchAlarmMessageSchema>;

/** The kind of the platform's own message. */
export const HEALTH_STATUS_CHANGED = 'HealthStatusChanged';

/** What the scheduled health check publishes when the overall status changes. */
export const HealthStatusChangeSchema = z
  .object({
    kind: z.literal(HEALTH_STATUS_CHANGED),
    from: HealthStatusSchema,
    to: HealthStatusSchema,
    summary: z.string(),
    checks: z.array(z.object({ name: z.string().min(1), status: HealthStatusSchema, reason: z.string() })),
    at: z.iso.datetime({ offset: true }),
    stage: z.string().min(1),
  })
  .refine((m) => m.from !== m.to, { message: 'a change needs two different statuses', path: ['to'] });
export type HealthStatusChange = z.infer<typeof HealthStatusChangeSchema>;

/** The message the scheduled health check publishes for a change of its report's status. */
export function healthStatusChangeMessage(
  change: { readonly from: HealthStatus; readonly to: HealthStatus },
  report: HealthReport,
  stage: string,
): HealthStatusChange {
  return {
    kind: HEALTH_STATUS_CHANGED,
    from: change.from,
    to: change.to,
    summary: report.summary,
    checks: report.checks.map(({ name, status, reason }) => ({ name, status, reason })),
    at: report.checkedAt,
    stage,
  };
}

// ---------------------------------------------------------------------------------------------
// Alerts
// ---------------------------------------------------------------------------------------------

export type AlertSeverity = 'info' | 'warning' | 'critical';

export interface Alert {
  /** The dedupe key: equal for two deliveries of one state change. */
  readonly id: string;
  readonly source: 'alarm' | 'health';
  readonly severity: AlertSeverity;
  readonly title: string;
  readonly summary: string;
  /** When the state changed (ISO-8601, UTC). */
  readonly at: string;
  readonly details: Readonly<Record<string, string>>;
}

export type ParseAlertResult = { ok: true; alert: Alert } | { ok: false; error: string };

/**
 * An alarm alert's severity: an OK (resolved) or INSUFFICIENT_DATA (our alarms treat missing
 * data as not breaching) transition is info; an ALARM takes the severity of the alarm's name, and
 * a name off the convention is critical (better a loud alert than a missed one).
 */
export function alarmAlertSeverity(
  message: Pick<CloudWatchAlarmMessage, 'AlarmName' | 'NewStateValue'>,
): AlertSeverity {
  if (message.NewStateValue !== 'ALARM') return 'info';
  return severityOfAlarmName(message.AlarmName) ?? 'critical';
}

/** unhealthy -> critical, degraded -> warning, healthy -> info. */
export const healthAlertSeverity = (to: HealthStatus): AlertSeverity =>
  to === 'unhealthy' ? 'critical' : to === 'degraded' ? 'warning' : 'info';

const ALARM_TITLES: Record<CloudWatchAlarmMessage['NewStateValue'], string> = {
  ALARM: 'is in ALARM',
  OK: 'is back to OK',
  INSUFFICIENT_DATA: 'has insufficient data',
};

/** The entries with a value (undefined, null and empty values left out), in order. */
const defined = (entries: readonly [string, string | null | undefined][]): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [key, value] of entries)
    if (value !== undefined && value !== null && value !== '') out[key] = value;
  return out;
};

function alarmAlert(message: CloudWatchAlarmMessage, subject: string | undefined): Alert {
  const trigger = message.Trigger;
  const metric = [trigger?.Namespace, trigger?.MetricName].filter(Boolean).join('/');
  const threshold =
    trigger?.ComparisonOperator && trigger.Threshold !== undefined && trigger.Threshold !== null
      ? `${trigger.ComparisonOperator} ${trigger.Threshold}`
      : undefined;
  const children = message.TriggeringChildren?.map((c) => `${c.Arn}${c.State ? ` (${c.State.Value})` : ''}`);
  return {
    id: `alarm:${message.AlarmName}:${message.NewStateValue}:${message.StateChangeTime}`,
    source: 'alarm',
    severity: alarmAlertSeverity(message),
    title: `${message.AlarmName} ${ALARM_TITLES[message.NewStateValue]}`,
    summary: message.NewStateReason,
    at: new Date(message.StateChangeTime).toISOString(),
    details: defined([
      ['alarm', message.AlarmName],
      ['description', message.AlarmDescription],
      ['state', `${message.OldStateValue} -> ${message.NewStateValue}`],
      ['metric', metric],
      ['threshold', threshold],
      ['rule', message.AlarmRule],
      ['triggered by', children?.join(', ')],
      ['account', message.AWSAccountId],
      ['region', message.Region],
      ['arn', message.AlarmArn],
      ['subject', subject],
    ]),
  };
}

function healthAlert(message: HealthStatusChange, subject: string | undefined): Alert {
  const failing = message.checks.filter((c) => c.status !== 'healthy');
  return {
    id: `health:${message.from}->${message.to}:${message.at}`,
    source: 'health',
    severity: healthAlertSeverity(message.to),
    title: `Platform ${message.stage} is ${message.to} (was ${message.from})`,
    summary: message.summary,
    at: new Date(message.at).toISOString(),
    details: defined([
      ['stage', message.stage],
      ['status', `${message.from} -> ${message.to}`],
      ...failing.map((c): [string, string] => [`check: ${c.name}`, `${c.status}: ${c.reason}`]),
      ['subject', subject],
    ]),
  };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The alert an SNS message (and its subject) carries: a CloudWatch alarm notification or a
 * `HealthStatusChanged`. Never throws: bad JSON or an unknown shape is `ok: false` with an error
 * naming the fields at fault.
 */
export function parseAlert(message: string, subject?: string): ParseAlertResult {
  let json: unknown;
  try {
    json = JSON.parse(message);
  } catch (e) {
    return { ok: false, error: `message is not JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (!isRecord(json)) {
    return { ok: false, error: `message is not a JSON object (${json === null ? 'null' : typeof json})` };
  }
  if ('kind' in json) {
    if (json.kind !== HEALTH_STATUS_CHANGED) {
      return { ok: false, error: `unknown message kind ${JSON.stringify(json.kind)}` };
    }
    const parsed = HealthStatusChangeSchema.safeParse(json);
    return parsed.success
      ? { ok: true, alert: healthAlert(parsed.data, subject) }
      : { ok: false, error: `invalid ${HEALTH_STATUS_CHANGED} message: ${formatIssues(parsed.error)}` };
  }
  if ('AlarmName' in json) {
    const parsed = CloudWatchAlarmMessageSchema.safeParse(json);
    return parsed.success
      ? { ok: true, alert: alarmAlert(parsed.data, subject) }
      : { ok: false, error: `invalid CloudWatch alarm message: ${formatIssues(parsed.error)}` };
  }
  return {
    ok: false,
    error: `unknown message: neither a CloudWatch alarm notification (AlarmName) nor a platform message (kind)`,
  };
}

// ---------------------------------------------------------------------------------------------
// Formats
// ---------------------------------------------------------------------------------------------

/** Limits of the formats: an e-mail subject, and a chat message (Slack's and Teams' are larger). */
export const EMAIL_SUBJECT_MAX_LENGTH = 200;
export const CHAT_TEXT_MAX_LENGTH = 4000;

const ELLIPSIS = '…';

/** At most `max` characters (UTF-16 units), ending with `…` when cut; never splits a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - ELLIPSIS.length);
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end) + ELLIPSIS;
}

/** `[CRITICAL]`, `[WARNING]`, `[INFO]`. */
export const severityTag = (severity: AlertSeverity): string => `[${severity.toUpperCase()}]`;

/** One line: control characters (CR and LF included: no header injection) become a space. */
const oneLine = (text: string): string => text.replace(CONTROL_CHARS_G, ' ').trim();

/** Subject: `[CRITICAL] <title>`, one line of at most 200 characters; text: the whole alert. */
export function formatEmail(alert: Alert): { subject: string; text: string } {
  const subject = truncate(
    oneLine(`${severityTag(alert.severity)} ${alert.title}`),
    EMAIL_SUBJECT_MAX_LENGTH,
  );
  const lines = [
    `${severityTag(alert.severity)} ${alert.title}`,
    '',
    alert.summary,
    '',
    ...Object.entries(alert.details).map(([key, value]) => `${key}: ${value}`),
    `at: ${alert.at}`,
    `alert id: ${alert.id}`,
  ];
  return { subject, text: `${lines.join('\n')}\n` };
}

/** Slack's escaping of message text (`&`, `<`, `>`), which Teams renders as written too. */
export const escapeChat = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Cuts escaped text without leaving half an entity (`&am…`). */
function truncateEscaped(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = truncate(text, max).slice(0, -ELLIPSIS.length);
  const amp = cut.lastIndexOf('&');
  const safe = amp >= 0 && !cut.slice(amp).includes(';') ? cut.slice(0, amp) : cut;
  return safe + ELLIPSIS;
}

/**
 * A chat webhook's message (Slack's and Teams' incoming webhooks both take `text`): a bold
 * `[SEVERITY] title`, the summary and the details, everything from the message escaped, at most
 * 4000 characters.
 */
export function formatChat(alert: Alert): { text: string } {
  const lines = [
    `*${escapeChat(`${severityTag(alert.severity)} ${oneLine(alert.title)}`)}*`,
    escapeChat(alert.summary),
    ...Object.entries(alert.details).map(([key, value]) => `• ${escapeChat(key)}: ${escapeChat(value)}`),
    `• at: ${escapeChat(alert.at)}`,
  ];
  return { text: truncateEscaped(lines.join('\n'), CHAT_TEXT_MAX_LENGTH) };
}

/** A structured log entry: the alert's fields, with `message` for the log line. */
export function formatLog(alert: Alert): Record<string, unknown> {
  return {
    message: `${severityTag(alert.severity)} ${alert.title}`,
    alertId: alert.id,
    source: alert.source,
    severity: alert.severity,
    title: alert.title,
    summary: alert.summary,
    at: alert.at,
    details: { ...alert.details },
  };
}

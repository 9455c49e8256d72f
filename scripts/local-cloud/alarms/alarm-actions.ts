/**
 * CloudWatch alarm behaviour the AWS emulator (moto) lacks, run by the local cloud:
 *
 * - composite alarms: moto stores none and evaluates no rule, so each composite is kept on moto
 *   as a stand-in metric alarm of the same name, and its rule is evaluated here on every poll
 *   (ALARM when true, else OK) and written with SetAlarmState;
 * - alarm actions: moto notifies nobody when a state changes, so every poll compares the states
 *   with the last ones seen and publishes CloudWatch's notification to each SNS topic among the
 *   actions of the new state.
 *
 * Two changes between polls are seen as one (or none): moto keeps no alarm history to read.
 */
import {
  type CloudWatchClient,
  type CompositeAlarm,
  DescribeAlarmsCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { EventSource, Log } from '../event-sources/types.js';
import { compositeFromStandIn } from './composite.js';
import {
  type AlarmDescriptionOf,
  actionsFor,
  alarmNotification,
  alarmSubject,
  type TriggeringChild,
} from './notification.js';
import { type AlarmStateValue, alarmsOf, evaluateAlarmRule, parseAlarmRule, type RuleNode } from './rule.js';

/** An alarm the local cloud created: a metric alarm, or a composite (with its rule). */
export interface LocalAlarm {
  readonly name: string;
  /** The composite's `AlarmRule`; undefined for a metric alarm. */
  readonly rule?: string;
}

export interface AlarmEmulatorConfig {
  readonly region: string;
  readonly accountId: string;
  /** @default 1000 */
  readonly pollIntervalMs?: number;
  /** The alarms to watch (read on every poll). */
  readonly alarms: () => readonly LocalAlarm[];
}

export interface AlarmEmulatorClients {
  readonly cloudwatch: Pick<CloudWatchClient, 'send'>;
  readonly sns: Pick<SNSClient, 'send'>;
}

/** A notification published for a state change (kept for tests and diagnostics). */
export interface PublishedAlarmNotification {
  readonly topicArn: string;
  readonly subject: string;
  readonly message: Record<string, unknown>;
}

interface Observed {
  readonly state: AlarmStateValue;
  readonly timestamp?: Date;
  readonly described: AlarmDescriptionOf;
}

const ARN_ALARM = /^arn:[^:]+:cloudwatch:[^:]*:[^:]*:alarm:(.+)$/;
/** The name of an alarm from its name or ARN. */
export const alarmNameOf = (nameOrArn: string): string => ARN_ALARM.exec(nameOrArn)?.[1] ?? nameOrArn;

const isState = (v: unknown): v is AlarmStateValue =>
  v === 'OK' || v === 'ALARM' || v === 'INSUFFICIENT_DATA';

/** `TriggeringChildren` from a composite's StateReasonData (`{"triggeringAlarms": [...]}`). */
export function triggeringChildrenOf(reasonData: string | undefined): TriggeringChild[] {
  if (!reasonData) return [];
  try {
    const data = JSON.parse(reasonData) as {
      triggeringAlarms?: { arn?: unknown; state?: { value?: unknown; timestamp?: unknown } }[];
    };
    return (data.triggeringAlarms ?? []).flatMap((t) =>
      typeof t.arn === 'string' && isState(t.state?.value)
        ? [
            {
              arn: t.arn,
              state: t.state.value,
              timestamp: typeof t.state.timestamp === 'string' ? new Date(t.state.timestamp) : undefined,
            },
          ]
        : [],
    );
  } catch {
    return [];
  }
}

export class AlarmEmulator implements EventSource {
  readonly description = 'CloudWatch alarm actions and composite alarm rules';
  /** Notifications published so far, oldest first. */
  readonly published: PublishedAlarmNotification[] = [];
  private readonly seen = new Map<string, AlarmStateValue>();
  private readonly rules = new Map<string, RuleNode | Error>();
  private readonly warned = new Set<string>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly config: AlarmEmulatorConfig,
    private readonly clients: AlarmEmulatorClients,
    private readonly log: Log,
  ) {}

  private warnOnce(key: string, line: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log(line);
  }

  start(): void {
    this.stopped = false;
    const every = this.config.pollIntervalMs ?? 1000;
    const loop = () => {
      if (this.stopped) return;
      this.running = this.poll()
        .catch((e: Error) => this.warnOnce(`poll:${e.message}`, `alarms: poll failed: ${e.message}`))
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) {
            this.timer = setTimeout(loop, every);
            this.timer.unref();
          }
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private rule(alarm: LocalAlarm): RuleNode | undefined {
    if (alarm.rule === undefined) return undefined;
    let parsed = this.rules.get(alarm.name);
    if (!parsed) {
      try {
        parsed = parseAlarmRule(alarm.rule);
      } catch (e) {
        parsed = e as Error;
      }
      this.rules.set(alarm.name, parsed);
    }
    if (parsed instanceof Error) {
      this.warnOnce(
        `rule:${alarm.name}`,
        `alarms: composite alarm ${alarm.name} is not evaluated, its rule does not parse: ${parsed.message}`,
      );
      return undefined;
    }
    return parsed;
  }

  private async describe(names: readonly string[]): Promise<Map<string, Observed>> {
    const out = new Map<string, Observed>();
    for (let i = 0; i < names.length; i += 100) {
      let token: string | undefined;
      do {
        const page = await this.clients.cloudwatch.send(
          new DescribeAlarmsCommand({
            AlarmNames: names.slice(i, i + 100),
            AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
            NextToken: token,
          }),
        );
        for (const alarm of page.MetricAlarms ?? []) this.observe(out, { type: 'metric', alarm });
        for (const alarm of page.CompositeAlarms ?? []) this.observe(out, { type: 'composite', alarm });
        token = page.NextToken;
      } while (token);
    }
    return out;
  }

  private observe(out: Map<string, Observed>, described: AlarmDescriptionOf): void {
    const { AlarmName, StateValue, StateUpdatedTimestamp } = described.alarm;
    if (AlarmName && isState(StateValue))
      out.set(AlarmName, { state: StateValue, timestamp: StateUpdatedTimestamp, described });
  }

  /**
   * One round: reads the alarms, evaluates the composites (until no composite changes, as one
   * may depend on another), then publishes the actions of every state that changed since the
   * last round. The first sight of an alarm is not a change.
   */
  async poll(): Promise<void> {
    const alarms = this.config.alarms();
    const composites = alarms.flatMap((a) => {
      const rule = this.rule(a);
      return rule ? [{ alarm: a, rule }] : [];
    });
    const own = new Set(alarms.map((a) => a.name));
    const names = new Set(own);
    for (const { rule } of composites) for (const ref of alarmsOf(rule)) names.add(alarmNameOf(ref));
    const observed = await this.describe([...names]);
    for (const { alarm } of composites) {
      // A stand-in metric alarm on the endpoint: the composite it stands for.
      const o = observed.get(alarm.name);
      if (o?.described.type === 'metric' && alarm.rule !== undefined)
        observed.set(alarm.name, {
          ...o,
          described: { type: 'composite', alarm: compositeFromStandIn(o.described.alarm, alarm.rule) },
        });
    }
    for (const [name, o] of observed) if (!this.seen.has(name)) this.seen.set(name, o.state);

    const stateOf = (ref: string) => observed.get(alarmNameOf(ref))?.state;
    for (let round = 0; round <= composites.length; round++) {
      let changed = false;
      for (const { alarm, rule } of composites) {
        const current = observed.get(alarm.name);
        if (!current) {
          this.warnOnce(
            `missing:${alarm.name}`,
            `alarms: composite alarm ${alarm.name} is not on the endpoint`,
          );
          continue;
        }
        for (const ref of alarmsOf(rule)) {
          if (!observed.has(alarmNameOf(ref)))
            this.warnOnce(
              `child:${alarm.name}:${ref}`,
              `alarms: composite alarm ${alarm.name} refers to ${ref}, which does not exist: it satisfies no state`,
            );
        }
        const evaluation = evaluateAlarmRule(rule, stateOf);
        const next: AlarmStateValue = evaluation.value ? 'ALARM' : 'OK';
        if (next === current.state) continue;
        const now = new Date();
        const children = evaluation.triggering.flatMap((ref) => {
          const child = observed.get(alarmNameOf(ref));
          return child
            ? [
                {
                  arn: child.described.alarm.AlarmArn ?? ref,
                  state: child.state,
                  timestamp: child.timestamp,
                },
              ]
            : [];
        });
        const reason = (
          next === 'ALARM'
            ? children
                .map((c) => `${c.arn} transitioned to ${c.state} at ${(c.timestamp ?? now).toISOString()}`)
                .join('; ') || `the rule ${alarm.rule} is true`
            : `the rule ${alarm.rule} is no longer true: ${alarmsOf(rule)
                .map((ref) => `${alarmNameOf(ref)} is ${stateOf(ref) ?? 'missing'}`)
                .join(', ')}`
        ).slice(0, 1023);
        const reasonData = JSON.stringify({
          triggeringAlarms: children.map((c) => ({
            arn: c.arn,
            state: { value: c.state, timestamp: c.timestamp?.toISOString() },
          })),
        });
        await this.clients.cloudwatch.send(
          new SetAlarmStateCommand({
            AlarmName: alarm.name,
            StateValue: next,
            StateReason: reason,
            StateReasonData: reasonData,
          }),
        );
        const updated: CompositeAlarm = {
          ...compositeFromStandIn(current.described.alarm, alarm.rule ?? ''),
          StateValue: next,
          StateReason: reason,
          StateReasonData: reasonData,
          StateUpdatedTimestamp: now,
          StateTransitionedTimestamp: now,
        };
        observed.set(alarm.name, {
          state: next,
          timestamp: now,
          described: { type: 'composite', alarm: updated },
        });
        changed = true;
      }
      if (!changed) break;
    }

    for (const [name, o] of observed) {
      // Children a rule names that the local cloud did not create are read, never acted for.
      if (!own.has(name)) continue;
      const before = this.seen.get(name);
      this.seen.set(name, o.state);
      if (before === undefined || before === o.state) continue;
      await this.notify(o, before);
    }
  }

  private async notify(o: Observed, before: AlarmStateValue): Promise<void> {
    const alarm = o.described.alarm;
    const name = alarm.AlarmName ?? '';
    this.log(`alarm ${name}: ${before} -> ${o.state}`);
    if (alarm.ActionsEnabled === false) return;
    const described: AlarmDescriptionOf =
      o.described.type === 'composite'
        ? {
            ...o.described,
            triggeringChildren: triggeringChildrenOf(o.described.alarm.StateReasonData),
          }
        : o.described;
    const message = alarmNotification(
      described,
      {
        oldState: before,
        newState: o.state,
        reason: alarm.StateReason ?? '',
        time: o.timestamp ?? new Date(),
      },
      { region: this.config.region, accountId: this.config.accountId },
    );
    const subject = alarmSubject(name, o.state, this.config.region);
    for (const action of actionsFor(alarm, o.state)) {
      if (!/^arn:[^:]+:sns:/.test(action)) {
        this.warnOnce(
          `action:${name}:${action}`,
          `alarms: action ${action} of ${name} is not emulated (SNS only)`,
        );
        continue;
      }
      try {
        await this.clients.sns.send(
          new PublishCommand({ TopicArn: action, Subject: subject, Message: JSON.stringify(message) }),
        );
        this.published.push({ topicArn: action, subject, message });
      } catch (e) {
        this.log(`alarms: ${name}: publishing to ${action} failed: ${(e as Error).message}`);
      }
    }
  }
}

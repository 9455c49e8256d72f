import { randomUUID } from 'node:crypto';
import { type AsyncInvokeConfig, invokeAsync } from './async-invoke.js';
import type { EventSource, Invoker, Log } from './types.js';

export class ScheduleExpressionError extends Error {}

const UNIT_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** A parsed `rate(...)` or `cron(...)` schedule expression (EventBridge syntax, UTC). */
export type Schedule = { kind: 'rate'; everyMs: number } | { kind: 'cron'; matches: (d: Date) => boolean };

function field(spec: string, min: number, max: number, names: string[] = []): (v: number) => boolean {
  if (spec === '*' || spec === '?') return () => true;
  const allowed = new Set<number>();
  const value = (s: string): number => {
    const i = names.indexOf(s.toUpperCase());
    const n = i >= 0 ? i + min : Number(s);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new ScheduleExpressionError(`value ${s} out of ${min}-${max}`);
    return n;
  };
  for (const part of spec.split(',')) {
    const [range, stepText] = part.split('/') as [string, string | undefined];
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new ScheduleExpressionError(`bad step in ${part}`);
    const [from, to] =
      range === '*'
        ? [min, max]
        : range.includes('-')
          ? (range.split('-').map(value) as [number, number])
          : stepText !== undefined
            ? [value(range), max]
            : [value(range), value(range)];
    for (let v = from; v <= to; v += step) allowed.add(v);
  }
  return (v) => allowed.has(v);
}

export function parseSchedule(expression: string): Schedule {
  const rate = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (rate?.[1] && rate[2]) {
    const n = Number(rate[1]);
    if (n < 1) throw new ScheduleExpressionError(`${expression}: the value must be at least 1`);
    return { kind: 'rate', everyMs: n * (UNIT_MS[rate[2].replace(/s$/, '')] ?? 60_000) };
  }
  const cron = /^cron\((.+)\)$/.exec(expression.trim());
  const parts = cron?.[1]?.trim().split(/\s+/);
  if (parts?.length !== 6) {
    throw new ScheduleExpressionError(
      `${expression}: expected rate(N unit) or cron(min hour day month weekday year)`,
    );
  }
  const [min, hour, dom, month, dow, year] = parts as [string, string, string, string, string, string];
  const m = field(min, 0, 59);
  const h = field(hour, 0, 23);
  const d = field(dom.replace(/[LW]/g, '') || '*', 1, 31);
  const mo = field(month, 1, 12, [
    'JAN',
    'FEB',
    'MAR',
    'APR',
    'MAY',
    'JUN',
    'JUL',
    'AUG',
    'SEP',
    'OCT',
    'NOV',
    'DEC',
  ]);
  const wd = field(dow.replace(/#\d|L/g, '') || '*', 1, 7, ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT']);
  const y = field(year, 1970, 2199);
  return {
    kind: 'cron',
    matches: (t) =>
      m(t.getUTCMinutes()) &&
      h(t.getUTCHours()) &&
      d(t.getUTCDate()) &&
      mo(t.getUTCMonth() + 1) &&
      wd(t.getUTCDay() + 1) &&
      y(t.getUTCFullYear()),
  };
}

export interface ScheduleConfig extends AsyncInvokeConfig {
  readonly ruleArn: string;
  readonly expression: string;
  readonly region: string;
  readonly accountId: string;
  /** The target's constant Input, when the rule has one. */
  readonly input?: unknown;
}

/** Runs an EventBridge scheduled rule: invokes its Lambda target asynchronously on schedule. */
export class ScheduleEventSource implements EventSource {
  readonly description: string;
  private timer?: NodeJS.Timeout;
  private readonly schedule: Schedule;
  private lastMinute = -1;
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(
    private readonly config: ScheduleConfig,
    private readonly fn: Invoker,
    private readonly log: Log,
  ) {
    this.schedule = parseSchedule(config.expression);
    this.description = `schedule ${config.expression} -> ${config.functionName}`;
  }

  /** Fires once now, as a scheduled run would (used by tests and `--fire`). */
  fire(now = new Date()): Promise<unknown> {
    const event = this.config.input ?? {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: this.config.accountId,
      time: new Date(Math.floor(now.getTime() / 60_000) * 60_000).toISOString().replace('.000', ''),
      region: this.config.region,
      resources: [this.config.ruleArn],
      detail: {},
    };
    const p = invokeAsync(this.fn, event, this.config, this.log).finally(() => this.inflight.delete(p));
    this.inflight.add(p);
    return p;
  }

  start(): void {
    if (this.schedule.kind === 'rate') {
      this.timer = setInterval(() => void this.fire(), this.schedule.everyMs);
    } else {
      const matches = this.schedule.matches;
      this.timer = setInterval(() => {
        const now = new Date();
        const minute = Math.floor(now.getTime() / 60_000);
        if (minute !== this.lastMinute && matches(now)) {
          this.lastMinute = minute;
          void this.fire(now);
        }
      }, 1000);
    }
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled(this.inflight);
  }
}

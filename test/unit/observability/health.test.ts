import { describe, expect, it } from 'vitest';
import {
  type AlarmObservation,
  type AlarmState,
  aggregateHealth,
  HEALTH_SCORE,
  type HealthStatus,
  httpStatusOf,
  type ProbeResult,
  type Severity,
  statusChange,
  worst,
} from '../../../lambdas/observability/domain/health.js';

const NOW = new Date('2024-05-01T12:00:00.000Z');

function alarm(
  check: string,
  severity: Severity,
  state: AlarmState,
  extra: Partial<AlarmObservation> = {},
): AlarmObservation {
  return {
    name: `msg-dev-${check.replace(/ /g, '-')}-${severity}`,
    check,
    severity,
    state,
    ...extra,
  };
}

/** A check's pair of alarms. */
const pair = (
  check: string,
  warning: AlarmState,
  critical: AlarmState,
  extra: Partial<AlarmObservation> = {},
) => [alarm(check, 'warning', warning, extra), alarm(check, 'critical', critical, extra)];

function probe(name: string, ok: boolean, critical: boolean, extra: Partial<ProbeResult> = {}): ProbeResult {
  return { name, ok, critical, latencyMs: 12, ...extra };
}

const STATUSES: HealthStatus[] = ['healthy', 'degraded', 'unhealthy'];

describe('worst and HEALTH_SCORE', () => {
  it('scores healthy 0, degraded 1, unhealthy 2', () => {
    expect(HEALTH_SCORE).toEqual({ healthy: 0, degraded: 1, unhealthy: 2 });
  });

  it.each([
    ['healthy', 'healthy', 'healthy'],
    ['healthy', 'degraded', 'degraded'],
    ['degraded', 'healthy', 'degraded'],
    ['degraded', 'unhealthy', 'unhealthy'],
    ['unhealthy', 'healthy', 'unhealthy'],
    ['unhealthy', 'degraded', 'unhealthy'],
    ['unhealthy', 'unhealthy', 'unhealthy'],
  ] as const)('GIVEN %s and %s THEN the worst is %s', (a, b, expected) => {
    expect(worst(a, b)).toBe(expected);
  });

  it('is commutative and idempotent for every pair', () => {
    for (const a of STATUSES) {
      expect(worst(a, a)).toBe(a);
      for (const b of STATUSES) expect(worst(a, b)).toBe(worst(b, a));
    }
  });
});

describe('httpStatusOf', () => {
  it('GIVEN unhealthy THEN 503; GIVEN healthy or degraded (still serving) THEN 200', () => {
    expect(httpStatusOf('unhealthy')).toBe(503);
    expect(httpStatusOf('degraded')).toBe(200);
    expect(httpStatusOf('healthy')).toBe(200);
  });
});

describe('statusChange', () => {
  it('GIVEN no previous status (first run) THEN no change, whatever the current one', () => {
    for (const s of STATUSES) expect(statusChange(undefined, s)).toBeUndefined();
  });

  it('GIVEN the same status THEN no change', () => {
    for (const s of STATUSES) expect(statusChange(s, s)).toBeUndefined();
  });

  it('GIVEN a different status THEN the change from the previous to the current one', () => {
    expect(statusChange('healthy', 'unhealthy')).toEqual({ from: 'healthy', to: 'unhealthy' });
    expect(statusChange('unhealthy', 'degraded')).toEqual({ from: 'unhealthy', to: 'degraded' });
    expect(statusChange('degraded', 'healthy')).toEqual({ from: 'degraded', to: 'healthy' });
  });
});

describe('aggregateHealth: alarms', () => {
  it('GIVEN no alarms and no probes THEN healthy with no checks', () => {
    const report = aggregateHealth([], [], NOW);
    expect(report).toEqual({
      status: 'healthy',
      checks: [],
      checkedAt: NOW.toISOString(),
      summary: 'healthy: no checks',
    });
  });

  it('GIVEN both alarms of a check OK THEN the check is healthy with reason "OK"', () => {
    const report = aggregateHealth(pair('orders queue depth', 'OK', 'OK'), [], NOW);
    expect(report.status).toBe('healthy');
    expect(report.checks).toEqual([
      { name: 'orders queue depth', kind: 'alarm', status: 'healthy', reason: 'OK' },
    ]);
    expect(report.summary).toBe('healthy: 1 check OK');
  });

  it('GIVEN the warning alarm in ALARM and the critical OK THEN the check is degraded', () => {
    // GIVEN
    const alarms = [
      alarm('orders queue depth', 'warning', 'ALARM', { reason: 'Threshold Crossed: 150 >= 100' }),
      alarm('orders queue depth', 'critical', 'OK'),
    ];
    // WHEN
    const report = aggregateHealth(alarms, [], NOW);
    // THEN the reason carries the alarm's reason and name
    expect(report.status).toBe('degraded');
    expect(report.checks).toEqual([
      {
        name: 'orders queue depth',
        kind: 'alarm',
        status: 'degraded',
        reason: 'Threshold Crossed: 150 >= 100 (alarm msg-dev-orders-queue-depth-warning)',
      },
    ]);
    expect(report.summary).toBe('degraded: 1 check failing (orders queue depth)');
  });

  it('GIVEN the critical alarm in ALARM THEN the check is unhealthy and its reason is the critical alarm', () => {
    const alarms = [
      alarm('orders queue depth', 'warning', 'ALARM', { reason: 'over 100' }),
      alarm('orders queue depth', 'critical', 'ALARM', { reason: 'over 1000' }),
    ];
    const [check] = aggregateHealth(alarms, [], NOW).checks;
    expect(check).toMatchObject({
      status: 'unhealthy',
      reason: 'over 1000 (alarm msg-dev-orders-queue-depth-critical)',
    });
  });

  it('GIVEN the critical alarm in ALARM while the warning is OK (thresholds crossed between evaluations) THEN unhealthy', () => {
    const report = aggregateHealth(pair('api 5xx', 'OK', 'ALARM'), [], NOW);
    expect(report.status).toBe('unhealthy');
    expect(report.checks[0]?.reason).toBe('in ALARM (alarm msg-dev-api-5xx-critical)');
  });

  it('GIVEN alarms in INSUFFICIENT_DATA (a quiet queue publishes nothing) THEN healthy but the reason says "no data"', () => {
    const report = aggregateHealth(pair('payment dlq', 'INSUFFICIENT_DATA', 'INSUFFICIENT_DATA'), [], NOW);
    expect(report.status).toBe('healthy');
    expect(report.checks).toEqual([
      { name: 'payment dlq', kind: 'alarm', status: 'healthy', reason: 'no data' },
    ]);
    expect(report.summary).toBe('healthy: 1 check OK (1 without data)');
  });

  it('GIVEN one alarm of a check without data and the other OK THEN healthy with "no data"', () => {
    const [check] = aggregateHealth(pair('redis evictions', 'OK', 'INSUFFICIENT_DATA'), [], NOW).checks;
    expect(check).toMatchObject({ status: 'healthy', reason: 'no data' });
  });

  it('GIVEN the warning alarm in ALARM and the critical without data THEN degraded (ALARM wins over no data)', () => {
    const [check] = aggregateHealth(pair('kafka lag', 'ALARM', 'INSUFFICIENT_DATA'), [], NOW).checks;
    expect(check?.status).toBe('degraded');
  });

  it('GIVEN a check with a single alarm THEN it is judged on that alarm alone', () => {
    const report = aggregateHealth([alarm('api latency', 'warning', 'ALARM')], [], NOW);
    expect(report.status).toBe('degraded');
  });

  it('GIVEN a reason with surrounding blanks THEN it is trimmed; GIVEN a blank one THEN "in ALARM"', () => {
    const trimmed = aggregateHealth([alarm('a', 'critical', 'ALARM', { reason: '  too deep \n' })], [], NOW);
    expect(trimmed.checks[0]?.reason).toBe('too deep (alarm msg-dev-a-critical)');
    const blank = aggregateHealth([alarm('a', 'critical', 'ALARM', { reason: '   ' })], [], NOW);
    expect(blank.checks[0]?.reason).toBe('in ALARM (alarm msg-dev-a-critical)');
  });

  describe('duplicate alarms of one severity in a check', () => {
    it('GIVEN two critical alarms, one OK and one in ALARM THEN the worst wins: unhealthy', () => {
      const alarms = [
        alarm('orders queue depth', 'critical', 'OK', { name: 'dup-a-critical' }),
        alarm('orders queue depth', 'critical', 'ALARM', { name: 'dup-b-critical', reason: 'deep' }),
      ];
      const report = aggregateHealth(alarms, [], NOW);
      expect(report.checks).toHaveLength(1);
      expect(report.checks[0]).toMatchObject({ status: 'unhealthy', reason: 'deep (alarm dup-b-critical)' });
    });

    it('GIVEN two critical alarms both in ALARM THEN both are named, sorted, whatever the input order', () => {
      const a = alarm('q', 'critical', 'ALARM', { name: 'q-a-critical', reason: 'ra' });
      const b = alarm('q', 'critical', 'ALARM', { name: 'q-b-critical', reason: 'rb' });
      const expected = 'ra (alarm q-a-critical); rb (alarm q-b-critical)';
      expect(aggregateHealth([a, b], [], NOW).checks[0]?.reason).toBe(expected);
      expect(aggregateHealth([b, a], [], NOW).checks[0]?.reason).toBe(expected);
    });

    it('GIVEN the very same alarm observed twice THEN one check', () => {
      const a = alarm('q', 'warning', 'ALARM', { reason: 'r' });
      const report = aggregateHealth([a, a], [], NOW);
      expect(report.checks).toHaveLength(1);
      expect(report.checks[0]?.status).toBe('degraded');
    });
  });

  describe('since', () => {
    it('GIVEN a failing check THEN since is when its failing alarm changed state', () => {
      const alarms = [
        alarm('q', 'warning', 'ALARM', { updatedAt: '2024-05-01T11:00:00.000Z' }),
        alarm('q', 'critical', 'ALARM', { updatedAt: '2024-05-01T11:30:00.000Z' }),
      ];
      expect(aggregateHealth(alarms, [], NOW).checks[0]?.since).toBe('2024-05-01T11:30:00.000Z');
    });

    it('GIVEN a degraded check whose critical alarm changed later THEN since is the warning alarm', () => {
      const alarms = [
        alarm('q', 'warning', 'ALARM', { updatedAt: '2024-05-01T10:00:00.000Z' }),
        alarm('q', 'critical', 'OK', { updatedAt: '2024-05-01T11:30:00.000Z' }),
      ];
      expect(aggregateHealth(alarms, [], NOW).checks[0]?.since).toBe('2024-05-01T10:00:00.000Z');
    });

    it('GIVEN a healthy check THEN since is the latest change of its alarms (by time, not by text)', () => {
      const alarms = [
        alarm('q', 'warning', 'OK', { updatedAt: '2024-05-01T11:00:00.000+02:00' }),
        alarm('q', 'critical', 'OK', { updatedAt: '2024-05-01T10:00:00.000Z' }),
      ];
      // 11:00+02:00 is 09:00Z: earlier than 10:00Z although it sorts later as text
      expect(aggregateHealth(alarms, [], NOW).checks[0]?.since).toBe('2024-05-01T10:00:00.000Z');
    });

    it('GIVEN no timestamps THEN no since member at all', () => {
      const [check] = aggregateHealth(pair('q', 'ALARM', 'OK'), [], NOW).checks;
      expect(check).not.toHaveProperty('since');
    });
  });
});

describe('aggregateHealth: probes', () => {
  it('GIVEN a passing probe THEN a healthy probe check with reason "OK" and its latency', () => {
    const report = aggregateHealth([], [probe('redis ping', true, true, { latencyMs: 3 })], NOW);
    expect(report.checks).toEqual([
      { name: 'redis ping', kind: 'probe', status: 'healthy', reason: 'OK', latencyMs: 3 },
    ]);
  });

  it('GIVEN a failing critical probe THEN unhealthy with the probe detail as reason', () => {
    const report = aggregateHealth(
      [],
      [probe('event store', false, true, { detail: 'ResourceNotFound' })],
      NOW,
    );
    expect(report.status).toBe('unhealthy');
    expect(report.checks[0]).toMatchObject({
      kind: 'probe',
      status: 'unhealthy',
      reason: 'ResourceNotFound',
    });
  });

  it('GIVEN a failing non-critical probe THEN degraded', () => {
    const report = aggregateHealth(
      [],
      [probe('analytics redis', false, false, { detail: 'timeout after 500 ms' })],
      NOW,
    );
    expect(report.status).toBe('degraded');
    expect(report.checks[0]?.reason).toBe('timeout after 500 ms');
  });

  it('GIVEN a failing probe without detail THEN the reason is "probe failed"', () => {
    expect(aggregateHealth([], [probe('x', false, true)], NOW).checks[0]?.reason).toBe('probe failed');
  });

  it('GIVEN a passing probe with a detail THEN the reason is still "OK"', () => {
    expect(aggregateHealth([], [probe('x', true, true, { detail: 'ACTIVE' })], NOW).checks[0]?.reason).toBe(
      'OK',
    );
  });
});

describe('aggregateHealth: overall status, order and summary', () => {
  it('GIVEN checks of every status THEN the overall status is the worst, 503 for GET /health', () => {
    const report = aggregateHealth(
      [...pair('orders queue depth', 'ALARM', 'OK'), ...pair('api 5xx', 'OK', 'OK')],
      [probe('redis ping', false, true, { detail: 'ECONNREFUSED' })],
      NOW,
    );
    expect(report.status).toBe('unhealthy');
    expect(httpStatusOf(report.status)).toBe(503);
  });

  it('GIVEN only degraded failures THEN degraded and 200', () => {
    const report = aggregateHealth(pair('q', 'ALARM', 'OK'), [probe('p', false, false)], NOW);
    expect(report.status).toBe('degraded');
    expect(httpStatusOf(report.status)).toBe(200);
  });

  it('sorts the checks worst first, then by name, alarms before probes of the same name', () => {
    // GIVEN checks in no particular order
    const report = aggregateHealth(
      [
        ...pair('zeta', 'OK', 'OK'),
        ...pair('beta', 'ALARM', 'OK'),
        ...pair('alpha', 'OK', 'OK'),
        ...pair('orders queue depth', 'ALARM', 'ALARM'),
        ...pair('redis', 'OK', 'OK'),
      ],
      [probe('redis', true, true), probe('redis ping', false, true), probe('gamma', false, false)],
      NOW,
    );
    // THEN
    expect(report.checks.map((c) => `${c.status} ${c.name} ${c.kind}`)).toEqual([
      'unhealthy orders queue depth alarm',
      'unhealthy redis ping probe',
      'degraded beta alarm',
      'degraded gamma probe',
      'healthy alpha alarm',
      'healthy redis alarm',
      'healthy redis probe',
      'healthy zeta alarm',
    ]);
    expect(report.summary).toBe('unhealthy: 4 checks failing (orders queue depth, redis ping, beta, gamma)');
  });

  it('GIVEN the same observations in any order THEN an equal report (deterministic)', () => {
    const alarms = [
      ...pair('a', 'ALARM', 'OK', { reason: 'r' }),
      ...pair('b', 'OK', 'ALARM', { reason: 's' }),
      ...pair('c', 'INSUFFICIENT_DATA', 'OK'),
    ];
    const probes = [probe('p', false, false, { detail: 'd' }), probe('q', true, true)];
    const reference = aggregateHealth(alarms, probes, NOW);
    const reversed = aggregateHealth([...alarms].reverse(), [...probes].reverse(), NOW);
    expect(reversed).toEqual(reference);
    expect(JSON.stringify(reversed)).toBe(JSON.stringify(reference));
  });

  it('GIVEN many healthy checks THEN "healthy: N checks OK"', () => {
    const alarms = Array.from({ length: 12 }, (_, i) =>
      pair(`check ${String(i).padStart(2, '0')}`, 'OK', 'OK'),
    ).flat();
    const report = aggregateHealth(
      alarms,
      [probe('redis ping', true, true), probe('event store', true, true)],
      NOW,
    );
    expect(report.summary).toBe('healthy: 14 checks OK');
    expect(report.checks).toHaveLength(14);
  });

  it('stamps the report with the time given (no clock read)', () => {
    expect(aggregateHealth([], [], new Date('2030-01-02T03:04:05.678Z')).checkedAt).toBe(
      '2030-01-02T03:04:05.678Z',
    );
  });

  it('does not modify its inputs', () => {
    const alarms = Object.freeze(
      [...pair('b', 'ALARM', 'OK'), ...pair('a', 'OK', 'ALARM')].map((a) => Object.freeze(a)),
    );
    const probes = Object.freeze([Object.freeze(probe('p', false, true))]);
    expect(() => aggregateHealth(alarms, probes, NOW)).not.toThrow();
    expect(alarms.map((a) => a.check)).toEqual(['b', 'b', 'a', 'a']);
  });
});

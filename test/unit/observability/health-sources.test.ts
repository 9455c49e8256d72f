import type { MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { observationOf, probe } from '../../../lambdas/observability/adapters/health-sources.js';

const alarm = (over: Partial<MetricAlarm>): MetricAlarm => ({
  AlarmName: 'Platform-Dev-fulfilment-inventory-queue-depth-critical',
  StateValue: 'ALARM',
  StateReason: 'Threshold Crossed: 1 datapoint [2000.0] was >= 1000.0',
  StateUpdatedTimestamp: new Date('2026-11-27T03:00:00Z'),
  ...over,
});

describe('observationOf (a CloudWatch alarm as the health domain sees it)', () => {
  it('GIVEN a conventional name THEN the check, severity, state, reason and time come from the alarm', () => {
    expect(observationOf('Platform-Dev', alarm({}))).toEqual({
      name: 'Platform-Dev-fulfilment-inventory-queue-depth-critical',
      check: 'fulfilment inventory queue depth',
      severity: 'critical',
      state: 'ALARM',
      reason: 'Threshold Crossed: 1 datapoint [2000.0] was >= 1000.0',
      updatedAt: '2026-11-27T03:00:00.000Z',
    });
  });

  it('GIVEN a name off the convention, another prefix or an unknown state THEN it is left out', () => {
    expect(
      observationOf('Platform-Dev', alarm({ AlarmName: 'Platform-Dev-something-else' })),
    ).toBeUndefined();
    expect(observationOf('Platform-Prod', alarm({}))).toBeUndefined();
    expect(observationOf('Platform-Dev', alarm({ StateValue: 'PENDING' as never }))).toBeUndefined();
  });

  it('GIVEN no reason or time THEN the observation has none (no empty strings)', () => {
    const o = observationOf(
      'Platform-Dev',
      alarm({ StateReason: undefined, StateUpdatedTimestamp: undefined, StateValue: 'OK' }),
    );
    expect(o).toEqual({
      name: 'Platform-Dev-fulfilment-inventory-queue-depth-critical',
      check: 'fulfilment inventory queue depth',
      severity: 'critical',
      state: 'OK',
    });
  });
});

describe('probe (a live check with a time limit)', () => {
  it('GIVEN a probe that finds nothing wrong THEN it is ok, with its latency', async () => {
    const result = await probe('event store', true, async () => undefined);
    expect(result).toMatchObject({ name: 'event store', ok: true, critical: true });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('GIVEN a probe that reports a problem or throws THEN it failed with that reason', async () => {
    expect(await probe('table', true, async () => 'table t is UPDATING')).toMatchObject({
      ok: false,
      detail: 'table t is UPDATING',
    });
    expect(
      await probe('table', false, async () => {
        throw new Error('AccessDeniedException: no');
      }),
    ).toMatchObject({ ok: false, critical: false, detail: 'AccessDeniedException: no' });
  });

  it('GIVEN a probe that hangs THEN it fails at the time limit instead of holding the health check', async () => {
    const started = Date.now();
    const result = await probe('slow', true, () => new Promise<undefined>(() => {}), 50);
    expect(result).toMatchObject({ ok: false, detail: 'no answer within 50 ms' });
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.POWERTOOLS_SERVICE_NAME = 'unit-service';
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'UnitNamespace';
});

import {
  countEvents,
  instrumentedInvocation,
  PlatformMetric,
} from '../../../lambdas/commons/observability/invocation.js';
import { type Captured, captureStdout, emfUnits } from './stdout-capture.js';

describe('instrumentedInvocation', () => {
  let out: Captured;
  beforeEach(() => {
    out = captureStdout();
  });
  afterEach(() => out.restore());

  it('emits BatchSize, ProcessingTime and the event counts as EMF, in the namespace and service of the environment', async () => {
    const result = await instrumentedInvocation(undefined, { batchSize: 3 }, async () => {
      countEvents('EventsConsumed', 2);
      countEvents('EventsFailed');
      countEvents('EventsProduced', 4);
      return 'done';
    });
    expect(result).toBe('done');
    const blob = out.emf().find((b) => PlatformMetric.BatchSize in b);
    expect(blob).toBeDefined();
    expect(blob?.BatchSize).toBe(3);
    expect(blob?.EventsConsumed).toBe(2);
    expect(blob?.EventsFailed).toBe(1);
    expect(blob?.EventsProduced).toBe(4);
    expect(Number(blob?.ProcessingTime)).toBeGreaterThanOrEqual(0);
    expect(blob?.service).toBe('unit-service');
    const aws = blob?._aws as { CloudWatchMetrics: { Namespace: string }[] };
    expect(aws.CloudWatchMetrics[0]?.Namespace).toBe('UnitNamespace');
    expect(emfUnits(blob as Record<string, unknown>)).toMatchObject({
      BatchSize: 'Count',
      EventsConsumed: 'Count',
      ProcessingTime: 'Milliseconds',
    });
  });

  it('flushes the metrics when the work fails, with its processing time', async () => {
    await expect(
      instrumentedInvocation(undefined, { batchSize: 1 }, async () => {
        countEvents('EventsFailed');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(out.metric('EventsFailed')).toEqual([1]);
    expect(out.metric('ProcessingTime')).toHaveLength(1);
    expect(out.metric('BatchSize')).toEqual([1]);
  });
});

import { describe, expect, it } from 'vitest';
import { loadStageConfig, StageConfigError } from '../../../lib/config/stage-config.js';

describe('loadStageConfig', () => {
  it('defaults to dev', () => {
    expect(loadStageConfig(undefined).stage).toBe('dev');
  });

  it('keeps prod data and spreads it over three AZs', () => {
    const prod = loadStageConfig('prod');
    expect(prod.retainData).toBe(true);
    expect(prod.network.maxAzs).toBe(3);
  });

  it('applies JSON overrides from context, deep-merging objects and replacing arrays', () => {
    const c = loadStageConfig('dev', '{"network":{"natGateways":0,"interfaceEndpoints":["sqs"]}}');
    expect(c.network.natGateways).toBe(0);
    expect(c.network.interfaceEndpoints).toEqual(['sqs']);
    expect(c.network.maxAzs).toBe(2);
  });

  it('takes account and region from the environment', () => {
    const c = loadStageConfig('dev', undefined, { account: '123456789012', region: 'eu-west-1' });
    expect(c).toMatchObject({ account: '123456789012', region: 'eu-west-1' });
  });

  it('rejects an unknown stage by name', () => {
    expect(() => loadStageConfig('qa')).toThrow(/Unknown stage "qa": use one of dev, prod/);
  });

  it('names each invalid field', () => {
    expect(() =>
      loadStageConfig('dev', { logRetentionDays: 10, queues: { maxReceiveCount: 0 }, typo: true }),
    ).toThrow(StageConfigError);
    try {
      loadStageConfig('dev', { logRetentionDays: 10, queues: { maxReceiveCount: 0 } });
    } catch (e) {
      expect((e as Error).message).toMatch(/logRetentionDays: must be one of 1, 3, 5/);
      expect((e as Error).message).toMatch(/queues\.maxReceiveCount/);
    }
  });

  it('refuses unknown keys, a prod that drops data, and more NAT gateways than AZs', () => {
    expect(() => loadStageConfig('dev', { typo: 1 })).toThrow(/Unrecognized key/);
    expect(() => loadStageConfig('prod', { retainData: false })).toThrow(/retainData: prod must retain data/);
    expect(() => loadStageConfig('dev', { network: { natGateways: 3 } })).toThrow(
      /natGateways: cannot exceed/,
    );
  });

  it('rejects malformed JSON overrides with the parser message', () => {
    expect(() => loadStageConfig('dev', '{nope')).toThrow(/Context "config" is not valid JSON/);
    expect(() => loadStageConfig('dev', undefined, { account: '12' })).toThrow(/12-digit/);
  });

  it('refuses a warning threshold above its critical one, naming the check', () => {
    expect(() =>
      loadStageConfig('dev', {
        observability: { thresholds: { queueDepth: { warning: 500, critical: 100 } } },
      }),
    ).toThrow(/observability\.thresholds\.queueDepth\.warning.*warning cannot exceed critical/s);
  });

  it('refuses alert e-mail recipients without a sender, and a percentage above 100', () => {
    expect(() => loadStageConfig('dev', { observability: { alertEmails: ['oncall@shop.example'] } })).toThrow(
      /observability\.alertFrom.*required with alertEmails/s,
    );
    expect(() =>
      loadStageConfig('dev', {
        observability: { thresholds: { redisMemoryPercent: { warning: 90, critical: 120 } } },
      }),
    ).toThrow(/observability\.thresholds\.redisMemoryPercent\.critical/);
  });

  it('gives prod higher queue and API thresholds than dev, and the same shape', () => {
    const dev = loadStageConfig('dev').observability.thresholds;
    const prod = loadStageConfig('prod').observability.thresholds;
    expect(Object.keys(prod).sort()).toEqual(Object.keys(dev).sort());
    expect(prod.queueDepth.critical).toBeGreaterThan(dev.queueDepth.critical);
    expect(prod.api5xx.critical).toBeGreaterThan(dev.api5xx.critical);
  });
});

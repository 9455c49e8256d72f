import { describe, expect, it } from 'vitest';
import { windowSpecs, windowSpecsFromJson } from '../../../lambdas/analytics/domain/window-config.js';

const STAGE = { tumblingSeconds: 60, hoppingSizeSeconds: 300, hoppingAdvanceSeconds: 60, graceSeconds: 30 };

describe('windowSpecs', () => {
  it('names the windowings after their sizes and gives their lengths in milliseconds', () => {
    // GIVEN a stage with a 60 s tumbling window and a 300 s window hopping every 60 s, 30 s of grace
    // WHEN the specs are made
    // THEN both windowings are named after their sizes, in ms, with the grace applied to both
    expect(windowSpecs(STAGE)).toEqual([
      { name: 'tumbling-60s', sizeMs: 60_000, advanceMs: 60_000, graceMs: 30_000 },
      { name: 'hopping-300s-every-60s', sizeMs: 300_000, advanceMs: 60_000, graceMs: 30_000 },
    ]);
  });

  it('follows the stage values', () => {
    const specs = windowSpecs({
      tumblingSeconds: 10,
      hoppingSizeSeconds: 20,
      hoppingAdvanceSeconds: 5,
      graceSeconds: 0,
    });
    expect(specs).toEqual([
      { name: 'tumbling-10s', sizeMs: 10_000, advanceMs: 10_000, graceMs: 0 },
      { name: 'hopping-20s-every-5s', sizeMs: 20_000, advanceMs: 5_000, graceMs: 0 },
    ]);
  });

  it('refuses a hopping advance larger than its size', () => {
    expect(() => windowSpecs({ ...STAGE, hoppingSizeSeconds: 60, hoppingAdvanceSeconds: 120 })).toThrow(
      /advanceMs \(120000\) must not exceed sizeMs \(60000\)/,
    );
  });

  it.each([
    ['a zero tumbling size', { tumblingSeconds: 0 }, /sizeMs must be a positive integer/],
    ['a negative grace', { graceSeconds: -1 }, /graceMs must be an integer >= 0/],
    ['a zero hopping advance', { hoppingAdvanceSeconds: 0 }, /advanceMs must be a positive integer/],
  ])('refuses %s', (_case, override, message) => {
    expect(() => windowSpecs({ ...STAGE, ...override })).toThrow(message);
  });
});

describe('windowSpecsFromJson', () => {
  it('round-trips the specs the stack writes', () => {
    // GIVEN the specs serialised as the stack writes WINDOW_SPECS
    const specs = windowSpecs(STAGE);
    // WHEN they are read back
    // THEN they are the same specs
    expect(windowSpecsFromJson(JSON.stringify(specs))).toEqual(specs);
  });

  it.each([
    ['an object', '{"name":"tumbling-60s","sizeMs":60000,"advanceMs":60000,"graceMs":0}'],
    ['a string', '"tumbling-60s"'],
    ['null', 'null'],
    ['a number', '60'],
    ['an empty array', '[]'],
  ])('refuses %s', (_case, json) => {
    expect(() => windowSpecsFromJson(json)).toThrow('WINDOW_SPECS must be a non-empty JSON array');
  });

  it('refuses text that is not JSON', () => {
    expect(() => windowSpecsFromJson('tumbling-60s')).toThrow(SyntaxError);
  });

  it('refuses a spec whose advance exceeds its size', () => {
    const json = JSON.stringify([{ name: 'bad', sizeMs: 60_000, advanceMs: 120_000, graceMs: 0 }]);
    expect(() => windowSpecsFromJson(json)).toThrow(
      /window spec "bad": advanceMs \(120000\) must not exceed/,
    );
  });

  it.each([
    ['no name', { sizeMs: 1000, advanceMs: 1000, graceMs: 0 }, /name must be a non-empty string/],
    [
      'a string size',
      { name: 'w', sizeMs: '1000', advanceMs: 1000, graceMs: 0 },
      /sizeMs must be a positive integer/,
    ],
    ['a missing grace', { name: 'w', sizeMs: 1000, advanceMs: 1000 }, /graceMs must be an integer >= 0/],
    [
      'a fractional advance',
      { name: 'w', sizeMs: 1000, advanceMs: 0.5, graceMs: 0 },
      /advanceMs must be a positive/,
    ],
  ])('refuses a spec with %s', (_case, spec, message) => {
    expect(() => windowSpecsFromJson(JSON.stringify([spec]))).toThrow(message);
  });

  it('refuses an array holding an invalid spec after a valid one', () => {
    const [tumbling] = windowSpecs(STAGE);
    expect(() => windowSpecsFromJson(JSON.stringify([tumbling, null]))).toThrow();
  });
});

/**
 * The windowings of the analytics flow, named after their sizes (`tumbling-60s`,
 * `hopping-300s-every-60s`), from the stage's seconds. Pure.
 */
import { validateWindowSpec, type WindowSpec } from './windowing.js';

export interface WindowSeconds {
  readonly tumblingSeconds: number;
  readonly hoppingSizeSeconds: number;
  readonly hoppingAdvanceSeconds: number;
  readonly graceSeconds: number;
}

export function windowSpecs(w: WindowSeconds): WindowSpec[] {
  const graceMs = w.graceSeconds * 1000;
  return [
    {
      name: `tumbling-${w.tumblingSeconds}s`,
      sizeMs: w.tumblingSeconds * 1000,
      advanceMs: w.tumblingSeconds * 1000,
      graceMs,
    },
    {
      name: `hopping-${w.hoppingSizeSeconds}s-every-${w.hoppingAdvanceSeconds}s`,
      sizeMs: w.hoppingSizeSeconds * 1000,
      advanceMs: w.hoppingAdvanceSeconds * 1000,
      graceMs,
    },
  ].map(validateWindowSpec);
}

/** The specs a function was configured with (`WINDOW_SPECS`, JSON written by the stack). */
export function windowSpecsFromJson(json: string): WindowSpec[] {
  const parsed = JSON.parse(json) as unknown;
  if (!Array.isArray(parsed) || parsed.length === 0)
    throw new Error('WINDOW_SPECS must be a non-empty JSON array');
  return parsed.map((s) => validateWindowSpec(s as WindowSpec));
}

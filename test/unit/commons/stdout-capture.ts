/**
 * Captures what Powertools writes to stdout and stderr (JSON log lines, EMF metric blobs) in a test.
 * Set POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE in `vi.hoisted` before importing
 * anything that creates the shared Powertools instances.
 */
import { vi } from 'vitest';

export interface Captured {
  /** Every JSON object written, in order. */
  readonly lines: () => Record<string, unknown>[];
  /** The log lines (objects with a `message`). */
  readonly logs: () => Record<string, unknown>[];
  /** The EMF blobs (objects with `_aws`). */
  readonly emf: () => Record<string, unknown>[];
  /** Every value a metric got across the EMF blobs (a metric added twice in a flush has two). */
  readonly metric: (name: string) => number[];
  readonly restore: () => void;
}

export function captureStdout(): Captured {
  const written: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  // Error and warning log lines go to stderr.
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation(capture),
    vi.spyOn(process.stderr, 'write').mockImplementation(capture),
  ];
  const lines = () =>
    written
      .join('')
      .split('\n')
      .filter((l) => l.trim().startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const emf = () => lines().filter((l) => '_aws' in l);
  return {
    lines,
    logs: () => lines().filter((l) => 'message' in l && !('_aws' in l)),
    emf,
    metric: (name) =>
      emf().flatMap((blob) => {
        const value = blob[name];
        if (value === undefined) return [];
        return (Array.isArray(value) ? value : [value]).map(Number);
      }),
    restore: () => {
      for (const spy of spies) spy.mockRestore();
    },
  };
}

/** EMF metric definitions of a blob: name → unit. */
export function emfUnits(blob: Record<string, unknown>): Record<string, string> {
  const aws = blob._aws as { CloudWatchMetrics: { Metrics: { Name: string; Unit: string }[] }[] };
  return Object.fromEntries(aws.CloudWatchMetrics.flatMap((m) => m.Metrics).map((m) => [m.Name, m.Unit]));
}

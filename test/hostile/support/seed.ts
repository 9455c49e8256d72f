/**
 * The seed of every generator of the hostile harness, so that a CI failure can be replayed:
 *
 * - `FC_SEED` unset: the committed seed (CI runs the same cases every time);
 * - `FC_SEED=random`: a fresh seed, printed, so a local exploratory run can be replayed;
 * - `FC_SEED=<integer>`: that seed (the one a failure report printed).
 *
 * `HOSTILE_CASES=<n>` changes the number of cases per route and per queue (default 1,000, the
 * floor CI runs); `HOSTILE_ONLY=<name>[,<name>]` keeps the routes or targets whose name contains one
 * of them (quick local replays).
 */
export const COMMITTED_SEED = 20_261_206;
export const DEFAULT_CASES = 1000;

export interface SeedChoice {
  readonly seed: number;
  /** How to get the same cases again. */
  readonly replay: string;
}

export function resolveSeed(value = process.env.FC_SEED): SeedChoice {
  if (value === undefined || value === '') {
    return { seed: COMMITTED_SEED, replay: `the committed seed ${COMMITTED_SEED} (FC_SEED unset)` };
  }
  const seed = value === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(value);
  if (!Number.isSafeInteger(seed)) throw new Error(`FC_SEED must be an integer or "random", got ${value}`);
  return { seed, replay: `FC_SEED=${seed}` };
}

export function casesPerTarget(value = process.env.HOSTILE_CASES): number {
  if (value === undefined || value === '') return DEFAULT_CASES;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new Error(`HOSTILE_CASES must be a positive integer, got ${value}`);
  return n;
}

/** Whether a route or target is selected by `HOSTILE_ONLY` (all are when it is unset). */
export function selected(name: string, value = process.env.HOSTILE_ONLY): boolean {
  if (value === undefined || value.trim() === '') return true;
  return value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .some((s) => s !== '' && name.toLowerCase().includes(s));
}

/** A per-target seed derived from the run's seed, so that filtering targets never changes the cases. */
export function seedFor(seed: number, target: string): number {
  let h = seed | 0;
  for (let i = 0; i < target.length; i++) h = Math.imul(h ^ target.charCodeAt(i), 0x01000193);
  return h >>> 1;
}

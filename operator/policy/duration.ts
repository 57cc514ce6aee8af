/**
 * Go-style durations as used by `ReleasePolicy.spec.reevaluateEvery`: one or more `<number><unit>` parts,
 * units `ms`, `s`, `m`, `h` (e.g. `6h`, `1h30m`, `90s`, `1.5h`). No sign, no spaces, must be > 0.
 */
import { craError } from '../errors.ts';

const PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/y;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
/** Upper bound: one year. Anything longer is almost certainly a typo. */
export const MAX_DURATION_MS = 366 * 24 * 3_600_000;

/** Parse a duration into milliseconds, or undefined when malformed, zero or out of range. */
export function tryParseDuration(text: unknown): number | undefined {
  if (typeof text !== 'string' || text === '' || text.length > 64) return undefined;
  let total = 0;
  PART.lastIndex = 0;
  const seen = new Set<string>();
  while (PART.lastIndex < text.length) {
    const start = PART.lastIndex;
    const m = PART.exec(text);
    if (!m || m.index !== start) return undefined;
    const unit = m[2]!;
    if (seen.has(unit)) return undefined;
    seen.add(unit);
    total += Number(m[1]) * UNIT_MS[unit]!;
  }
  total = Math.round(total);
  if (!Number.isFinite(total) || total <= 0 || total > MAX_DURATION_MS) return undefined;
  return total;
}

/** Parse a duration into milliseconds; throws a PolicyInvalid CraGateError on garbage. */
export function parseDuration(text: unknown): number {
  const ms = tryParseDuration(text);
  if (ms === undefined) {
    throw craError('PolicyInvalid', `invalid duration ${JSON.stringify(text)}: use e.g. 6h, 1h30m, 90s (> 0, ≤ 366 days)`);
  }
  return ms;
}

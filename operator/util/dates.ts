/**
 * Calendar helpers for CRA dates. All dates are civil dates in UTC; a `Date` returned here is midnight UTC.
 * Parsing is strict: the format must match and the day must exist (no 2027-02-29, no 2026-13-01).
 */

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH_RE = /^(\d{4})-(\d{2})$/;
const MS_PER_DAY = 86_400_000;

/** CRA Art. 71(2): reporting obligations (Art. 14) apply from this date. */
export const CRA_REPORTING_FROM = '2026-09-11';
/** CRA Art. 71(2): all other obligations apply from this date. */
export const CRA_FULL_FROM = '2027-12-11';

export function daysInMonth(year: number, month1: number): number {
  return utc(year, month1, 0).getUTCDate();
}

/** Parse `YYYY-MM-DD` into midnight UTC of that day, or undefined when malformed or not a real date. */
export function parseDay(text: unknown): Date | undefined {
  if (typeof text !== 'string') return undefined;
  const m = DAY_RE.exec(text);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return undefined;
  return utc(y, mo - 1, d);
}

/**
 * Parse an inclusive end date: `YYYY-MM-DD` (through the end of that day) or `YYYY-MM` (through the end of
 * that month). Returns the EXCLUSIVE end instant, i.e. midnight UTC of the first day after the period, or
 * undefined when malformed.
 */
export function parseEndExclusive(text: unknown): Date | undefined {
  if (typeof text !== 'string') return undefined;
  const day = parseDay(text);
  if (day) return new Date(day.getTime() + MS_PER_DAY);
  const m = MONTH_RE.exec(text);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  if (mo < 1 || mo > 12) return undefined;
  return utc(y, mo, 1);
}

/** Add calendar months, clamping the day to the end of the target month (Jan 31 + 1 month = Feb 28/29). */
export function addMonths(date: Date, months: number): Date {
  const y = date.getUTCFullYear();
  const mo = date.getUTCMonth() + months;
  const targetY = y + Math.floor(mo / 12);
  const targetM = ((mo % 12) + 12) % 12;
  const d = Math.min(date.getUTCDate(), daysInMonth(targetY, targetM + 1));
  return utc(targetY, targetM, d);
}

/**
 * Whole calendar months from `start` (inclusive) to `endExclusive`: the largest n with
 * addMonths(start, n) <= endExclusive. Negative when the end is before the start.
 */
export function wholeMonthsBetween(start: Date, endExclusive: Date): number {
  let n =
    (endExclusive.getUTCFullYear() - start.getUTCFullYear()) * 12 +
    (endExclusive.getUTCMonth() - start.getUTCMonth());
  while (addMonths(start, n) > endExclusive) n--;
  while (addMonths(start, n + 1) <= endExclusive) n++;
  return n;
}

/** `YYYY-MM-DD` of a Date (UTC). */
export function formatDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** Date.UTC, but years 0–99 stay years 0–99 (Date.UTC maps them to 1900–1999). */
function utc(year: number, month0: number, day: number): Date {
  const d = new Date(Date.UTC(2000, 0, 1));
  d.setUTCFullYear(year, month0, day);
  return d;
}

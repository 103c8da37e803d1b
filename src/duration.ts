/**
 * ISO-8601 durations as the service's config uses them (`P180D`, `PT20S`, `P1W`).
 *
 * Years and months are refused on purpose: their length depends on the
 * calendar, and a token lifetime must mean the same number of milliseconds in
 * every region.
 */
export interface Duration {
  /** The text as written, e.g. `P7D`; events report thresholds in this form. */
  readonly iso: string;
  readonly ms: number;
}

const PATTERN = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d{1,3})?)S)?)?$/;

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
/** Milliseconds in a day. */
export const DAY_MS = 24 * HOUR;

/**
 * The longest duration accepted: 100 years of days. Anything longer means
 * nothing for a token and, added to a date, leaves JavaScript's date range
 * (a `Date` of NaN that reached SQL as `NaN`); a digit string long enough
 * even reaches Infinity.
 */
const MAX_DURATION_MS = 36_500 * DAY_MS;

/** Parses a duration; returns null for anything that is not a positive duration of at most `MAX_DURATION_MS`. */
export function parseDuration(text: string): Duration | null {
  const iso = text.trim().toUpperCase();
  const match = PATTERN.exec(iso);
  if (!match || iso === 'P' || iso.endsWith('T')) return null;
  const [, weeks, days, hours, minutes, seconds] = match;
  const ms =
    Number(weeks ?? 0) * 7 * DAY_MS +
    Number(days ?? 0) * DAY_MS +
    Number(hours ?? 0) * HOUR +
    Number(minutes ?? 0) * MINUTE +
    Math.round(Number(seconds ?? 0) * SECOND);
  return ms > 0 && ms <= MAX_DURATION_MS ? { iso, ms } : null;
}

/** Whole days in `ms`, rounded up: 6 days and 1 second left is "7 days left". */
export function daysLeft(ms: number): number {
  return Math.max(0, Math.ceil(ms / DAY_MS));
}

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const WEEK_MS = 7 * DAY_MS;

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export const formatDateTime = (iso: string): string => dateTime.format(new Date(iso));

export const plural = (count: number, one: string, many: string): string => `${count} ${count === 1 ? one : many}`;

export function listInWords(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1] ?? ''}`;
}

const UNITS: readonly (readonly [string, number])[] = [
  ['day', DAY_MS],
  ['hour', HOUR_MS],
  ['minute', MINUTE_MS],
  ['second', SECOND_MS],
];

/**
 * A duration in words, rounded down in the largest unit that fits: "3 days"
 * for 3 days 23 hours, "20 seconds", never "1 day" for 10 seconds.
 */
export function durationInWords(ms: number): string {
  for (const [unit, size] of UNITS) if (ms >= size) return plural(Math.floor(ms / size), unit, `${unit}s`);
  return 'less than a second';
}

/** What is left until `expiresAt`, in words ("2 hours left"); "expired" once it has passed. */
export function timeLeftInWords(expiresAt: string, now: Date): string {
  const left = new Date(expiresAt).getTime() - now.getTime();
  return left > 0 ? `${durationInWords(left)} left` : 'expired';
}

const ISO_DURATION = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** An ISO 8601 duration of weeks, days, hours, minutes and seconds in ms; null for anything else (years and months have no fixed length). */
export function isoDurationMs(iso: string): number | null {
  const match = ISO_DURATION.exec(iso);
  if (!match || iso === 'P' || iso.endsWith('T')) return null;
  const [, weeks, days, hours, minutes, seconds] = match.map((part: string | undefined) => Number(part ?? 0));
  return (weeks ?? 0) * WEEK_MS + (days ?? 0) * DAY_MS + (hours ?? 0) * HOUR_MS + (minutes ?? 0) * MINUTE_MS + (seconds ?? 0) * SECOND_MS;
}

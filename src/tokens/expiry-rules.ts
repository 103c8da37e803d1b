import { daysLeft, type Duration } from '../duration.js';

/** The time facts of a token that the expiry rules need. */
export interface TokenTimes {
  readonly createdAt: Date;
  readonly expiresAt: Date;
  /** Smallest threshold already warned about, in ms; null before the first. */
  readonly warnedThresholdMs: number | null;
}

/** Tokens expire a fixed lifetime after creation, used or not. */
export function expiryFor(createdAt: Date, lifetime: Duration): Date {
  return new Date(createdAt.getTime() + lifetime.ms);
}

/** Access ends at `expiresAt` exactly: a token is expired from that instant on. */
export function isExpired(token: Pick<TokenTimes, 'expiresAt'>, now: Date): boolean {
  return now.getTime() >= token.expiresAt.getTime();
}

export interface DueWarning {
  readonly threshold: Duration;
  readonly daysLeft: number;
}

/**
 * The expiry warning to send now, if any.
 *
 * A threshold is due once the remaining life is at or below it. Only the
 * nearest due threshold is returned, so a service that was down across
 * several thresholds sends one warning, not a burst. Thresholds already
 * passed (`warnedThresholdMs`) never fire again, and thresholds as long as
 * the token's whole lifetime never fire at all (a token is not "expiring" at
 * birth). Expired tokens get no warning: they get an expiry.
 */
export function dueWarning(token: TokenTimes, now: Date, thresholds: readonly Duration[]): DueWarning | null {
  const remaining = token.expiresAt.getTime() - now.getTime();
  if (remaining <= 0) return null;
  const lifetime = token.expiresAt.getTime() - token.createdAt.getTime();
  let nearest: Duration | null = null;
  for (const threshold of thresholds) {
    if (threshold.ms >= lifetime || remaining > threshold.ms) continue;
    if (token.warnedThresholdMs !== null && threshold.ms >= token.warnedThresholdMs) continue;
    if (!nearest || threshold.ms < nearest.ms) nearest = threshold;
  }
  return nearest ? { threshold: nearest, daysLeft: daysLeft(remaining) } : null;
}

import type { AuditEvent } from '../audit/audit-event.entity.js';
import type { Config } from '../config.js';

/** The settings the sweep thread's sweeper and its own connection need. */
export type SweepSettings = Pick<Config, 'databaseUrl' | 'region' | 'tokenLifetime' | 'expiryWarnings' | 'sweepInterval' | 'sweepMaxRate'>;

/** What the sweep thread is started with: its settings, and the host logger's level (lines below it are not sent). */
export interface SweepWorkerData extends SweepSettings {
  readonly logLevel: string;
}

/** The settings out of the whole configuration (which holds secrets the thread has no use for). */
export function sweepSettings(config: Config): SweepSettings {
  const { databaseUrl, region, tokenLifetime, expiryWarnings, sweepInterval, sweepMaxRate } = config;
  return { databaseUrl, region, tokenLifetime, expiryWarnings, sweepInterval, sweepMaxRate };
}

/** From the sweep thread to the thread that runs it. */
export type FromSweepThread =
  /** A change committed: the host publishes its events, then answers `published` with the same `seq`. */
  | { readonly kind: 'committed'; readonly seq: number; readonly events: readonly AuditEvent[] }
  | { readonly kind: 'counted'; readonly metric: 'tokensExpired' | 'expiryWarnings'; readonly n: number }
  | { readonly kind: 'swept'; readonly outcome: 'ok' | 'failed'; readonly completedAt: Date | null }
  /** One log line as pino wrote it (JSON): the host logs it with its own logger. */
  | { readonly kind: 'log'; readonly line: string };

/** From the host to the sweep thread. */
export type ToSweepThread = { readonly kind: 'published'; readonly seq: number } | { readonly kind: 'stop' };

import { performance } from 'node:perf_hooks';
import { setTimeout as sleep, setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import { subjectOf } from '../audit/audit-log.js';
import type { Changes, Tx } from '../audit/changes.js';
import { SYSTEM_ACTOR } from '../audit/actor.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { ApiToken } from '../tokens/api-token.entity.js';
import type { TokenService } from '../tokens/token.service.js';
import { dueWarning, type DueWarning } from '../tokens/expiry-rules.js';
import { claimDueTokens, type DueQuery, type DueToken, type Position } from './due-tokens.js';

export interface SweeperOptions {
  readonly changes: Changes;
  readonly tokens: TokenService;
  readonly clock: Clock;
  readonly config: Pick<Config, 'expiryWarnings' | 'sweepInterval' | 'sweepMaxRate'>;
  readonly logger: Logger;
  /**
   * Tokens handled per transaction; between batches the event loop runs, so
   * a backlog of 100,000 tokens neither blocks requests nor holds one giant
   * transaction.
   * @default 500
   */
  readonly batchSize?: number;
  /** Claim rows with row locks (PostgreSQL); SQLite has none and needs none. */
  readonly lockRows: boolean;
  readonly metrics?: SweepMetrics;
}

/** What a sweeper counts: the service's counters, or a sweep thread's messages to its host. */
export interface SweepMetrics {
  readonly sweeps: { inc(labels: { outcome: 'ok' | 'failed' }): void };
  readonly tokensExpired: { inc(n: number): void };
  readonly expiryWarnings: { inc(n: number): void };
}

export interface SweepResult {
  readonly warned: number;
  readonly expired: number;
}

interface BatchResult {
  readonly found: number;
  readonly done: number;
  /** The last row this batch claimed: the next batch starts after it. */
  readonly last: Position | null;
}

/**
 * Deletes expired tokens and sends expiry warnings, every `SWEEP_INTERVAL`.
 * Every instance may run one: each batch claims its rows (see `claim`), so
 * each expiry and each warning happens exactly once.
 */
export class Sweeper {
  private readonly batchSize: number;
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<unknown> | null = null;
  private stopped = false;
  /** Aborted by `stop()`: ends a pause between batches at once. */
  private readonly stopping = new AbortController();
  /** When the last sweep completed (for the sweep-lag metric); null before the first. */
  lastCompletedAt: Date | null = null;
  /**
   * The start of the last sweep whose warning passes all completed: every
   * token that crossed a threshold before then has been warned. The next
   * sweep looks only at tokens that crossed one since (see `warnedSince`).
   */
  private warnedThrough: Date | null = null;
  /** When a sweep last looked at every token within the thresholds. */
  private fullWarnPassAt: Date | null = null;

  constructor(private readonly options: SweeperOptions) {
    this.batchSize = options.batchSize ?? 500;
  }

  start(): void {
    this.schedule(0);
  }

  /** Stops the timer and waits for a sweep in progress to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    if (this.timer) clearTimeout(this.timer);
    await this.current;
  }

  /** One full pass: expire what is due, then warn what is due. */
  async sweep(): Promise<SweepResult> {
    try {
      const startedAt = this.options.clock.now();
      const since = this.warnedSince(startedAt);
      const expired = await this.drain((after) => this.expireBatch(after));
      let warned = 0;
      // Smallest threshold first: a token that crossed several gets only the nearest.
      for (const threshold of [...this.options.config.expiryWarnings].reverse()) {
        warned += await this.drain((after) => this.warnBatch(threshold.ms, since, after));
      }
      if (warned || expired) this.options.logger.info({ warned, expired }, 'expiry sweep');
      this.warnedThrough = startedAt;
      if (since === null) this.fullWarnPassAt = startedAt;
      this.lastCompletedAt = this.options.clock.now();
      this.options.metrics?.sweeps.inc({ outcome: 'ok' });
      return { warned, expired };
    } catch (error) {
      this.options.metrics?.sweeps.inc({ outcome: 'failed' });
      throw error;
    }
  }

  /**
   * Expires one token now if it is due (a socket's timer at `expiresAt`), so
   * its EXPIRED event reaches the socket before it closes. Does nothing when
   * the token is gone already: whoever expired it published the event.
   */
  async expireToken(tokenId: string): Promise<void> {
    const { changes, tokens, clock } = this.options;
    const done = await changes.run(async (tx) =>
      tokens.expireMany(tx, await this.claim(tx, { expiresBy: clock.now(), id: tokenId }, null)),
    );
    this.options.metrics?.tokensExpired.inc(done);
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.current = this.sweep()
        .catch((error: unknown) => this.options.logger.error({ err: error }, 'expiry sweep failed'))
        .finally(() => {
          this.current = null;
          this.schedule(this.options.config.sweepInterval.ms);
        });
    }, delay);
  }

  /**
   * Runs batches until one comes back short or makes no progress. Each batch
   * starts after the last row of the one before, so a sweep reads each row of
   * a backlog once, however many batches it takes (not once per batch).
   *
   * The batches keep to `sweepMaxRate` rows a second on average: a full batch
   * that leaves the drain ahead of that pace is followed by a pause until it
   * is not (a slow batch is made up by the next ones). Unpaced, a backlog
   * of 100,000 tokens kept both cores of the bench's machine busy (the
   * database, the sweep and the publishing of its events) and the requests
   * answered meanwhile waited for them (bench/REPORT.md).
   */
  private async drain(batch: (after: Position | null) => Promise<BatchResult>): Promise<number> {
    let total = 0;
    let after: Position | null = null;
    const started = performance.now();
    let read = 0;
    for (;;) {
      // Stopping waits for the batch in progress, never for the rest of a sweep.
      if (this.stopped) return total;
      const { found, done, last } = await batch(after);
      read += found;
      total += done;
      after = last;
      // A full batch may be followed by more; the walk always moves on, so this ends.
      // stop() may have been called during the batch (TypeScript narrowed `stopped` before the await).
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
      if (found < this.batchSize || last === null || this.stopped) return total;
      const pause = started + (read * 1000) / this.options.config.sweepMaxRate - performance.now();
      if (pause > 0) await sleep(pause, undefined, { signal: this.stopping.signal }).catch(() => undefined);
      else await yieldToEventLoop();
    }
  }

  /** Claims up to a batch of tokens for this transaction, after `after` (see `claimDueTokens`). */
  private claim(tx: Tx, query: Omit<DueQuery, 'after' | 'limit' | 'lock'>, after: Position | null): Promise<DueToken[]> {
    return claimDueTokens(tx.em, { ...query, after, limit: this.batchSize, lock: this.options.lockRows });
  }

  private async expireBatch(after: Position | null): Promise<BatchResult> {
    const { changes, tokens, clock } = this.options;
    const result = await changes.run(async (tx) => {
      const due = await this.claim(tx, { expiresBy: clock.now() }, after);
      const last = positionOf(due.at(-1));
      return { found: due.length, done: await tokens.expireMany(tx, due), last };
    });
    // Counted after commit: a rolled-back batch expired nothing.
    this.options.metrics?.tokensExpired.inc(result.done);
    return result;
  }

  /**
   * Since when a sweep starting `now` must look for tokens that crossed a
   * threshold: slightly before the last complete sweep started, so the
   * warning pass reads only the tokens that entered a threshold's window
   * since (a few per interval), not every token within 30 days of expiring
   * (a sixth of the table). Null (look at all of them) for the first sweep,
   * once an hour, and when the clock went back: anything a narrower pass
   * could miss (a token written with an old warning state by hand, a failed
   * pass's stragglers) is warned within the hour.
   */
  private warnedSince(now: Date): Date | null {
    const { warnedThrough, fullWarnPassAt } = this;
    if (!warnedThrough || !fullWarnPassAt || now < warnedThrough) return null;
    if (now.getTime() - fullWarnPassAt.getTime() >= FULL_WARN_PASS_EVERY_MS) return null;
    return new Date(warnedThrough.getTime() - WARN_SLACK_MS);
  }

  private async warnBatch(thresholdMs: number, since: Date | null, after: Position | null): Promise<BatchResult> {
    const result = await this.warnBatchWithin(thresholdMs, since, after);
    this.options.metrics?.expiryWarnings.inc(result.done);
    return result;
  }

  private warnBatchWithin(thresholdMs: number, since: Date | null, after: Position | null): Promise<BatchResult> {
    const { changes, clock, config } = this.options;
    return changes.run(async (tx) => {
      const now = clock.now();
      // A token crossed the threshold at `expiresAt - threshold`: after `since` means expiring after `since + threshold`.
      const notBefore = since && since.getTime() + thresholdMs > now.getTime() ? new Date(since.getTime() + thresholdMs) : now;
      const candidates = await this.claim(
        tx,
        { expiresAfter: notBefore, expiresBy: new Date(now.getTime() + thresholdMs), notWarnedAt: thresholdMs },
        after,
      );
      const warnings: { token: DueToken; due: DueWarning }[] = [];
      for (const token of candidates) {
        const due = dueWarning(token, now, config.expiryWarnings);
        if (due) warnings.push({ token, due });
      }
      await tx.recordMany(
        warnings.map(({ token, due }) => ({
          action: 'EXPIRY_WARNING',
          actor: SYSTEM_ACTOR,
          occurredAt: now,
          subject: subjectOf(token.user),
          token,
          threshold: due.threshold.iso,
          daysLeft: due.daysLeft,
        })),
      );
      const byThreshold = new Map<number, string[]>();
      for (const { token, due } of warnings) {
        const ids = byThreshold.get(due.threshold.ms) ?? [];
        ids.push(token.id);
        byThreshold.set(due.threshold.ms, ids);
      }
      for (const [ms, ids] of byThreshold) {
        await tx.em.nativeUpdate(ApiToken, { id: { $in: ids } }, { warnedThresholdMs: ms });
      }
      return { found: candidates.length, done: warnings.length, last: positionOf(candidates.at(-1)) };
    });
  }
}

/** How often a warning pass looks at every token within the thresholds, not only those that crossed one lately. */
const FULL_WARN_PASS_EVERY_MS = 60 * 60_000;
/** How far before the last complete sweep an incremental warning pass looks: clock steps and slow batches. */
const WARN_SLACK_MS = 60_000;

function positionOf(token: DueToken | undefined): Position | null {
  return token ? { expiresAt: token.expiresAt, id: token.id } : null;
}

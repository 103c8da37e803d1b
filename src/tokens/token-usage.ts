import type { MikroORM } from '@mikro-orm/core';
import type { Logger } from 'pino';
import type { DatabaseKind } from '../db/mikro-orm.config.js';

/** Ids per UPDATE; keeps the statement and its parameter list small. */
const FLUSH_CHUNK = 500;

export interface TokenUsageOptions {
  readonly orm: MikroORM;
  readonly region: string;
  readonly databaseKind: DatabaseKind;
  readonly logger: Logger;
  /**
   * How often pending uses are written, in one statement per flush. Readers
   * in other instances see `lastUsedAt` at most this late.
   * @default 5_000
   */
  readonly flushMs?: number;
}

/**
 * `lastUsedAt` / `lastUsedRegion`, coalesced: a use is a map write on the hot
 * path, and a timer writes every token used since the last flush in one
 * UPDATE, so a busy token costs one write per flush instead of one per request.
 */
export class TokenUsage {
  private pending = new Map<string, Date>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly options: TokenUsageOptions) {}

  record(tokenId: string, at: Date): void {
    this.pending.set(tokenId, at);
  }

  /** A use this instance has not written yet, so its own readers never see an older one. */
  pendingFor(tokenId: string): { at: Date; region: string } | null {
    const at = this.pending.get(tokenId);
    return at ? { at, region: this.options.region } : null;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.options.flushMs ?? 5_000);
    this.timer.unref();
  }

  /** Stops the timer and writes what is pending. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  /** Writes every pending use; a failed write is logged and retried at the next flush. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const entries = [...batch];
    try {
      for (let start = 0; start < entries.length; start += FLUSH_CHUNK) {
        await this.update(entries.slice(start, start + FLUSH_CHUNK));
      }
    } catch (error) {
      this.options.logger.warn({ err: error, tokens: batch.size }, 'could not record token use; retrying');
      // Newer uses recorded meanwhile win over the ones we put back.
      for (const [id, at] of batch) if (!this.pending.has(id)) this.pending.set(id, at);
    }
  }

  private async update(entries: readonly (readonly [string, Date])[]): Promise<void> {
    const { orm, region, databaseKind } = this.options;
    // SQLite stores datetimes as epoch milliseconds (as MikroORM maps them); PostgreSQL wants timestamptz.
    const value = databaseKind === 'postgresql' ? 'cast(? as timestamptz)' : '?';
    const toParam = (at: Date) => (databaseKind === 'postgresql' ? at.toISOString() : at.getTime());
    const cases = entries.map(() => `when ? then ${value}`).join(' ');
    const ids = entries.map(() => '?').join(', ');
    await orm.em.getConnection().execute(
      `update api_tokens
          set last_used_at = case id ${cases} end,
              last_used_region = ?
        where id in (${ids})`,
      [...entries.flatMap(([id, at]) => [id, toParam(at)]), region, ...entries.map(([id]) => id)],
      'run',
    );
  }
}

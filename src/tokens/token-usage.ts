import type { MikroORM } from '@mikro-orm/core';
import type { Logger } from 'pino';
import type { DatabaseKind } from '../db/mikro-orm.config.js';
import { arrayLiteral, marks } from '../db/columns.js';
import { ipAddressOrNull } from '../http/client-ip.js';

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

/** One token's latest use not written yet. */
interface PendingUse {
  readonly at: Date;
  /** The client address of the use; null when the use had none of its own (an introspection by another service). */
  readonly address: string | null;
}

/**
 * `lastUsedAt` / `lastUsedRegion` / `lastUsedAddress`, coalesced: a use is a map write on the hot
 * path, and a timer writes every token used since the last flush in one
 * UPDATE, so a busy token costs one write per flush instead of one per request.
 */
export class TokenUsage {
  private pending = new Map<string, PendingUse>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly options: TokenUsageOptions) {}

  /**
   * A use of the token at `at`, from `address` (the client address as
   * `TRUST_PROXY` resolves it). Without an address, or with one that is not
   * an IP address (see `ipAddressOrNull`), the last known one stays.
   */
  record(tokenId: string, at: Date, address: string | null = null): void {
    const known = ipAddressOrNull(address) ?? this.pending.get(tokenId)?.address ?? null;
    this.pending.set(tokenId, { at, address: known });
  }

  /** A use this instance has not written yet, so its own readers never see an older one. */
  pendingFor(tokenId: string): { at: Date; region: string; address: string | null } | null {
    const use = this.pending.get(tokenId);
    return use ? { at: use.at, region: this.options.region, address: use.address } : null;
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
      for (const [id, use] of batch) if (!this.pending.has(id)) this.pending.set(id, use);
    }
  }

  private async update(entries: readonly (readonly [string, PendingUse])[]): Promise<void> {
    const { orm, region, databaseKind } = this.options;
    if (databaseKind === 'postgresql') {
      // One array per column, joined on id: a `case id when ...` of 500 branches per column
      // compared every row with every branch (37 ms a flush of 500 in the scale bench).
      // A use without an address (an introspection) keeps the address stored before.
      await orm.em.getConnection().execute(
        `update api_tokens t
            set last_used_at = v.at,
                last_used_address = coalesce(v.address, t.last_used_address),
                last_used_region = ?
           from unnest(?::uuid[], ?::timestamptz[], ?::varchar[]) as v(id, at, address)
          where t.id = v.id`,
        [
          region,
          arrayLiteral(entries.map(([id]) => id)),
          arrayLiteral(entries.map(([, use]) => use.at)),
          arrayLiteral(entries.map(([, use]) => use.address)),
        ],
        'run',
      );
      return;
    }
    // SQLite stores datetimes as epoch milliseconds (as MikroORM maps them), and has no arrays.
    const atCases = entries.map(() => 'when ? then ?').join(' ');
    const addressCases = entries.map(() => 'when ? then coalesce(?, last_used_address)').join(' ');
    await orm.em.getConnection().execute(
      `update api_tokens
          set last_used_at = case id ${atCases} end,
              last_used_address = case id ${addressCases} end,
              last_used_region = ?
        where id in (${marks(entries)})`,
      [
        ...entries.flatMap(([id, use]) => [id, use.at.getTime()]),
        ...entries.flatMap(([id, use]) => [id, use.address]),
        region,
        ...entries.map(([id]) => id),
      ],
      'run',
    );
  }
}

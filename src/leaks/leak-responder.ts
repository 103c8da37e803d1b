import type { MikroORM } from '@mikro-orm/core';
import type { Changes } from '../audit/changes.js';
import type { Actor } from '../audit/actor.js';
import type { Clock } from '../clock.js';
import { isExpired } from '../tokens/expiry-rules.js';
import { ApiToken } from '../tokens/api-token.entity.js';
import { digestToken, isWellFormedToken } from '../tokens/token-format.js';
import type { TokenService } from '../tokens/token.service.js';

/** Digests per lookup, and live tokens revoked per transaction: a batch of 1,000 is two of each. */
const CHUNK = 500;

/** One token someone says leaked, and what to record as the reason. */
export interface LeakReport {
  readonly secret: string;
  readonly reason: string;
}

/**
 * Acts on reports of exposed tokens (a secret scanner's, or anyone's): every
 * reported token that is live is revoked at once, with the usual REVOKED
 * audit record, email and event, as `actor`. Made-up, expired and already
 * revoked tokens change nothing. Work is bounded per batch, not per token:
 * tokens are looked up by digest 500 at a time, and the live ones of each
 * chunk are revoked in one transaction.
 */
export class LeakResponder {
  constructor(
    private readonly orm: MikroORM,
    private readonly changes: Changes,
    private readonly clock: Clock,
    private readonly tokens: TokenService,
  ) {}

  /**
   * Revokes the live tokens among `reports` and answers the digests of those
   * that were live when read (a token revoked meanwhile by a concurrent report
   * of it still counts: it was real, and it is revoked once).
   */
  async revoke(reports: readonly LeakReport[], actor: Actor): Promise<ReadonlySet<string>> {
    // A checksum that fails spares the database a made-up token; a token reported twice is handled once.
    const byDigest = new Map<string, string>();
    for (const report of reports) {
      if (!isWellFormedToken(report.secret)) continue;
      const digest = digestToken(report.secret);
      if (!byDigest.has(digest)) byDigest.set(digest, report.reason);
    }
    const live = new Set<string>();
    const digests = [...byDigest.keys()];
    for (let start = 0; start < digests.length; start += CHUNK) {
      const found = await this.liveTokens(digests.slice(start, start + CHUNK));
      if (found.length === 0) continue;
      // In user order, so two batches that overlap lock users in the same order (no deadlock on PostgreSQL).
      found.sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
      await this.changes.run(async (tx) => {
        for (const token of found) {
          await this.tokens.revokeTokenWithin(tx, actor, token, byDigest.get(token.digest) ?? null);
        }
      });
      for (const token of found) live.add(token.digest);
    }
    return live;
  }

  private async liveTokens(digests: readonly string[]): Promise<{ id: string; userId: string; digest: string }[]> {
    const rows = await this.orm.em
      .fork()
      .find(ApiToken, { digest: { $in: [...digests] } }, { fields: ['id', 'digest', 'expiresAt', 'user'] });
    const now = this.clock.now();
    return rows.filter((token) => !isExpired(token, now)).map((token) => ({ id: token.id, userId: token.user.id, digest: token.digest }));
  }
}

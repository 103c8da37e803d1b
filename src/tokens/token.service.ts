import { LockMode, type MikroORM } from '@mikro-orm/core';
import { subjectOf, type SubjectUser } from '../audit/audit-log.js';
import type { Changes, Tx } from '../audit/changes.js';
import { SYSTEM_ACTOR, type Actor } from '../audit/actor.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { ApiTokenExistsError, ApiTokenNotFoundError, ApiTokensDisabledError, UserInactiveError } from '../errors.js';
import { locksRows } from '../db/orm.js';
import { onUniqueViolation } from '../db/unique.js';
import { expiryFor, isExpired } from './expiry-rules.js';
import { isUuid } from '../ids.js';
import { User } from '../users/user.entity.js';
import { ApiToken } from './api-token.entity.js';
import { createTokenSecret, digestToken, isWellFormedToken } from './token-format.js';
import type { TokenUsage } from './token-usage.js';

export interface GeneratedToken {
  /** The plaintext secret: returned to the caller once, kept nowhere. */
  readonly secret: string;
  readonly token: ApiToken;
}

/** What expiring a token needs to know: a loaded token, or a row a sweep claimed. */
export interface ExpiringToken {
  readonly id: string;
  readonly hint: string;
  readonly expiresAt: Date;
  readonly user: SubjectUser;
}

export interface RevokedToken {
  readonly tokenId: string;
  readonly revokedAt: Date;
}

/**
 * The token lifecycle: one per user, shown once, fixed lifetime, irreversible
 * revocation. Verifying a token on the hot path is not here: that is the
 * `PrincipalResolver`'s job (with `token-lookup.ts` and `TokenUsage`).
 */
export class TokenService {
  private readonly lockRows: boolean;

  constructor(
    private readonly orm: MikroORM,
    private readonly changes: Changes,
    private readonly clock: Clock,
    private readonly config: Pick<Config, 'tokenLifetime' | 'region' | 'databaseUrl'>,
    private readonly usage: Pick<TokenUsage, 'pendingFor'> | null = null,
  ) {
    this.lockRows = locksRows(config.databaseUrl);
  }

  /** The user's live token; an expired one that the sweeper has not deleted yet counts as none. */
  async current(userId: string): Promise<ApiToken | null> {
    const token = await this.orm.em.fork().findOne(ApiToken, { user: userId });
    if (!token || isExpired(token, this.clock.now())) return null;
    // A use this instance has not flushed yet is newer than the stored one.
    const used = this.usage?.pendingFor(token.id);
    if (used) {
      Object.assign(token, { lastUsedAt: used.at, lastUsedRegion: used.region });
      if (used.address !== null) token.lastUsedAddress = used.address;
    }
    return token;
  }

  async generate(actor: Actor, userId: string): Promise<GeneratedToken> {
    return this.oneTokenPerUser(() =>
      this.changes.run(async (tx) => {
        const user = await this.lockUser(tx, userId);
        // Under the lock: a deactivation that committed first is seen here, one that comes later revokes what this issues.
        if (!user.active) throw new UserInactiveError();
        if (!user.apiTokensEnabled) throw new ApiTokensDisabledError(user.apiTokensDisabledReason);
        const existing = await tx.em.findOne(ApiToken, { user: userId });
        if (existing) {
          if (!isExpired(existing, this.clock.now())) throw new ApiTokenExistsError();
          // Deleted below, past the unit of work, which must not write it back.
          tx.em.getUnitOfWork().unsetIdentity(existing);
          await this.expireMany(tx, [existing]);
        }
        return this.issue(tx, actor, user);
      }),
    );
  }

  /** Revokes the current token and issues a new one, atomically: the old secret stops working at commit. */
  async regenerate(actor: Actor, userId: string): Promise<GeneratedToken> {
    return this.oneTokenPerUser(() =>
      this.changes.run(async (tx) => {
        const user = await this.lockUser(tx, userId);
        // Under the lock: a deactivation that committed first is seen here, one that comes later revokes what this issues.
        if (!user.active) throw new UserInactiveError();
        if (!user.apiTokensEnabled) throw new ApiTokensDisabledError(user.apiTokensDisabledReason);
        const existing = await tx.em.findOne(ApiToken, { user: userId });
        if (!existing || isExpired(existing, this.clock.now())) {
          throw new ApiTokenNotFoundError('You have no API token to regenerate; use generateApiToken.');
        }
        if (!(await this.remove(tx, existing, actor, null))) {
          throw new ApiTokenNotFoundError('That API token no longer exists; nothing was revoked.');
        }
        return this.issue(tx, actor, user);
      }),
    );
  }

  /**
   * Deletes the user's token, irreversibly. With `expectedId`, only that token:
   * a stale page cannot revoke a token generated since it loaded.
   */
  async revoke(actor: Actor, userId: string, options: { expectedId?: string | null; reason?: string | null } = {}): Promise<RevokedToken> {
    if (options.expectedId != null && !isUuid(options.expectedId)) {
      throw new ApiTokenNotFoundError();
    }
    return this.changes.run(async (tx) => {
      await this.lockUser(tx, userId);
      const token = await tx.em.findOne(ApiToken, { user: userId }, { populate: ['user'] });
      if (!token || isExpired(token, this.clock.now())) {
        throw new ApiTokenNotFoundError('You have no API token to revoke.');
      }
      const revoked =
        options.expectedId == null || token.id === options.expectedId ? await this.remove(tx, token, actor, options.reason ?? null) : null;
      if (!revoked) throw new ApiTokenNotFoundError('That API token no longer exists; nothing was revoked.');
      return revoked;
    });
  }

  /**
   * Revokes the user's live token, if any, inside the caller's transaction:
   * for changes that must revoke together with something else (disabling
   * access, deactivating a user) or not at all.
   */
  async revokeWithin(tx: Tx, actor: Actor, userId: string, reason: string | null): Promise<RevokedToken | null> {
    await this.lockUser(tx, userId);
    const token = await tx.em.findOne(ApiToken, { user: userId }, { populate: ['user'] });
    if (!token || isExpired(token, this.clock.now())) return null;
    return this.remove(tx, token, actor, reason);
  }

  /**
   * Revokes one named token, if it is still live, inside the caller's
   * transaction: a leak report names a token (by its digest), not a user's
   * current one, so a token generated since the report was read stays.
   * Null when it is gone or expired: a concurrent report of the same token
   * finds it deleted and records (and mails) nothing.
   */
  async revokeTokenWithin(
    tx: Tx,
    actor: Actor,
    token: { readonly id: string; readonly userId: string },
    reason: string | null,
  ): Promise<RevokedToken | null> {
    await this.lockUser(tx, token.userId);
    const found = await tx.em.findOne(ApiToken, { id: token.id }, { populate: ['user'] });
    if (!found || isExpired(found, this.clock.now())) return null;
    return this.remove(tx, found, actor, reason);
  }

  /**
   * RFC 7009 revocation: whoever holds the secret may revoke it, recorded with
   * the token itself as the actor. Null when the secret names no live token
   * (malformed, unknown, expired, or revoked by a concurrent request).
   */
  async revokeBySecret(secret: string): Promise<RevokedToken | null> {
    if (!isWellFormedToken(secret)) return null;
    return this.changes.run(async (tx) => {
      const token = await tx.em.findOne(ApiToken, { digest: digestToken(secret) }, { populate: ['user'] });
      if (!token || isExpired(token, this.clock.now())) return null;
      await this.lockUser(tx, token.user.id);
      const actor: Actor = { kind: 'token', userId: token.user.id, label: token.user.email };
      return this.remove(tx, token, actor, null);
    });
  }

  private async issue(tx: Tx, actor: Actor, user: User): Promise<GeneratedToken> {
    const now = this.clock.now();
    const { secret, digest, hint } = createTokenSecret();
    const token = tx.em.create(ApiToken, {
      user,
      digest,
      hint,
      createdAt: now,
      expiresAt: expiryFor(now, this.config.tokenLifetime),
      createdRegion: this.config.region,
      // Thresholds as long as the whole lifetime can never be "crossed": mark them passed.
      warnedThresholdMs: this.config.tokenLifetime.ms,
    });
    await tx.em.flush();
    await tx.record({ action: 'GENERATED', actor, occurredAt: now, subject: subjectOf(user), token });
    return { secret, token };
  }

  /** Deletes `token` with a REVOKED record; null if a concurrent revoke or expiry deleted it first. */
  private async remove(tx: Tx, token: ApiToken, actor: Actor, reason: string | null): Promise<RevokedToken | null> {
    const now = this.clock.now();
    const deleted = await tx.em.nativeDelete(ApiToken, { id: token.id });
    if (deleted === 0) return null;
    tx.em.getUnitOfWork().unsetIdentity(token);
    await tx.record({ action: 'REVOKED', actor, occurredAt: now, subject: subjectOf(token.user), token, reason });
    return { tokenId: token.id, revokedAt: now };
  }

  /**
   * Deletes tokens whose lifetime is over, each with an EXPIRED record. The
   * caller must own the rows (the sweeper claims them with a row lock; SQLite
   * serialises writers), so each expiry is recorded exactly once.
   */
  async expireMany(tx: Tx, tokens: readonly ExpiringToken[]): Promise<number> {
    if (tokens.length === 0) return 0;
    await tx.em.nativeDelete(ApiToken, { id: { $in: tokens.map((token) => token.id) } });
    const now = this.clock.now();
    await tx.recordMany(
      tokens.map((token) => ({
        action: 'EXPIRED',
        actor: SYSTEM_ACTOR,
        occurredAt: now,
        subject: subjectOf(token.user),
        token,
        daysLeft: 0,
      })),
    );
    return tokens.length;
  }

  /**
   * Serialises one user's token changes. On PostgreSQL two concurrent changes
   * could otherwise commit out of the order of their audit ids, and a live
   * subscriber, which skips ids it has passed, would miss the earlier one.
   * SQLite runs one writer at a time and needs no lock.
   */
  private lockUser(tx: Tx, userId: string): Promise<User> {
    return tx.em.findOneOrFail(User, userId, this.lockRows ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {});
  }

  /** The unique index on `api_tokens.user_id` is the last word on "one token per user". */
  private oneTokenPerUser<T>(work: () => Promise<T>): Promise<T> {
    return onUniqueViolation(work, () => new ApiTokenExistsError());
  }
}

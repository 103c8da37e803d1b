import type { MikroORM } from '@mikro-orm/core';
import { subjectOf } from '../audit/audit-log.js';
import type { Changes } from '../audit/changes.js';
import type { Principal } from '../auth/principal.js';
import { actorOf } from '../audit/actor.js';
import type { Clock } from '../clock.js';
import { ApiTokenNotFoundError, ForbiddenError } from '../errors.js';
import type { RevokedToken, TokenService } from '../tokens/token.service.js';
import { validReason } from './validate.js';
import { findManagedUser, requireAdminOrSupport } from './scope.js';
import type { User } from '../users/user.entity.js';

/** Support's and admins' controls over other users' API tokens. */
export class TokenControls {
  constructor(
    private readonly orm: MikroORM,
    private readonly changes: Changes,
    private readonly clock: Clock,
    private readonly tokens: TokenService,
  ) {}

  /**
   * Turns API tokens off or on for a user. Turning them off revokes the
   * current token as the caller, with the usual REVOKED event and email, in
   * the same transaction: either both happen or neither. Setting the state a
   * user already has records nothing, except a new reason for an existing block.
   */
  async setApiTokenAccess(principal: Principal, userId: string, enabled: boolean, reason?: string | null): Promise<User> {
    requireAdminOrSupport(principal);
    const why = validReason(reason);
    // Nobody lifts a block on themselves, nor locks themselves out by mistake.
    if (userId === principal.userId) throw new ForbiddenError('You cannot change your own API token access.');
    const actor = actorOf(principal);
    return this.changes.run(async (tx) => {
      const user = await findManagedUser(tx.em, principal, userId, 'userId');
      const unchanged = enabled ? user.apiTokensEnabled : !user.apiTokensEnabled && user.apiTokensDisabledReason === why;
      if (unchanged) return user;
      user.apiTokensEnabled = enabled;
      user.apiTokensDisabledReason = enabled ? null : why;
      await tx.em.flush();
      await tx.record({
        action: enabled ? 'ACCESS_ENABLED' : 'ACCESS_DISABLED',
        actor,
        occurredAt: this.clock.now(),
        subject: subjectOf(user),
        reason: why,
      });
      if (!enabled) {
        await this.tokens.revokeWithin(tx, actor, user.id, why ?? 'API tokens were disabled for this account.');
      }
      return user;
    });
  }

  /** Revokes a user's token as the caller; the scope check and the revocation run in one transaction. */
  async revokeUserApiToken(principal: Principal, userId: string, reason?: string | null): Promise<RevokedToken> {
    requireAdminOrSupport(principal);
    const why = validReason(reason);
    return this.changes.run(async (tx) => {
      const user = await findManagedUser(tx.em, principal, userId, 'userId');
      const revoked = await this.tokens.revokeWithin(tx, actorOf(principal), user.id, why);
      if (!revoked) throw new ApiTokenNotFoundError('This user has no API token.');
      return revoked;
    });
  }
}

import type { MikroORM } from '@mikro-orm/core';
import type { Changes } from '../audit/changes.js';
import type { Principal } from '../auth/principal.js';
import { SYSTEM_ACTOR } from '../audit/actor.js';
import type { Clock } from '../clock.js';
import { refused, verified, type Verified } from '../credential-outcome.js';
import { Organization } from '../users/organization.entity.js';
import { Role } from '../auth/role.js';
import { rememberedSet } from '../remembered-set.js';
import { ScimToken } from './scim-token.entity.js';
import { ScimTokenCache, type ScimTenant } from './scim-token-cache.js';
import { createScimSecret, digestScimToken, isWellFormedScimToken } from './scim-token-format.js';

/** Issuing, rotating, revoking and checking each organisation's one SCIM bearer token. */
export class ScimCredentials {
  /**
   * Digests of SCIM tokens the database knew lately: from an address over its
   * failed-authentication budget only these are worth a read, so a flood of
   * well-formed guesses costs no query while the directory's own token passes.
   */
  private readonly knownDigests = rememberedSet(10_000, 24 * 60 * 60_000);

  constructor(
    private readonly orm: MikroORM,
    private readonly changes: Changes,
    private readonly clock: Clock,
    /** Verified tokens; without one (the admin CLI) nothing is cached. */
    private readonly cache: ScimTokenCache = new ScimTokenCache(),
  ) {}

  /**
   * A new token for the organisation, replacing its previous one in the same
   * transaction: the old secret stops working at commit on this instance,
   * and on the others once their log follower reads the event (see
   * ScimTokenCache). The secret is returned once; only its digest is stored.
   * Null when there is no such organisation.
   */
  async issue(organizationName: string): Promise<{ secret: string; rotated: boolean } | null> {
    const issued = await this.changes.run(async (tx) => {
      const organization = await tx.em.findOne(Organization, { name: organizationName });
      if (!organization) return null;
      const { secret, digest } = createScimSecret();
      const now = this.clock.now();
      // Upsert on the unique organisation: two concurrent rotations leave one token, the later one.
      const existing = await tx.em.findOne(ScimToken, { organization: organization.id });
      if (existing) {
        existing.digest = digest;
        existing.createdAt = now;
      } else {
        tx.em.create(ScimToken, { organization, digest, createdAt: now });
      }
      await tx.em.flush();
      await tx.record({
        action: existing ? 'SCIM_TOKEN_ROTATED' : 'SCIM_TOKEN_ISSUED',
        actor: SYSTEM_ACTOR,
        occurredAt: now,
        organizationId: organization.id,
        reason: 'admin CLI',
      });
      this.knownDigests.set(digest, true);
      return { secret, rotated: existing !== null, organizationId: organization.id };
    });
    if (!issued) return null;
    // Committed: this instance drops the old token now; the others when their log follower reads the event.
    this.cache.invalidateOrganization(issued.organizationId);
    return { secret: issued.secret, rotated: issued.rotated };
  }

  /** Removes the organisation's token; false when it had none, null when there is no such organisation. */
  async revoke(organizationName: string): Promise<boolean | null> {
    const revoked = await this.changes.run(async (tx) => {
      const organization = await tx.em.findOne(Organization, { name: organizationName });
      if (!organization) return null;
      const deleted = await tx.em.nativeDelete(ScimToken, { organization: organization.id });
      if (deleted === 0) return false;
      await tx.record({
        action: 'SCIM_TOKEN_REVOKED',
        actor: SYSTEM_ACTOR,
        occurredAt: this.clock.now(),
        organizationId: organization.id,
        reason: 'admin CLI',
      });
      return organization.id;
    });
    if (typeof revoked !== 'string') return revoked;
    this.cache.invalidateOrganization(revoked);
    return true;
  }

  /**
   * The tenant of a SCIM bearer token, or why not (see credential-outcome.ts).
   * The checksum (or, for a token issued before checksums, the shape) is
   * checked first, so a mistyped or made-up token never reaches the
   * database; a token verified lately is answered from the cache; with
   * `lookupUnknown` false (the caller's address is blocked) a token the
   * database has not known lately is refused without a read.
   */
  async verify(secret: string, options: { readonly lookupUnknown?: boolean } = {}): Promise<Verified<ScimTenant>> {
    if (!isWellFormedScimToken(secret)) return refused('MALFORMED');
    const digest = digestScimToken(secret);
    const cached = this.cache.get(digest);
    if (cached) return verified(cached);
    if (options.lookupUnknown === false && !this.knownDigests.has(digest)) return refused('UNKNOWN');
    const tenant = await this.cache.load(digest, async () => {
      const token = await this.orm.em.fork().findOne(ScimToken, { digest }, { populate: ['organization'] });
      return token && { organizationId: token.organization.id, organizationName: token.organization.name };
    });
    // A revoked or rotated token's row is deleted or holds another digest.
    if (!tenant) return refused('UNKNOWN');
    this.knownDigests.set(digest, true);
    return verified(tenant);
  }
}

/**
 * The directory client as a principal: its organisation's admin, and no user
 * (so it matches no user id, and its audit actor is `scim`).
 */
export function scimPrincipal(tenant: ScimTenant): Principal {
  return {
    userId: '',
    email: 'scim',
    name: `SCIM (${tenant.organizationName})`,
    role: Role.ADMIN,
    organizationId: tenant.organizationId,
    businessUnitIds: [],
    businessUnits: [],
    apiTokensEnabled: false,
    via: 'scim',
    tokenId: null,
    tokenExpiresAt: null,
  };
}

import { LRUCache } from 'lru-cache';

/** The organisation a SCIM request acts for. */
export interface ScimTenant {
  readonly organizationId: string;
  readonly organizationName: string;
}

export interface ScimTokenCacheOptions {
  /**
   * False while invalidations may not arrive (the same gate as the principal
   * cache's, see app.ts): then every check reads the database.
   * @default () => false (nothing is cached: the admin CLI)
   */
  readonly cacheable?: () => boolean;
  /**
   * Token digests remembered; one live token per organisation.
   * @default 10_000
   */
  readonly maxEntries?: number;
  /**
   * Backstop on how long an entry lives even if no invalidation arrives, as
   * for the principal cache.
   * @default 30_000
   */
  readonly ttlMs?: number;
}

/**
 * Verified SCIM tokens, by the SHA-256 digest of the token (never the
 * secret), so a directory's steady stream of requests costs no read.
 *
 * A rotation or revocation is an organisation-level audit event, written by
 * the admin CLI in a process that may run no event hub; every instance's log
 * follower reads it and calls `invalidateOrganization`. So an entry is never
 * served longer than the follower's lease after the change (or `ttlMs`, if
 * the gate says invalidations flow while they do not).
 */
export class ScimTokenCache {
  private readonly tenants: LRUCache<string, ScimTenant>;
  private readonly cacheable: () => boolean;
  /** Bumped by every invalidation: a read that started before one must not cache what it read. */
  private epoch = 0;

  constructor(options: ScimTokenCacheOptions = {}) {
    this.cacheable = options.cacheable ?? (() => false);
    this.tenants = new LRUCache<string, ScimTenant>({ max: options.maxEntries ?? 10_000, ttl: options.ttlMs ?? 30_000 });
  }

  /** The tenant of a digest verified lately, while invalidations flow. */
  get(digest: string): ScimTenant | undefined {
    return this.cacheable() ? this.tenants.get(digest) : undefined;
  }

  /** Reads a digest's tenant and remembers it, unless an invalidation came (or the gate closed) meanwhile. */
  async load(digest: string, read: () => Promise<ScimTenant | null>): Promise<ScimTenant | null> {
    const epoch = this.epoch;
    const cacheable = this.cacheable();
    const tenant = await read();
    if (tenant && cacheable && epoch === this.epoch && this.cacheable()) this.tenants.set(digest, tenant);
    return tenant;
  }

  /** Drops the organisation's tokens: it was issued, rotated or revoked one. */
  invalidateOrganization(organizationId: string): void {
    this.epoch++;
    const stale: string[] = [];
    // Few entries (one live token per organisation) and rare changes: a scan is cheaper than an index.
    this.tenants.forEach((tenant, digest) => {
      if (tenant.organizationId === organizationId) stale.push(digest);
    });
    for (const digest of stale) this.tenants.delete(digest);
  }
}

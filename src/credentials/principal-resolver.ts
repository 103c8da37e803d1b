import { decodeJwt } from 'jose';
import { LRUCache } from 'lru-cache';
import type { MikroORM } from '@mikro-orm/core';
import type { Clock } from '../clock.js';
import { andThen, type MaybePromise } from '../maybe-promise.js';
import { rememberedSet } from '../remembered-set.js';
import { sha256 } from '../sha256.js';
import { InvalidTokenError } from '../errors.js';
import { refused, verified, type CredentialKind, type CredentialRefusal, type Verified } from '../credential-outcome.js';
import { isExpired } from '../tokens/expiry-rules.js';
import { isUuid } from '../ids.js';
import { findTokenByDigest } from '../tokens/token-lookup.js';
import { digestToken, hasTokenShape, isWellFormedToken, looksLikeApiToken } from '../tokens/token-format.js';
import type { TokenUsage } from '../tokens/token-usage.js';
import { findUserFacts, type UserFacts } from '../users/user-lookup.js';
import type { AuthenticateOptions, Authenticator } from '../auth/authenticator.js';
import { bearerCredential } from '../auth/bearer.js';
import { issuedAfterDeactivation } from '../auth/credentials-valid-after.js';
import { principalOf } from '../auth/principal-of.js';
import type { Principal } from '../auth/principal.js';
import type { SessionVerifier } from '../auth/session.js';

/**
 * A credential once verified, as a socket keeps it to re-check later: a
 * token by its digest, a session by its user and expiry; never the secret.
 */
export type VerifiedCredential =
  | { readonly kind: 'token'; readonly digest: string }
  | {
      readonly kind: 'session';
      readonly userId: string;
      readonly expiresAtMs: number | null;
      /** Its `iat` (epoch seconds), held against the user's `credentialsValidAfter` at every check. */
      readonly issuedAtS: number;
    };

/** A credential that authenticates now, with what its checks need. */
export interface Resolved {
  readonly principal: Principal;
  readonly credential: VerifiedCredential;
  /** For an API token: its own dates (introspection's `iat`/`exp`, a socket's expiry timer). */
  readonly token: { readonly id: string; readonly createdAt: Date; readonly expiresAt: Date } | null;
}

interface TokenEntry {
  readonly userId: string;
  readonly credential: VerifiedCredential;
  readonly token: NonNullable<Resolved['token']>;
  readonly user: UserFacts;
  readonly principal: Principal;
}

interface SessionEntry {
  readonly user: UserFacts;
  readonly principal: Principal;
}

/** A session JWT whose signature was checked: who, since when (`iat`, epoch s) and until when (epoch ms; null: no `exp`). */
interface VerifiedJwt {
  readonly userId: string;
  readonly expiresAtMs: number | null;
  readonly issuedAtS: number;
}

export interface PrincipalResolverOptions {
  readonly orm: MikroORM;
  readonly sessions: SessionVerifier;
  readonly usage: TokenUsage;
  readonly clock: Clock;
  /**
   * False while invalidations may not arrive (the event hub's Redis link is
   * down): then every resolution reads the database.
   */
  readonly cacheable: () => boolean;
  /**
   * Entries per kind (token digests, session users).
   * @default 10_000
   */
  readonly maxEntries?: number;
  /**
   * Backstop on how long an entry lives even if no invalidation arrives (an
   * instance whose publishes never reach Redis while ours still do).
   * @default 30_000
   */
  readonly ttlMs?: number;
  /**
   * How long a token digest the database once knew stays worth a read for a
   * caller whose address is blocked (see `AuthenticateOptions.lookupUnknown`).
   * @default 24 hours
   */
  readonly knownTtlMs?: number;
}

/** Invalidations remembered for reads in flight (see `invalidatedAt`): over a second of a sweep's, far longer than a read. */
const TRACKED_INVALIDATIONS = 10_000;

/**
 * The one answer to "who is this, with which role, units and organisation,
 * and is the credential alive": used by HTTP requests, by every graphql-ws
 * operation and event delivery, and by OAuth introspection.
 *
 * Answers come from a bounded in-memory cache keyed by the token's SHA-256
 * digest or the session's user id (never by a secret). Time rules are checked
 * against `now` on every hit, so an expired token fails at once. Entries are
 * dropped by `invalidateUser`, which every instance calls when a token or user
 * change arrives on the event hub; while the hub is unhealthy the cache is
 * bypassed, and when it comes back `clear` drops everything.
 */
export class PrincipalResolver implements Authenticator {
  private readonly tokens: LRUCache<string, TokenEntry>;
  private readonly sessionUsers: LRUCache<string, SessionEntry>;
  /** Session JWTs whose signature was verified, by SHA-256 of the JWT: a signature never changes. */
  private readonly jwts: LRUCache<string, VerifiedJwt>;
  /** Token digests cached per user, so a user's change drops their token entries too. */
  private readonly digestsByUser = new Map<string, Set<string>>();
  /**
   * Bumped by every invalidation: a read that started before one is not
   * shared with callers after it (see `once`), and caches what it read only
   * if no invalidation since could concern it (see `unchangedSince`).
   */
  private epoch = 0;
  /**
   * The epoch of each user's last invalidation while reads were in flight,
   * oldest first, at most `TRACKED_INVALIDATIONS`: a read caches what it
   * read unless *its* user was invalidated since it began. A sweep expiring
   * 6,000 tokens a second invalidates 6,000 users a second; with one epoch
   * for all, no read in that time could cache anything, and every token
   * whose entry ran out during the sweep was read on every request.
   */
  private readonly invalidatedAt = new LRUCache<string, number>({
    max: TRACKED_INVALIDATIONS,
    // Set in epoch order, so the one evicted is the oldest remembered.
    dispose: (epoch, _userId, reason) => {
      if (reason === 'evict') this.forgottenThrough = epoch;
    },
  });
  /** Invalidations up to this epoch may have been dropped from `invalidatedAt`, or were a `clear`. */
  private forgottenThrough = 0;
  /** Reads in flight, so a burst of misses for one credential (a fan-out re-check) reads once. */
  private readonly inflight = new Map<string, Promise<unknown>>();
  /** How long an entry lives (`ttlMs`). */
  private readonly ttlMs: number;
  /** Digests read again ahead of their entry's end right now (see `refreshAhead`). */
  private readonly refreshing = new Set<string>();
  /**
   * Digests of tokens the database has known lately: only a gate on whether a
   * blocked address's token is worth a read (the read then answers), so it
   * needs no invalidation and may outlive the principal cache by far.
   */
  private readonly knownDigests: LRUCache<string, true>;

  constructor(private readonly options: PrincipalResolverOptions) {
    const max = options.maxEntries ?? 10_000;
    const ttl = options.ttlMs ?? 30_000;
    this.ttlMs = ttl;
    this.tokens = new LRUCache<string, TokenEntry>({
      max,
      ttl,
      dispose: (entry, digest) => {
        const digests = this.digestsByUser.get(entry.userId);
        if (digests?.delete(digest) && digests.size === 0) this.digestsByUser.delete(entry.userId);
      },
    });
    this.sessionUsers = new LRUCache<string, SessionEntry>({ max, ttl });
    this.jwts = new LRUCache<string, VerifiedJwt>({ max, ttl });
    this.knownDigests = rememberedSet(max * 5, options.knownTtlMs ?? 24 * 60 * 60_000);
  }

  /**
   * The principal of an `Authorization` header value; null when none was
   * sent. A credential that does not authenticate throws `InvalidTokenError`,
   * whatever the reason.
   */
  authenticate(authorization: string | undefined, options?: AuthenticateOptions): MaybePromise<Principal | null> {
    if (authorization === undefined || authorization.trim() === '') return null;
    const kind = credentialKindOf(authorization);
    return andThen(this.verify(authorization, options), (answer) => {
      if (answer.outcome !== 'OK') throw new InvalidTokenError(answer.outcome, kind);
      return answer.value.principal;
    });
  }

  /** As `resolve`, saying why a credential does not authenticate (see credential-outcome.ts). */
  verify(authorization: string, options?: AuthenticateOptions): MaybePromise<Verified<Resolved>> {
    const credential = bearerCredential(authorization);
    if (credential === null) return refused('MALFORMED');
    return looksLikeApiToken(credential) ? this.verifyToken(credential, options) : this.session(credential);
  }

  /**
   * What `Bearer <credential>` stands for if it authenticates now; null for
   * anything else. A session JWT is checked by its signature before anything
   * is read, so `lookupUnknown` only concerns API tokens; `address` is the
   * caller's, recorded as a token's last-used address.
   */
  resolve(authorization: string, options?: AuthenticateOptions): MaybePromise<Resolved | null> {
    return andThen(this.verify(authorization, options), valueOf);
  }

  /** An API token's secret, without the `Bearer` scheme (OAuth introspection). */
  token(secret: string, options?: AuthenticateOptions): MaybePromise<Resolved | null> {
    return andThen(this.verifyToken(secret, options), valueOf);
  }

  /** As `token`, saying why a secret does not authenticate. */
  verifyToken(secret: string, options?: AuthenticateOptions): MaybePromise<Verified<Resolved>> {
    // The shape bounds what is hashed. The checksum is there to spare the
    // database a made-up token, so only a cache miss needs it: the cache holds
    // nothing but digests the database knew. From a blocked address, a
    // well-formed token is read only if the database knew it lately.
    if (!hasTokenShape(secret)) return refused('MALFORMED');
    const digest = digestToken(secret);
    const lookupUnknown = options?.lookupUnknown ?? true;
    const notWorthReading = (): CredentialRefusal | null => {
      if (!isWellFormedToken(secret)) return 'MALFORMED';
      return lookupUnknown || this.knownDigests.has(digest) ? null : 'UNKNOWN';
    };
    return this.tokenByDigest(digest, notWorthReading, options?.address);
  }

  /** Re-checks a credential verified earlier (a socket's, at each operation and event). */
  recheck(credential: VerifiedCredential): MaybePromise<Resolved | null> {
    return andThen(credential.kind === 'token' ? this.tokenByDigest(credential.digest) : this.sessionUser(credential), valueOf);
  }

  // Below, a cache hit answers synchronously; only a read returns a promise (see maybe-promise.ts).

  /** `notWorthReading` says, on a cache miss, why the database cannot know the token (null: it may). */
  private tokenByDigest(
    digest: string,
    notWorthReading: () => CredentialRefusal | null = () => null,
    address?: string,
  ): MaybePromise<Verified<Resolved>> {
    const cacheable = this.options.cacheable();
    const cached = cacheable ? this.tokens.get(digest) : undefined;
    if (cached) {
      this.refreshAhead(digest);
      return this.liveToken(cached, address);
    }
    const refusal = notWorthReading();
    if (refusal) return refused(refusal);
    return this.loadToken(digest, cacheable).then((entry) => (entry ? this.liveToken(entry, address) : refused('UNKNOWN')));
  }

  /**
   * Reads a token in use again, in the background, once its entry is in the
   * last third of its life: a token used steadily is then never read while a
   * request waits (a sweep's load on the database made those reads the
   * requests' slowest). The entry answers until it runs out, as it would
   * have; what the read finds replaces it only if nothing changed the user
   * meanwhile (`unchangedSince`), and a token the read no longer finds is
   * dropped.
   */
  private refreshAhead(digest: string): void {
    if (this.refreshing.has(digest) || this.tokens.getRemainingTTL(digest) > this.ttlMs / 3) return;
    this.refreshing.add(digest);
    this.loadToken(digest, true)
      .then(
        (entry) => {
          if (!entry) this.tokens.delete(digest);
        },
        () => undefined, // the next request after the entry runs out reads it, and answers any error
      )
      .finally(() => this.refreshing.delete(digest));
  }

  private liveToken(entry: TokenEntry, address: string | undefined): Verified<Resolved> {
    const now = this.options.clock.now();
    const { user, token } = entry;
    if (isExpired(token, now)) return refused('EXPIRED');
    if (!user.active) return refused('USER_INACTIVE');
    if (!user.apiTokensEnabled) return refused('DISABLED');
    this.options.usage.record(token.id, now, address ?? null);
    return verified(entry);
  }

  private session(jwt: string): MaybePromise<Verified<Resolved>> {
    const key = sha256(jwt, 'base64url');
    const known = this.jwts.get(key);
    if (known) return this.sessionUser({ kind: 'session', ...known });
    return this.verifyJwt(jwt).then((fresh) => {
      if (fresh.outcome !== 'OK') return fresh;
      this.jwts.set(key, fresh.value);
      return this.sessionUser({ kind: 'session', ...fresh.value });
    });
  }

  private async verifyJwt(jwt: string): Promise<Verified<VerifiedJwt>> {
    const checked = await this.options.sessions.check(jwt);
    if (checked.outcome !== 'OK') return checked;
    const userId = checked.value;
    if (!isUuid(userId)) return refused('MALFORMED');
    const { exp, iat } = decodeJwt(jwt);
    // `check` requires `iat`; without one it could not be held against a deactivation.
    if (typeof iat !== 'number') return refused('MALFORMED');
    return verified({ userId, expiresAtMs: typeof exp === 'number' ? exp * 1000 : null, issuedAtS: iat });
  }

  private sessionUser(credential: VerifiedCredential & { kind: 'session' }): MaybePromise<Verified<Resolved>> {
    // jose checks `exp` against the wall clock, not the injected one: so do we, to agree with it.
    if (credential.expiresAtMs !== null && credential.expiresAtMs <= Date.now()) return refused('EXPIRED');
    const { userId } = credential;
    const cacheable = this.options.cacheable();
    // Checked on every hit against the user's facts as cached, which every
    // deactivation and re-activation invalidates: a session from before the
    // last deactivation stays refused after the user is active again.
    const live = (entry: SessionEntry | null): Verified<Resolved> => {
      if (!entry) return refused('UNKNOWN');
      if (!entry.user.active) return refused('USER_INACTIVE');
      if (!issuedAfterDeactivation(credential.issuedAtS, entry.user.credentialsValidAfter)) return refused('REVOKED');
      return verified({ principal: entry.principal, credential, token: null });
    };
    const cached = cacheable ? this.sessionUsers.get(userId) : undefined;
    return cached ? live(cached) : this.loadSessionUser(userId, cacheable).then(live);
  }

  /** Reads a token once for every concurrent caller, and caches it unless an invalidation came meanwhile. */
  private loadToken(digest: string, cacheable: boolean): Promise<TokenEntry | null> {
    return this.once(`t:${digest}`, async () => {
      const epoch = this.epoch;
      const record = await findTokenByDigest(this.options.orm, digest);
      if (!record) return null;
      this.knownDigests.set(digest, true);
      const entry: TokenEntry = {
        userId: record.user.id,
        credential: { kind: 'token', digest },
        token: { id: record.id, createdAt: record.createdAt, expiresAt: record.expiresAt },
        user: record.user,
        principal: principalOf(record.user, 'token', record),
      };
      if (cacheable && this.unchangedSince(entry.userId, epoch) && this.options.cacheable()) this.remember(digest, entry);
      return entry;
    });
  }

  private loadSessionUser(userId: string, cacheable: boolean): Promise<SessionEntry | null> {
    return this.once(`u:${userId}`, async () => {
      const epoch = this.epoch;
      const user = await findUserFacts(this.options.orm, userId);
      if (!user) return null;
      const entry: SessionEntry = { user, principal: principalOf(user, 'session', null) };
      if (cacheable && this.unchangedSince(userId, epoch) && this.options.cacheable()) this.sessionUsers.set(userId, entry);
      return entry;
    });
  }

  /** Drops everything cached about the user: their token and their sessions. */
  invalidateUser(userId: string): void {
    this.epoch++;
    // With no read in flight, no read can have begun before this one: nothing to remember.
    if (this.inflight.size > 0) this.invalidatedAt.set(userId, this.epoch);
    this.sessionUsers.delete(userId);
    for (const digest of [...(this.digestsByUser.get(userId) ?? [])]) this.tokens.delete(digest);
  }

  /** Drops everything: after an interruption of the event hub, nothing cached can be trusted. */
  clear(): void {
    this.epoch++;
    this.forgottenThrough = this.epoch;
    this.invalidatedAt.clear();
    this.tokens.clear();
    this.sessionUsers.clear();
    this.jwts.clear();
    this.digestsByUser.clear();
  }

  /**
   * Shares one read among concurrent callers. A read that started before an
   * invalidation is not shared with callers after it: they start their own.
   */
  private once<T>(key: string, read: () => Promise<T>): Promise<T> {
    const shared = `${this.epoch}:${key}`;
    const pending = this.inflight.get(shared) as Promise<T> | undefined;
    if (pending) return pending;
    const started = read().finally(() => {
      this.inflight.delete(shared);
      // No read left that began before any of them.
      if (this.inflight.size === 0) this.invalidatedAt.clear();
    });
    this.inflight.set(shared, started);
    return started;
  }

  /** Whether a read of `userId` begun at `epoch` may be cached: nothing since could have changed that user. */
  private unchangedSince(userId: string, epoch: number): boolean {
    if (this.epoch === epoch) return true;
    if (this.forgottenThrough > epoch) return false;
    // `peek`, not `get`: a lookup must not make an invalidation look newer than it is.
    return (this.invalidatedAt.peek(userId) ?? 0) <= epoch;
  }

  private remember(digest: string, entry: TokenEntry): void {
    this.tokens.set(digest, entry);
    const digests = this.digestsByUser.get(entry.userId);
    if (digests) digests.add(digest);
    else this.digestsByUser.set(entry.userId, new Set([digest]));
  }
}

function valueOf(answer: Verified<Resolved>): Resolved | null {
  return answer.outcome === 'OK' ? answer.value : null;
}

/** Which verifier an `Authorization` value goes to, told by its shape alone (no secret is checked here). */
export function credentialKindOf(authorization: string): CredentialKind {
  const credential = bearerCredential(authorization);
  return credential !== null && looksLikeApiToken(credential) ? 'api_token' : 'session';
}

import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimit, RateLimitsConfig } from '../config.js';
import type { MaybePromise } from '../maybe-promise.js';
import { RateLimitedError } from '../errors.js';
import { addressKey } from './address-key.js';

/** The answer to "may this caller go on?"; when not, how long until it may. */
export type Verdict = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

const ALLOWED: Verdict = { allowed: true };

/** Whole seconds, at least one: `Retry-After: 0` would invite an immediate retry. */
function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** One budget: a counter per key over a fixed window. */
interface Budget {
  /** Counts one use of `key`: synchronous when the count is this process's own. */
  take(key: string): MaybePromise<Verdict>;
}

/**
 * Fixed windows counted in this process, synchronously: a budget then costs a
 * map lookup on the request's path and no promise (an introspection is a few
 * tens of microseconds; an awaited counter was a tenth of it).
 *
 * Every window of one budget lasts as long, so the map, which iterates in
 * insertion order, keeps them in the order they end: ended ones are dropped
 * from the front as new ones open, and past `capacity` keys (a flood of
 * addresses) the oldest window goes first.
 */
export class MemoryWindows implements Budget {
  private readonly windows = new Map<string, { count: number; readonly endsAt: number }>();

  constructor(
    private readonly points: number,
    private readonly durationMs: number,
    private readonly now: () => number = Date.now,
    private readonly capacity = 100_000,
  ) {}

  take(key: string): Verdict {
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || window.endsAt <= now) {
      this.windows.delete(key);
      this.dropEnded(now);
      window = { count: 0, endsAt: now + this.durationMs };
      this.windows.set(key, window);
    }
    window.count++;
    return window.count <= this.points ? ALLOWED : { allowed: false, retryAfterSeconds: seconds(window.endsAt - now) };
  }

  /** How many keys are counted now. */
  get size(): number {
    return this.windows.size;
  }

  private dropEnded(now: number): void {
    for (const [key, window] of this.windows) {
      if (window.endsAt > now && this.windows.size < this.capacity) return;
      this.windows.delete(key);
    }
  }
}

/**
 * Sets `key` as the newest entry of `map`, which holds at most `capacity`:
 * past it the oldest entry goes (a map iterates in insertion order), so a
 * flood of keys (IPv6 addresses are cheap) cannot grow it without end.
 */
function setNewest<V>(map: Map<string, V>, key: string, value: V, capacity: number): void {
  map.delete(key);
  if (map.size >= capacity) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, value);
}

/** What this process holds of one key's shared window. */
interface Lease {
  /** Points charged to the shared counter and not spent yet. */
  left: number;
  /** When the shared window ends, by this process's clock. */
  readonly endsAt: number;
  /** The shared counter had no more for this window: once `left` is spent, refuse until `endsAt`. */
  readonly exhausted: boolean;
}

/**
 * A budget every instance shares in Redis (with rate-limiter-flexible's
 * in-memory insurance when Redis fails), bought in leases: one round trip
 * charges the shared counter with `lease` points, which this process then
 * spends synchronously. A point is charged before it is spent, so all
 * instances together never admit more than the budget. Points still unspent
 * when the window ends are lost: the budget shrinks by at most one lease per
 * instance (1% each). A spent budget is remembered until its window ends, so
 * a refused caller costs no round trip either.
 *
 * Small budgets (under 200 points) lease one point at a time: every use is a
 * round trip, as without leases, and the count is exact at every instant.
 */
export class LeasedBudget implements Budget {
  private readonly leases = new Map<string, Lease>();
  /** One round trip per key at a time: a burst of callers waits for the same lease. */
  private readonly buying = new Map<string, Promise<void>>();
  private readonly lease: number;

  constructor(
    private readonly limiter: RateLimiterAbstract,
    private readonly points: number,
    private readonly now: () => number = Date.now,
    /** Keys held at most (callers' addresses are cheap to vary); past it the oldest lease is dropped, unspent. */
    private readonly capacity = 10_000,
  ) {
    this.lease = Math.max(1, Math.floor(points / 100));
  }

  take(key: string): MaybePromise<Verdict> {
    const now = this.now();
    const held = this.leases.get(key);
    if (held && held.endsAt > now) {
      if (held.left > 0) {
        held.left--;
        return ALLOWED;
      }
      if (held.exhausted) return { allowed: false, retryAfterSeconds: seconds(held.endsAt - now) };
    }
    // Bought, the lease answers synchronously; a caller that found it spent by others buys again.
    return this.buy(key).then(() => this.take(key));
  }

  private buy(key: string): Promise<void> {
    let pending = this.buying.get(key);
    if (!pending) {
      pending = this.charge(key).finally(() => this.buying.delete(key));
      this.buying.set(key, pending);
    }
    return pending;
  }

  private async charge(key: string): Promise<void> {
    let result: RateLimiterRes;
    try {
      result = await this.limiter.consume(key, this.lease);
    } catch (rejection) {
      // The library rejects with a RateLimiterRes when over budget; anything else is a bug, not a verdict.
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      result = rejection;
    }
    // The counter went from consumedPoints - lease to consumedPoints: what of that was within the budget is ours.
    const granted = Math.min(this.lease, Math.max(0, this.points - (result.consumedPoints - this.lease)));
    // At least a millisecond: a lease bought as its window closes still answers the callers who bought it.
    const endsAt = this.now() + Math.max(1, result.msBeforeNext);
    setNewest(this.leases, key, { left: granted, endsAt, exhausted: granted < this.lease }, this.capacity);
  }
}

/**
 * Keys whose failed-authentication budget is spent, remembered in this
 * process until their window ends. A blocked caller then costs neither a
 * database lookup nor a Redis round trip, and a caller whose credentials work
 * costs nothing at all: only failures are counted.
 */
class BlockList {
  private readonly until = new Map<string, number>();

  /** Bounded, so a flood of addresses (IPv6 makes them cheap) cannot grow it without end. */
  constructor(private readonly capacity = 10_000) {}

  get empty(): boolean {
    return this.until.size === 0;
  }

  retryAfter(key: string, now: number): number | null {
    const until = this.until.get(key);
    if (until === undefined) return null;
    if (until <= now) {
      this.until.delete(key);
      return null;
    }
    return seconds(until - now);
  }

  add(key: string, until: number): void {
    setNewest(this.until, key, until, this.capacity);
  }
}

export interface RateLimitsOptions {
  readonly limits: RateLimitsConfig;
  /**
   * Null: counters live in this process (one instance). Set: every instance
   * counts in the same Redis keys, so the budget is shared; if Redis fails,
   * each instance falls back to its own in-memory counters rather than
   * letting everything through or failing the request.
   */
  readonly redis: Redis | null;
  /** Prefix of the Redis keys, so deployments (and tests) sharing a Redis do not share budgets. */
  readonly keyPrefix: string;
  readonly logger: Logger;
}

/**
 * Every rate limit of the service, in one place:
 *
 * - token changes (generate, regenerate, revoke) per user: also bounds the
 *   emails those changes send;
 * - failed authentications (bearer on `/graphql` and graphql-ws, Basic on
 *   `/oauth/introspect`) per client address (an IPv6 client per /64);
 * - introspections per client id, `/oauth/revoke` and `/credentials/revoke`
 *   calls per client IP.
 */
export class RateLimits {
  private readonly tokenChanges: Budget;
  private readonly authFailures: Budget;
  private readonly introspections: Budget;
  private readonly revocations: Budget;
  private readonly scim: Budget;
  private readonly credentialReports: Budget;
  private readonly blocked = new BlockList();

  constructor(options: RateLimitsOptions) {
    const { limits, redis, keyPrefix, logger } = options;
    const budget = (name: string, limit: RateLimit): Budget => {
      if (!redis) return new MemoryWindows(limit.points, limit.duration.ms);
      const shape = { points: limit.points, duration: limit.duration.ms / 1000 };
      const shared = new RateLimiterRedis({
        ...shape,
        storeClient: redis,
        keyPrefix: `${keyPrefix}rate:${name}`,
        // Fail over to memory at once instead of queueing behind a dead connection.
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ ...shape, keyPrefix: name }),
      });
      return new LeasedBudget(shared, limit.points);
    };
    this.tokenChanges = budget('token-changes', limits.tokenChanges);
    this.authFailures = budget('auth-failures', limits.authFailures);
    this.introspections = budget('introspection', limits.introspection);
    this.revocations = budget('revoke', limits.revoke);
    this.scim = budget('scim', limits.scim);
    this.credentialReports = budget('credential-reports', limits.credentialReports);
    if (redis) {
      redis.on('error', (error: Error) => logger.warn({ err: error }, 'rate limits: redis unavailable, counting in memory'));
    }
  }

  /** Throws RATE_LIMITED once the user has spent their token changes for the window. */
  async takeTokenChange(userId: string): Promise<void> {
    const verdict = await this.tokenChanges.take(userId);
    if (!verdict.allowed) throw new RateLimitedError(verdict.retryAfterSeconds);
  }

  takeIntrospection(clientId: string): MaybePromise<Verdict> {
    return this.introspections.take(clientId);
  }

  /** One SCIM request of an organisation (a directory's full sync is a burst, so the budget is per minute). */
  takeScim(organizationId: string): MaybePromise<Verdict> {
    return this.scim.take(organizationId);
  }

  takeRevocation(ip: string): MaybePromise<Verdict> {
    return this.revocations.take(addressKey(ip));
  }

  /** One `POST /credentials/revoke` from `ip` (an IPv6 client per /64). */
  takeCredentialReport(ip: string): MaybePromise<Verdict> {
    return this.credentialReports.take(addressKey(ip));
  }

  /** Seconds until `ip` may try a credential again; null when it may now. Synchronous: no I/O. */
  authBlocked(ip: string): number | null {
    // Nobody blocked (the usual case): no address to normalize.
    if (this.blocked.empty) return null;
    return this.blocked.retryAfter(addressKey(ip), Date.now());
  }

  /**
   * Counts a failed authentication from `ip`. Once over budget (in any
   * instance, when the budget is shared) the address is blocked here until
   * the window ends, and the verdict says so.
   */
  async authFailed(ip: string): Promise<Verdict> {
    const key = addressKey(ip);
    const verdict = await this.authFailures.take(key);
    if (!verdict.allowed) this.blocked.add(key, Date.now() + verdict.retryAfterSeconds * 1000);
    return verdict;
  }
}

import type { Principal } from '../auth/principal.js';
import { endsCredential } from '../audit/event-rules.js';
import { andThen, type MaybePromise } from '../maybe-promise.js';
import type { PrincipalResolver, Resolved, VerifiedCredential } from './principal-resolver.js';

/** setTimeout takes at most 2^31-1 ms (~24.8 days); longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What the transport gives the watcher for each connection: how to end it. */
export interface CredentialEnd {
  /** Ends the connection (a socket closes with FORBIDDEN, src/close-codes.ts). Called at most once. */
  end(reason: string): void;
}

/** A watched credential, as the transport holds it (see `CredentialWatcher.watch`). */
export interface Watch {
  /** The principal as of the last check. */
  readonly principal: Principal;
  /**
   * The principal now, or null when the credential died (its connection then
   * ends). Synchronous on a cache hit: a fan-out re-checks every receiving
   * connection.
   */
  current(): MaybePromise<Principal | null>;
  /**
   * Whether an event about to be delivered may reach this credential's
   * connection, told from the event object itself (the source event, never
   * the fields a client selected). The event that ends the credential does,
   * as its last message: the connection ends right after it. Any other
   * reaches only a live credential.
   */
  admits(event: unknown): MaybePromise<boolean>;
  /** Stops watching: the connection closed. */
  unwatch(): void;
}

/** What every watched credential shares with its `CredentialWatcher`. */
export interface WatchedShared {
  readonly principals: Pick<PrincipalResolver, 'recheck'>;
  readonly closeGraceMs: number;
  readonly expireToken: ((tokenId: string) => Promise<unknown>) | undefined;
  readonly onError: (error: unknown) => void;
  /** Expiries being recorded, by token: a token's many connections record it once. */
  readonly expiring: Map<string, Promise<unknown>>;
  /** Drops the credential from its user's. */
  readonly forget: (watched: WatchedCredential) => void;
}

/** One connection's credential: a few fields, the transport's `end`, one optional timer. */
export class WatchedCredential implements Watch {
  readonly userId: string;
  principal: Principal;
  /** What authenticated the connection, as verified then: a digest or a session's user, never the secret. */
  private readonly credential: VerifiedCredential;
  /** When the credential was issued (epoch ms): a token's `createdAt`, a session's `iat`. */
  private readonly issuedAtMs: number;
  /** Set once the credential is known to be dead: every later operation is refused. */
  private dead = false;
  private ended = false;
  private expiryTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly shared: WatchedShared,
    resolved: Resolved,
    private readonly transport: CredentialEnd,
  ) {
    this.userId = resolved.principal.userId;
    this.principal = resolved.principal;
    this.credential = resolved.credential;
    this.issuedAtMs = issuedAtMsOf(resolved);
  }

  current(): MaybePromise<Principal | null> {
    const settle = (resolved: Resolved | null): Principal | null => {
      if (!resolved) {
        this.kill('credential no longer valid', 0);
        return null;
      }
      this.principal = resolved.principal;
      return resolved.principal;
    };
    return this.dead ? settle(null) : andThen(this.shared.principals.recheck(this.credential), settle);
  }

  admits(event: unknown): MaybePromise<boolean> {
    const source = tokenEventIn(event);
    if (source && this.endedBy(source)) {
      this.kill('API token no longer valid', 0);
      return true;
    }
    return andThen(this.current(), (alive) => alive !== null);
  }

  unwatch(): void {
    this.clearExpiry();
    this.shared.forget(this);
  }

  /**
   * Whether an event about this credential's user ends it (src/audit/event-rules.ts).
   * An event that clearly occurred before the credential was issued does not:
   * a subscription replays stored events (and the log follower may deliver a
   * lost message late), and a user's tokens disabled, then enabled again,
   * must not end the token generated after that. Clearly before: a token's
   * `createdAt` and an event's `occurredAt` are both the service's clock in
   * milliseconds, so an event in the same millisecond ends it; a session's
   * `iat` has whole seconds, so one in the second of `iat` ends it. An event
   * naming this very token always ends it, whatever its time. Sparing a
   * credential wrongly (clocks of two instances apart) is safe: the event then
   * reaches it only if its re-check finds it alive, else the connection ends
   * without it.
   */
  endedBy(event: CredentialEvent): boolean {
    return endsCredential(event, this.principal) && !this.predates(event);
  }

  /** Marks the credential dead and ends its connection after `delayMs` (a final event may still be on its way). */
  kill(reason: string, delayMs: number): void {
    const wasDead = this.dead;
    this.dead = true;
    this.clearExpiry();
    if (delayMs === 0) setImmediate(() => this.end(reason));
    else if (!wasDead) setTimeout(() => this.end(reason), delayMs).unref();
  }

  recheck(): void {
    if (this.dead) return;
    const alive = this.current();
    if (alive instanceof Promise) alive.catch(this.shared.onError);
  }

  /** Ends the connection when the credential expires (at `expiresAtMs` by `now`), without waiting for a sweep. */
  armExpiry(expiresAtMs: number, now: () => number, minWaitMs = 0): void {
    const wait = expiresAtMs - now();
    this.expiryTimer = setTimeout(
      () => {
        this.expiryTimer = null;
        if (wait > MAX_TIMER_MS) this.armExpiry(expiresAtMs, now);
        // The resolver compares with the clock: an expired credential resolves to null and the connection ends.
        // Still alive (a clock behind the timer): look again a second later.
        else if (!this.dead) {
          this.expired().then((alive) => alive && this.armExpiry(expiresAtMs, now, 1_000), this.shared.onError);
        }
      },
      Math.max(minWaitMs, Math.min(wait, MAX_TIMER_MS)),
    );
    this.expiryTimer.unref();
  }

  /**
   * At a token's `expiresAt`: records the expiry, whose EXPIRED event marks
   * the credential dead and reaches its subscription before the end (see
   * `CredentialWatcher.onMessage`). Should no event come (the token vanished
   * otherwise), the connection still ends after the grace period. Resolves
   * whether the credential lives on.
   */
  private async expired(): Promise<boolean> {
    const { tokenId, via } = this.principal;
    const { expireToken, expiring } = this.shared;
    if (via !== 'token' || tokenId === null || !expireToken) return (await this.current()) !== null;
    // This instance hears its own event before the change returns: the credential is then dead, ending after the grace.
    let recording = expiring.get(tokenId);
    if (!recording) {
      recording = expireToken(tokenId)
        .catch(this.shared.onError)
        .finally(() => expiring.delete(tokenId));
      expiring.set(tokenId, recording);
    }
    await recording;
    if (this.dead) return false;
    // Alive: a service clock behind the timer. Dead with no event yet: it may still be on its way.
    if (await this.shared.principals.recheck(this.credential)) return true;
    this.kill('api token expired', this.shared.closeGraceMs);
    return false;
  }

  private predates(event: CredentialEvent): boolean {
    if (this.principal.tokenId !== null && event.tokenId === this.principal.tokenId) return false;
    const occurredAtMs = epochMsOf(event.occurredAt);
    return occurredAtMs !== null && occurredAtMs < this.issuedAtMs;
  }

  private end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.transport.end(reason);
  }

  private clearExpiry(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
  }
}

/** What the watcher reads of an event: what happened, to which token, and when (ISO string or Date; absent: unknown). */
export interface CredentialEvent {
  readonly kind: string;
  readonly tokenId?: string | null;
  readonly occurredAt?: unknown;
}

/** The token event an object is, if it is one: its own `kind`, `tokenId` and `occurredAt`. */
function tokenEventIn(event: unknown): CredentialEvent | null {
  if (typeof event !== 'object' || event === null) return null;
  const { kind, tokenId, occurredAt } = event as { kind?: unknown; tokenId?: unknown; occurredAt?: unknown };
  return typeof kind === 'string' ? { kind, tokenId: typeof tokenId === 'string' ? tokenId : null, occurredAt } : null;
}

/** An instant as a message carries it (ISO string) or an object holds it (Date); null when it is neither. */
function epochMsOf(instant: unknown): number | null {
  const ms = instant instanceof Date ? instant.getTime() : typeof instant === 'string' ? Date.parse(instant) : NaN;
  return Number.isFinite(ms) ? ms : null;
}

function issuedAtMsOf({ token, credential }: Resolved): number {
  if (token) return token.createdAt.getTime();
  return credential.kind === 'session' ? credential.issuedAtS * 1000 : Number.NEGATIVE_INFINITY;
}

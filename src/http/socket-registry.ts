import type { Principal } from '../auth/principal.js';
import type { PrincipalResolver, Resolved, VerifiedCredential } from '../credentials/principal-resolver.js';
import type { Clock } from '../clock.js';
import { andThen, type MaybePromise } from '../maybe-promise.js';
import { endsCredential, isTokenEventKind, ruleOf } from '../audit/event-rules.js';
import type { HubMessage } from '../events/token-event.js';

/** setTimeout takes at most 2^31-1 ms (~24.8 days); longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What the server keeps per authenticated socket: a few fields, one closure, one optional timer. */
export interface SocketAuthority {
  /** What `connection_init` authenticated with, as verified then: a digest or a session's user, never the secret. */
  readonly credential: VerifiedCredential;
  principal: Principal;
  /** Set once the credential is known to be dead: every later operation is refused. */
  dead: boolean;
  expiryTimer: NodeJS.Timeout | null;
  /** Closes the socket with FORBIDDEN (src/close-codes.ts). */
  readonly close: (reason: string) => void;
}

export interface SocketRegistryOptions {
  readonly principals: Pick<PrincipalResolver, 'recheck'>;
  readonly clock: Clock;
  /**
   * How long a socket whose credential an event ended stays open for that
   * event to reach its subscription. Operations are refused from the moment
   * the event arrives, so this only delays the close frame.
   * @default 500
   */
  readonly closeGraceMs?: number;
  /**
   * Records a token's expiry now (its EXPIRED event), when a token socket's
   * timer finds it due: the socket then closes on that event, after the
   * subscription got it, instead of without it. Absent: the socket just closes.
   */
  readonly expireToken?: (tokenId: string) => Promise<unknown>;
  readonly onError: (error: unknown) => void;
}

/**
 * Every authenticated socket of this instance, by user, so an access change
 * touches only that user's sockets. Each operation re-resolves the socket's
 * credential (`current`); events that end a credential mark its sockets dead
 * at once; a token socket closes by its own timer at `expiresAt`.
 */
export class SocketRegistry {
  private readonly byUser = new Map<string, Set<SocketAuthority>>();
  private readonly closeGraceMs: number;
  /** Expiries being recorded, by token: a token's many sockets record it once. */
  private readonly expiring = new Map<string, Promise<unknown>>();

  constructor(private readonly options: SocketRegistryOptions) {
    this.closeGraceMs = options.closeGraceMs ?? 500;
  }

  add(socket: SocketAuthority, resolved: Resolved): void {
    const sockets = this.byUser.get(socket.principal.userId);
    if (sockets) sockets.add(socket);
    else this.byUser.set(socket.principal.userId, new Set([socket]));
    const { credential } = resolved;
    // A token expires by the service's clock; a session JWT by the wall clock, as jose checks it.
    if (resolved.token) this.armExpiry(socket, resolved.token.expiresAt.getTime(), () => this.options.clock.now().getTime());
    else if (credential.kind === 'session' && credential.expiresAtMs !== null) this.armExpiry(socket, credential.expiresAtMs, Date.now);
  }

  remove(socket: SocketAuthority): void {
    if (socket.expiryTimer) clearTimeout(socket.expiryTimer);
    socket.expiryTimer = null;
    const sockets = this.byUser.get(socket.principal.userId);
    if (sockets?.delete(socket) && sockets.size === 0) this.byUser.delete(socket.principal.userId);
  }

  /**
   * The socket's principal now, or null (and the socket closed) when its
   * credential died. Synchronous on a cache hit: a fan-out re-checks every
   * receiving socket.
   */
  current(socket: SocketAuthority): MaybePromise<Principal | null> {
    const settle = (resolved: Resolved | null): Principal | null => {
      if (!resolved) {
        this.kill(socket, 'credential no longer valid', 0);
        return null;
      }
      socket.principal = resolved.principal;
      return resolved.principal;
    };
    return socket.dead ? settle(null) : andThen(this.options.principals.recheck(socket.credential), settle);
  }

  /**
   * A message about a user: sockets whose credential it ends are dead from
   * now on. For a token event, `ends` says all there is to know; any other
   * change to the user's access (an admin or directory action) makes their
   * sockets re-check at once, so an idle socket of a dead credential does
   * not linger.
   */
  onMessage(message: HubMessage): void {
    const sockets = this.byUser.get(message.userId);
    if (!sockets) return;
    const recheck = !isTokenEventKind(message.kind) && ruleOf(message.kind).invalidates;
    for (const socket of sockets) {
      if (endsCredential(message, socket.principal)) this.kill(socket, closeReason(message.kind), this.closeGraceMs);
      else if (recheck) this.recheck(socket);
    }
  }

  /** Re-checks every socket (after the event hub was interrupted, or periodically while it is). */
  recheckAll(): void {
    for (const sockets of this.byUser.values()) for (const socket of sockets) this.recheck(socket);
  }

  /** Marks the socket dead and closes it after `delayMs` (a final event may still be on its way). */
  kill(socket: SocketAuthority, reason: string, delayMs: number): void {
    const wasDead = socket.dead;
    socket.dead = true;
    if (socket.expiryTimer) clearTimeout(socket.expiryTimer);
    socket.expiryTimer = null;
    if (delayMs === 0) setImmediate(() => socket.close(reason));
    else if (!wasDead) setTimeout(() => socket.close(reason), delayMs).unref();
  }

  private recheck(socket: SocketAuthority): void {
    if (socket.dead) return;
    const alive = this.current(socket);
    if (alive instanceof Promise) alive.catch(this.options.onError);
  }

  /**
   * At a token's `expiresAt`: records the expiry, whose EXPIRED event marks
   * the socket dead and reaches its subscription before the close (see
   * `onMessage`). Should no event come (the token vanished otherwise), the
   * socket still closes after the grace period. Resolves whether it lives on.
   */
  private async expired(socket: SocketAuthority): Promise<boolean> {
    const { tokenId, via } = socket.principal;
    const { expireToken } = this.options;
    if (via !== 'token' || tokenId === null || !expireToken) return (await this.current(socket)) !== null;
    // This instance hears its own event before the change returns: the socket is then dead, closing after the grace.
    let recording = this.expiring.get(tokenId);
    if (!recording) {
      recording = expireToken(tokenId)
        .catch(this.options.onError)
        .finally(() => this.expiring.delete(tokenId));
      this.expiring.set(tokenId, recording);
    }
    await recording;
    if (socket.dead) return false;
    // Alive: a service clock behind the timer. Dead with no event yet: it may still be on its way.
    if (await this.options.principals.recheck(socket.credential)) return true;
    this.kill(socket, 'api token expired', this.closeGraceMs);
    return false;
  }

  /** Closes the socket when its credential expires (at `expiresAtMs` by `now`), without waiting for a sweep. */
  private armExpiry(socket: SocketAuthority, expiresAtMs: number, now: () => number, minWaitMs = 0): void {
    const wait = expiresAtMs - now();
    socket.expiryTimer = setTimeout(
      () => {
        socket.expiryTimer = null;
        if (wait > MAX_TIMER_MS) this.armExpiry(socket, expiresAtMs, now);
        // The resolver compares with the clock: an expired credential resolves to null and the socket closes.
        // Still alive (a clock behind the timer): look again a second later.
        else if (!socket.dead) {
          this.expired(socket).then((alive) => alive && this.armExpiry(socket, expiresAtMs, now, 1_000), this.options.onError);
        }
      },
      Math.max(minWaitMs, Math.min(wait, MAX_TIMER_MS)),
    );
    socket.expiryTimer.unref();
  }
}

function closeReason(kind: string): string {
  return kind.toLowerCase().replace(/_/g, ' ');
}

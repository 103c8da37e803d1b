import type { Clock } from '../clock.js';
import { isTokenEventKind, ruleOf } from '../audit/event-rules.js';
import type { PrincipalResolver, Resolved } from './principal-resolver.js';
import { WatchedCredential, type CredentialEnd, type Watch, type WatchedShared } from './watched-credential.js';

export type { CredentialEnd, Watch } from './watched-credential.js';

/** What the watcher hears about a user: a hub message (a token event carries its `tokenId` and `occurredAt`). */
export interface CredentialMessage {
  readonly kind: string;
  readonly userId: string;
  readonly tokenId?: string | null;
  /** ISO instant; absent on access changes (a deactivation), which then end every credential they apply to. */
  readonly occurredAt?: string;
}

export interface CredentialWatcherOptions {
  readonly principals: Pick<PrincipalResolver, 'recheck'>;
  readonly clock: Clock;
  /**
   * How long a credential that an event ended keeps its connection, for that
   * event to reach its subscription. It is refused from the moment the event
   * arrives, so this only delays the end.
   * @default 500
   */
  readonly closeGraceMs?: number;
  /**
   * Records a token's expiry now (its EXPIRED event), when a token
   * credential's timer finds it due: the connection then ends on that event,
   * after the subscription got it, instead of without it. Absent: it just ends.
   */
  readonly expireToken?: (tokenId: string) => Promise<unknown>;
  readonly onError: (error: unknown) => void;
}

/**
 * The domain side of a live connection's credential: which credentials are
 * watched, by user, so a change touches only that user's; which of them a
 * message ends (`endsCredential` in src/audit/event-rules.ts) and which must
 * re-check; a timer per credential at its expiry. The transport registers
 * each authenticated connection with `watch` and is told, through the
 * `CredentialEnd` it gave, when to end it; it never reads the rules itself.
 *
 * Whether an event about to be delivered is a credential's last is told at
 * each delivery from the event object itself (`Watch.admits`), never from the
 * fields the client selected, and not marked on the hub message: the same
 * event also reaches a subscription replayed from the store or in a catch-up
 * after the hub resynchronised, as another object. The rule is a switch on
 * the event's `kind` and `tokenId`, so asking per delivery costs nothing.
 */
export class CredentialWatcher {
  private readonly byUser = new Map<string, Set<WatchedCredential>>();
  private readonly shared: WatchedShared;
  private readonly clock: Clock;

  constructor(options: CredentialWatcherOptions) {
    this.shared = {
      principals: options.principals,
      closeGraceMs: options.closeGraceMs ?? 500,
      expireToken: options.expireToken,
      onError: options.onError,
      expiring: new Map(),
      forget: (watched) => {
        const watchedOfUser = this.byUser.get(watched.userId);
        if (watchedOfUser?.delete(watched) && watchedOfUser.size === 0) this.byUser.delete(watched.userId);
      },
    };
    this.clock = options.clock;
  }

  /** Watches a credential that just authenticated a connection; `end` is how the connection ends. */
  watch(resolved: Resolved, end: CredentialEnd): Watch {
    const watched = new WatchedCredential(this.shared, resolved, end);
    const watchedOfUser = this.byUser.get(watched.userId);
    if (watchedOfUser) watchedOfUser.add(watched);
    else this.byUser.set(watched.userId, new Set([watched]));
    const { credential } = resolved;
    // A token expires by the service's clock; a session JWT by the wall clock, as jose checks it.
    if (resolved.token) watched.armExpiry(resolved.token.expiresAt.getTime(), () => this.clock.now().getTime());
    else if (credential.kind === 'session' && credential.expiresAtMs !== null) watched.armExpiry(credential.expiresAtMs, Date.now);
    return watched;
  }

  /**
   * A message about a user: credentials it ends are dead from now on. For a
   * token event, `ends` says all there is to know; any other change to the
   * user's access (an admin or directory action) makes their credentials
   * re-check at once, so an idle connection of a dead credential does not
   * linger. A message is usually news, but one the log follower delivers
   * late (its Redis message lost) may predate a credential issued since:
   * like a replayed event, it does not end that one (`endedBy`).
   */
  onMessage(message: CredentialMessage): void {
    const watchedOfUser = this.byUser.get(message.userId);
    if (!watchedOfUser) return;
    const recheck = !isTokenEventKind(message.kind) && ruleOf(message.kind).invalidates;
    for (const watched of watchedOfUser) {
      if (watched.endedBy(message)) watched.kill(closeReason(message.kind), this.shared.closeGraceMs);
      else if (recheck) watched.recheck();
    }
  }

  /** Re-checks every credential (after the event hub was interrupted, or periodically while it is). */
  recheckAll(): void {
    for (const watchedOfUser of this.byUser.values()) for (const watched of watchedOfUser) watched.recheck();
  }
}

function closeReason(kind: string): string {
  return kind.toLowerCase().replace(/_/g, ' ');
}

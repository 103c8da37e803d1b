import type { WebSocketLimits } from '../config.js';
import { TooManySubscriptionsError } from '../errors.js';

/** What graphql-ws keeps per socket: its running operations by id (subscriptions, and queries until they finish). */
interface SocketOperations {
  readonly subscriptions: Readonly<Record<string, unknown>>;
}

/**
 * Caps the operations running at once, per socket and per user on this
 * instance. Every subscription holds a listener, a buffer and, while it
 * replays, database reads; without a cap one socket could open thousands.
 *
 * It counts graphql-ws's own table of running operations instead of keeping a
 * tally beside it, so no path through graphql-ws (complete, error, close) can
 * leave a count behind.
 */
export class SubscriptionLimits {
  private readonly socketsByUser = new Map<string, Set<SocketOperations>>();

  constructor(private readonly limits: WebSocketLimits) {}

  /** Counts an acknowledged socket towards its user; returns what forgets it on close. */
  track(userId: string, socket: SocketOperations): () => void {
    let sockets = this.socketsByUser.get(userId);
    if (!sockets) this.socketsByUser.set(userId, (sockets = new Set()));
    sockets.add(socket);
    return () => {
      sockets.delete(socket);
      if (sockets.size === 0 && this.socketsByUser.get(userId) === sockets) this.socketsByUser.delete(userId);
    };
  }

  /**
   * Null when the operation being subscribed may start. graphql-ws has
   * already entered it in the socket's table when `onSubscribe` runs, so it is
   * part of the count.
   */
  refusal(userId: string, socket: SocketOperations): TooManySubscriptionsError | null {
    const { maxSubscriptionsPerSocket, maxSubscriptionsPerUser } = this.limits;
    if (Object.keys(socket.subscriptions).length > maxSubscriptionsPerSocket) {
      return new TooManySubscriptionsError('socket', maxSubscriptionsPerSocket);
    }
    let running = 0;
    for (const other of this.socketsByUser.get(userId) ?? [socket]) running += Object.keys(other.subscriptions).length;
    return running > maxSubscriptionsPerUser ? new TooManySubscriptionsError('user', maxSubscriptionsPerUser) : null;
  }
}

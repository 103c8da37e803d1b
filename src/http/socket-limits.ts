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
    if (countUpTo(socket, maxSubscriptionsPerSocket) > maxSubscriptionsPerSocket) {
      return new TooManySubscriptionsError('socket', maxSubscriptionsPerSocket);
    }
    // Counted in place and only as far as the limit: a user's thousandth socket
    // subscribing must not allocate or walk more than it has to.
    let running = 0;
    for (const other of this.socketsByUser.get(userId) ?? [socket]) {
      running += countUpTo(other, maxSubscriptionsPerUser - running);
      if (running > maxSubscriptionsPerUser) return new TooManySubscriptionsError('user', maxSubscriptionsPerUser);
    }
    return null;
  }
}

/** The socket's running operations, counted without allocating, stopping once past `limit`. */
function countUpTo(socket: SocketOperations, limit: number): number {
  let count = 0;
  for (const id in socket.subscriptions) {
    if (Object.hasOwn(socket.subscriptions, id) && ++count > limit) break;
  }
  return count;
}

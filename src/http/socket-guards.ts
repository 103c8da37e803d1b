/**
 * Per-socket and per-key bounds for graphql-ws (see websocket/connection.ts): what one
 * client may send, and how many sockets a user or an address may hold.
 */

/**
 * Messages one socket sends in a fixed window. A flood (ping after ping, or
 * subscribe/complete pairs) is cheap to send and not free to answer; past
 * the budget the socket is closed instead of being answered.
 */
export class MessageBudget {
  private count = 0;
  private windowEndsAt = 0;

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one message; false once the socket has sent more than its budget in this window. */
  take(): boolean {
    const now = this.now();
    if (now >= this.windowEndsAt) {
      this.count = 0;
      this.windowEndsAt = now + this.windowMs;
    }
    return ++this.count <= this.max;
  }
}

/** Open sockets per key (a user, an address), each key at most `max`. */
export class SocketCounts {
  private readonly open = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** Counts one more socket for `key`; returns what releases it, or null when `key` already holds `max`. */
  acquire(key: string): (() => void) | null {
    const count = this.open.get(key) ?? 0;
    if (count >= this.max) return null;
    this.open.set(key, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(key) ?? 1) - 1;
      if (left <= 0) this.open.delete(key);
      else this.open.set(key, left);
    };
  }
}

/**
 * One socket's messages, at most one handled per turn of the event loop: a
 * read that brought thousands cannot hold the loop, and other clients (and
 * /healthz) are served between them. The first message of a turn is handled
 * at once, as it arrived: deferring every message (ws's
 * `allowSynchronousEvents: false`) let a request that arrived in the same read
 * of the loop overtake it, so a subscribe sent before a revoke was refused
 * after it and its client never saw the REVOKED that closed it. The queue is
 * bounded by the socket's `MessageBudget`, which is taken before a message is
 * queued.
 */
export class MessageTurns {
  private readonly queued: (() => void)[] = [];
  private busy = false;

  run(handle: () => void): void {
    if (this.busy) {
      this.queued.push(handle);
      return;
    }
    this.busy = true;
    handle();
    setImmediate(this.next);
  }

  private readonly next = (): void => {
    const handle = this.queued.shift();
    if (!handle) {
      this.busy = false;
      return;
    }
    handle();
    setImmediate(this.next);
  };
}

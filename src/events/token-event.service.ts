import type { MikroORM } from '@mikro-orm/core';
import { AuditEvent } from '../audit/audit-event.entity.js';
import { TOKEN_EVENT_KINDS } from '../audit/event-rules.js';
import { BadUserInputError } from '../errors.js';
import type { TokenEventHub } from './event-hub.js';
import { ReplayStream } from './replay-stream.js';
import { isTokenEvent, isTokenEventMessage, toTokenEventMessage, type TokenEventMessage } from './token-event.js';

/** Stored events are read this many at a time, one page per subscription in memory at most. */
const REPLAY_PAGE = 200;
/** A consumer this many live events behind is cut off rather than let memory grow. */
const MAX_BUFFERED = 1_000;

/** What is known of a user's newest event while they have open streams (see `startingPoint`). */
interface Newest {
  /** The user's open streams; the entry goes with the last. */
  streams: number;
  /** The highest event id read from the store or heard on the hub since the entry was made. */
  seen: number;
  /** Whether `seen` is the user's newest event: read once, then followed on the hub without a gap. */
  known: boolean;
}

/** A user's token events: stored ones replayed from the audit trail, then live ones from the hub. */
export class TokenEventService {
  /** Open streams, to catch up from the database when the hub may have lost events. */
  private readonly live = new Set<() => Promise<unknown>>();
  private readonly newest = new Map<string, Newest>();
  /** Resynchronisations of the hub so far: a read that spans one is not known to be the newest. */
  private resyncs = 0;

  constructor(
    private readonly orm: MikroORM,
    private readonly hub: Pick<TokenEventHub, 'listen' | 'onResync' | 'healthy'>,
  ) {
    hub.onResync(() => {
      // Events may have been missed on the hub: what the streams heard is no longer the newest.
      this.resyncs++;
      for (const newest of this.newest.values()) newest.known = false;
      void this.catchUpAll();
    });
  }

  /**
   * Replays the user's events after `after` (none when null), page by page as
   * the consumer takes them, then continues live. The hub listener is in place
   * before the first page is read: no gap and no duplicate at the seam. When
   * the hub resynchronises after an outage, every open stream catches up from
   * the store in the same way.
   */
  async stream(userId: string, after: string | null): Promise<AsyncIterableIterator<TokenEventMessage>> {
    const afterId = after === null ? null : parseEventId(after);
    const newest = this.follow(userId);
    const stream = new ReplayStream((id) => this.after(userId, id), afterId, {
      pageSize: REPLAY_PAGE,
      maxBuffered: MAX_BUFFERED,
      onClose: () => {
        this.live.delete(resync);
        listening.stop();
        this.unfollow(userId, newest);
      },
    });
    const listening = this.hub.listen(userId, (message) => {
      newest.seen = Math.max(newest.seen, Number(message.id));
      if (isTokenEventMessage(message)) stream.push(message);
    });
    // A catch-up that fails ends the subscription: the client resubscribes
    // with `after` and gets the replay, instead of silently missing events.
    const resync = () => stream.catchUp().catch(() => void stream.return());
    try {
      await listening.ready;
      // Without `after` the stream starts now: a later catch-up must not replay older events.
      if (afterId === null) stream.startAfter(await this.startingPoint(userId, newest));
      await stream.start();
    } catch (error) {
      await stream.return();
      throw error;
    }
    this.live.add(resync);
    return stream;
  }

  /** Every open stream catches up from the database, a few at a time. */
  private async catchUpAll(): Promise<void> {
    const pending = [...this.live];
    const worker = async () => {
      for (let next = pending.pop(); next; next = pending.pop()) await next();
    };
    await Promise.all(Array.from({ length: 4 }, worker));
  }

  private follow(userId: string): Newest {
    let newest = this.newest.get(userId);
    if (!newest) this.newest.set(userId, (newest = { streams: 0, seen: 0, known: false }));
    newest.streams++;
    return newest;
  }

  private unfollow(userId: string, newest: Newest): void {
    if (--newest.streams === 0 && this.newest.get(userId) === newest) this.newest.delete(userId);
  }

  /**
   * Where a stream without `after` starts: the user's newest event. The first
   * of a user's streams reads it from the store once its hub listener is in
   * place; from then on, while any of the user's streams stays open, their
   * listeners hear every later event, so the next streams need no read (2,000
   * sockets of one user were 2,000 queries, and most of their memory). Read
   * again while the hub is unhealthy, or after it resynchronised.
   */
  private async startingPoint(userId: string, newest: Newest): Promise<number> {
    if (newest.known && this.hub.healthy()) return newest.seen;
    const { resyncs } = this;
    const healthy = this.hub.healthy();
    newest.seen = Math.max(newest.seen, await this.latestId(userId));
    // Known only if the hub was healthy throughout the read, with no resync (so no lost event) meanwhile.
    if (healthy && this.hub.healthy() && resyncs === this.resyncs) newest.known = true;
    return newest.seen;
  }

  /**
   * The id of the user's newest stored event ("0": none yet). A client reads
   * it before the state it shows, then subscribes with it as `after`: whatever
   * happens after the read is replayed, however late its subscription arrives.
   */
  async latest(userId: string): Promise<string> {
    return String(await this.latestId(userId));
  }

  private async latestId(userId: string): Promise<number> {
    const [newest] = await this.orm.em
      .fork()
      .find(AuditEvent, { subjectUserId: userId }, { orderBy: { id: 'desc' }, limit: 1, fields: ['id'] });
    return newest?.id ?? 0;
  }

  private async after(userId: string, afterId: number): Promise<TokenEventMessage[]> {
    const rows = await this.orm.em
      .fork()
      .find(
        AuditEvent,
        { subjectUserId: userId, id: { $gt: afterId }, action: { $in: [...TOKEN_EVENT_KINDS] } },
        { orderBy: { id: 'asc' }, limit: REPLAY_PAGE },
      );
    return rows.filter(isTokenEvent).map(toTokenEventMessage);
  }
}

function parseEventId(text: string): number {
  if (!/^\d{1,15}$/.test(text)) throw new BadUserInputError('`after` must be the id of an event you received.', 'after');
  return Number(text);
}

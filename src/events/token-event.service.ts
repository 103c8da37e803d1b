import type { MikroORM } from '@mikro-orm/core';
import { AuditEvent } from '../audit/audit-event.entity.js';
import { TOKEN_EVENT_KINDS } from './event-rules.js';
import { BadUserInputError } from '../errors.js';
import type { TokenEventHub } from './event-hub.js';
import { ReplayStream } from './replay-stream.js';
import { isTokenEvent, isTokenEventMessage, toTokenEventMessage, type TokenEventMessage } from './token-event.js';

/** Stored events are read this many at a time, one page per subscription in memory at most. */
const REPLAY_PAGE = 200;
/** A consumer this many live events behind is cut off rather than let memory grow. */
const MAX_BUFFERED = 1_000;

/** A user's token events: stored ones replayed from the audit trail, then live ones from the hub. */
export class TokenEventService {
  /** Open streams, to catch up from the database when the hub may have lost events. */
  private readonly live = new Set<() => Promise<unknown>>();

  constructor(
    private readonly orm: MikroORM,
    private readonly hub: TokenEventHub,
  ) {
    hub.onResync(() => void this.catchUpAll());
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
    const stream = new ReplayStream((id) => this.after(userId, id), afterId, {
      pageSize: REPLAY_PAGE,
      maxBuffered: MAX_BUFFERED,
      onClose: () => {
        this.live.delete(resync);
        listening.stop();
      },
    });
    const listening = this.hub.listen(userId, (message) => {
      if (isTokenEventMessage(message)) stream.push(message);
    });
    // A catch-up that fails ends the subscription: the client resubscribes
    // with `after` and gets the replay, instead of silently missing events.
    const resync = () => stream.catchUp().catch(() => void stream.return());
    try {
      await listening.ready;
      // Without `after` the stream starts now: a later catch-up must not replay older events.
      if (afterId === null) stream.startAfter(await this.latestId(userId));
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

  private async latestId(userId: string): Promise<number> {
    const [newest] = await this.orm.em
      .fork()
      .find(AuditEvent, { subjectUserId: userId }, { orderBy: { id: 'desc' }, limit: 1, fields: ['id'] });
    return newest?.id ?? 0;
  }

  private async after(userId: string, afterId: number): Promise<TokenEventMessage[]> {
    const rows = await this.orm.em.fork().find(
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

import type { MikroORM } from '@mikro-orm/core';
import { AuditEvent, TOKEN_EVENT_KINDS } from '../audit/audit-event.entity.js';
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
  constructor(
    private readonly orm: MikroORM,
    private readonly hub: TokenEventHub,
  ) {}

  /**
   * Replays the user's events after `after` (none when null), page by page as
   * the consumer takes them, then continues live. The hub listener is in place
   * before the first page is read: no gap and no duplicate at the seam.
   */
  async stream(userId: string, after: string | null): Promise<AsyncIterableIterator<TokenEventMessage>> {
    const afterId = after === null ? null : parseEventId(after);
    const stream = new ReplayStream((id) => this.after(userId, id), afterId, {
      pageSize: REPLAY_PAGE,
      maxBuffered: MAX_BUFFERED,
      onClose: () => listening.stop(),
    });
    const listening = this.hub.listen(userId, (message) => {
      if (isTokenEventMessage(message)) stream.push(message);
    });
    try {
      await listening.ready;
    } catch (error) {
      await stream.return();
      throw error;
    }
    return stream.start();
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

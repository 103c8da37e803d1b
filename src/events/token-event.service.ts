import type { MikroORM } from '@mikro-orm/core';
import { AuditEvent, TOKEN_EVENT_KINDS } from '../audit/audit-event.entity.js';
import { BadUserInputError } from '../errors.js';
import type { TokenEventHub } from './event-hub.js';
import { EventStream } from './event-stream.js';
import { isTokenEvent, isTokenEventMessage, toTokenEventMessage, type TokenEventMessage } from './token-event.js';

const REPLAY_PAGE = 500;
/** More missed events than this and the client should page the audit trail instead. */
const MAX_BUFFERED = 10_000;

/** A user's token events: stored ones replayed from the audit trail, then live ones from the hub. */
export class TokenEventService {
  constructor(
    private readonly orm: MikroORM,
    private readonly hub: TokenEventHub,
  ) {}

  /**
   * Replays the user's events after `after` (none when null), then continues
   * live. The hub listener is in place before the replay query runs, and every
   * event is delivered only if its id is above the last delivered one: no gap
   * and no duplicate at the seam.
   */
  async stream(userId: string, after: string | null): Promise<EventStream<TokenEventMessage>> {
    const afterId = after === null ? null : parseEventId(after);
    let lastId = afterId ?? 0;
    let replaying = true;
    const held: TokenEventMessage[] = [];
    const listening = this.hub.listen(userId, (message) => {
      if (!isTokenEventMessage(message)) return;
      if (replaying) held.push(message);
      else deliver(message);
    });
    const stream = new EventStream<TokenEventMessage>(() => listening.stop(), MAX_BUFFERED);
    const deliver = (event: TokenEventMessage) => {
      const id = Number(event.id);
      if (id <= lastId) return;
      lastId = id;
      stream.push(event);
    };
    try {
      await listening.ready;
      if (afterId !== null) {
        for (let page = await this.after(userId, afterId); page.length > 0; page = await this.after(userId, lastId)) {
          page.forEach(deliver);
          if (page.length < REPLAY_PAGE) break;
        }
      }
    } catch (error) {
      await stream.return();
      throw error;
    }
    replaying = false;
    held.sort((a, b) => Number(a.id) - Number(b.id)).forEach(deliver);
    return stream;
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

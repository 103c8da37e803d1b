import type { MikroORM } from '@mikro-orm/core';
import { AuditEvent } from '../audit/audit-event.entity.js';
import { TOKEN_EVENT_KINDS } from './event-rules.js';
import { BadUserInputError } from '../errors.js';
import type { TokenEventHub } from './event-hub.js';
import { EventStream } from './event-stream.js';
import { isTokenEvent, isTokenEventMessage, toTokenEventMessage, type TokenEventMessage } from './token-event.js';

const REPLAY_PAGE = 500;
/** More missed events than this and the client should page the audit trail instead. */
const MAX_BUFFERED = 10_000;

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
   * Replays the user's events after `after` (none when null), then continues
   * live. The hub listener is in place before the replay query runs, and every
   * event is delivered only if its id is above the last delivered one: no gap
   * and no duplicate at the seam. The same replay runs again for every open
   * stream when the hub resynchronises after an outage.
   */
  async stream(userId: string, after: string | null): Promise<EventStream<TokenEventMessage>> {
    const afterId = after === null ? null : parseEventId(after);
    let lastId = afterId ?? 0;
    let replaying = 0;
    const held: TokenEventMessage[] = [];
    const listening = this.hub.listen(userId, (message) => {
      if (!isTokenEventMessage(message)) return;
      if (replaying > 0) held.push(message);
      else deliver(message);
    });
    const stream = new EventStream<TokenEventMessage>(() => {
      this.live.delete(resync);
      listening.stop();
    }, MAX_BUFFERED);
    const deliver = (event: TokenEventMessage) => {
      const id = Number(event.id);
      if (id <= lastId) return;
      lastId = id;
      stream.push(event);
    };
    /** Delivers what is stored after the last delivered id, holding live events meanwhile. */
    const catchUp = async () => {
      replaying++;
      try {
        for (let page = await this.after(userId, lastId); page.length > 0; page = await this.after(userId, lastId)) {
          page.forEach(deliver);
          if (page.length < REPLAY_PAGE) break;
        }
      } finally {
        replaying--;
        if (replaying === 0) held.splice(0).sort((a, b) => Number(a.id) - Number(b.id)).forEach(deliver);
      }
    };
    // A catch-up that fails ends the subscription: the client resubscribes
    // with `after` and gets the replay, instead of silently missing events.
    const resync = () => catchUp().catch(() => void stream.return());
    try {
      await listening.ready;
      if (afterId !== null) await catchUp();
      // Without `after` the stream starts now: a later catch-up must not replay older events.
      else lastId = Math.max(lastId, await this.latestId(userId));
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

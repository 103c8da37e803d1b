import { EventStream } from './event-stream.js';
import type { TokenEventMessage } from './token-event.js';

/** Reads the stored events after an id, in id order, at most one page. */
export type ReplayPage = (afterId: number) => Promise<TokenEventMessage[]>;

export interface ReplayStreamOptions {
  /** Stored events are read this many at a time, and only when the consumer has taken the previous page. */
  readonly pageSize: number;
  /** Live events held (during the replay) or buffered (after it) for a slow consumer before it is cut off. */
  readonly maxBuffered: number;
  /** Called once, when the stream ends for whatever reason. */
  readonly onClose: () => void;
}

/**
 * Stored events after a given id, then live ones, with no gap and no duplicate
 * at the seam: live events that arrive during the replay are held, and every
 * event is delivered only if its id is above the last one delivered.
 *
 * The replay is paged on demand: the next page is read only once the consumer
 * has taken the previous one, so a subscription holds at most one page in
 * memory however many events it missed, and a slow socket slows its own reads
 * instead of filling the heap.
 */
export class ReplayStream implements AsyncIterableIterator<TokenEventMessage> {
  private readonly live: EventStream<TokenEventMessage>;
  private readonly held: TokenEventMessage[] = [];
  private page: TokenEventMessage[] = [];
  private replaying: boolean;
  /** Catch-ups under way after a hub outage; live events are held meanwhile. */
  private catchingUp = 0;
  private lastId: number;

  constructor(
    private readonly readPage: ReplayPage,
    afterId: number | null,
    private readonly options: ReplayStreamOptions,
  ) {
    this.replaying = afterId !== null;
    this.lastId = afterId ?? 0;
    this.live = new EventStream<TokenEventMessage>(options.onClose, options.maxBuffered);
  }

  /**
   * Reads the first page, so a failing store fails the subscription at once
   * (and ends the stream). Call it once live events are being pushed.
   */
  async start(): Promise<this> {
    try {
      await this.readNextPage();
    } catch (error) {
      await this.return();
      throw error;
    }
    return this;
  }

  /** For a stream without `after`: what is stored up to `id` is history, never caught up on later. */
  startAfter(id: number): void {
    this.lastId = Math.max(this.lastId, id);
  }

  /**
   * After the hub may have lost events (a Redis outage): delivers what is
   * stored after the last delivered id, holding live events meanwhile. The
   * initial replay, while it runs, reads the store anyway. Past `maxBuffered`
   * undelivered events the stream ends, and the client resubscribes with `after`.
   */
  async catchUp(): Promise<void> {
    if (this.replaying) return;
    this.catchingUp++;
    try {
      for (;;) {
        const rows = await this.readPage(this.lastId);
        for (const event of rows) this.deliver(event);
        if (rows.length < this.options.pageSize) break;
      }
    } finally {
      this.catchingUp--;
      if (this.catchingUp === 0) this.flushHeld();
    }
  }

  /** A live event from the hub. */
  push(event: TokenEventMessage): void {
    if (!this.replaying && this.catchingUp === 0) {
      this.deliver(event);
      return;
    }
    if (this.held.length >= this.options.maxBuffered) void this.return();
    else this.held.push(event);
  }

  async next(): Promise<IteratorResult<TokenEventMessage>> {
    while (this.page.length === 0 && this.replaying) await this.readNextPage();
    const stored = this.page.shift();
    if (stored !== undefined) return { value: stored, done: false };
    return this.live.next();
  }

  return(): Promise<IteratorResult<TokenEventMessage>> {
    this.replaying = false;
    this.page = [];
    this.held.length = 0;
    return this.live.return();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<TokenEventMessage> {
    return this;
  }

  private async readNextPage(): Promise<void> {
    if (!this.replaying) return;
    const rows = await this.readPage(this.lastId);
    // Ended while reading: drop what was read. (TypeScript narrowed `replaying` before the await.)
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    if (!this.replaying) return;
    for (const event of rows) {
      if (Number(event.id) <= this.lastId) continue;
      this.lastId = Number(event.id);
      this.page.push(event);
    }
    if (rows.length < this.options.pageSize) {
      // Caught up: what arrived meanwhile goes out in id order, then live events as they come.
      this.replaying = false;
      this.flushHeld();
    }
  }

  /** What arrived live meanwhile goes out in id order. */
  private flushHeld(): void {
    this.held.sort((a, b) => Number(a.id) - Number(b.id)).forEach((event) => this.deliver(event));
    this.held.length = 0;
  }

  private deliver(event: TokenEventMessage): void {
    const id = Number(event.id);
    if (id <= this.lastId) return;
    this.lastId = id;
    this.live.push(event);
  }
}

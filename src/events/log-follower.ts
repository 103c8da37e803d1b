import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { isPublished, ruleOf } from '../audit/event-rules.js';
import type { TokenEventHub } from './event-hub.js';
import type { StoredLog } from './stored-log.js';
import { toHubMessage, type StoredEvent } from './token-event.js';

/** Rows read per query; a longer backlog is read page after page at once. */
const PAGE = 500;
/** Ids skipped between two read ones that are looked for again; a larger jump is not a transaction in flight. */
const MAX_GAP = 1_000;
/** Gaps remembered at most; the oldest is given up first. */
const MAX_GAPS = 10_000;

/**
 * How long after a commit every instance has either read it from the log or
 * stopped trusting its cache: two intervals missed (a slow read, a busy event
 * loop) before the cache is bypassed.
 */
export function followerLeaseMs(intervalMs: number): number {
  return 3 * intervalMs;
}

export interface LogFollowerOptions {
  /** The audit trail (`storedLog(orm)`). */
  readonly log: StoredLog;
  readonly hub: Pick<TokenEventHub, 'receive' | 'delivered' | 'memberSince'>;
  readonly logger: Logger;
  /** How often the stored log is read (`EVENT_POLL_INTERVAL`). */
  readonly intervalMs: number;
  /**
   * How long an id skipped by the log (a transaction that took its id and has
   * not committed yet, or one that rolled back) is looked for again.
   * @default 60_000
   */
  readonly gapWaitMs?: number;
  /**
   * Told of each organisation-level credential change read from the log (a
   * SCIM token issued, rotated or revoked, see `invalidatesOrganization`).
   * These cross no hub: the admin CLI that makes them runs none, so the log is
   * how they reach every instance.
   */
  readonly onOrganizationChange?: (organizationId: string) => void;
}

/**
 * Follows the audit trail, the source of truth that every change writes in
 * its own transaction, by id: every `intervalMs`, one indexed query for the
 * rows after the cursor (and for the few ids skipped below it, see `gaps`),
 * each handed to the hub, which delivers it unless Redis already did. So a
 * change whose Redis message was lost or delayed, or whose instance died
 * between commit and publish, reaches this instance within one interval and
 * the read.
 *
 * The cache may be trusted only while this is `fresh` (the last complete read
 * started less than `leaseMs` ago) and the instance is registered with the
 * hub since before that read: a publisher waits for a registered instance's
 * acknowledgement, or for `leaseMs`, after which that instance has either read
 * the change or stopped trusting its cache.
 */
export class LogFollower {
  readonly leaseMs: number;
  private cursor = 0;
  /** Ids skipped by the cursor, by when they were noticed (PostgreSQL commits out of id order). */
  private readonly gaps = new Map<number, number>();
  private lastReadStartedAt = -Infinity;
  private timer: NodeJS.Timeout | null = null;
  private reading: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly options: LogFollowerOptions) {
    this.leaseMs = followerLeaseMs(options.intervalMs);
  }

  /** Starts after the newest stored event: what came before is in the database any read sees. */
  async start(): Promise<void> {
    const started = performance.now();
    this.cursor = await this.options.log.newestId();
    this.lastReadStartedAt = started;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.reading;
  }

  /** Whether the last complete read started less than `leaseMs` ago. */
  fresh(): boolean {
    return performance.now() - this.lastReadStartedAt < this.leaseMs;
  }

  /** Whether the cache may answer: see the class comment. */
  trusted(): boolean {
    const since = this.options.hub.memberSince();
    if (since === null) return false;
    if (this.lastReadStartedAt > since) return this.fresh();
    // Newly registered (at start, or back from an outage): one read now, not at the next interval, restores the cache.
    if (!this.stopped) this.read().catch(() => undefined);
    return false;
  }

  /** Reads what is new now (also what the timer does). */
  read(): Promise<void> {
    this.reading ??= this.readAll().finally(() => (this.reading = null));
    return this.reading;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.read()
        .catch((error: unknown) => this.options.logger.warn({ err: error }, 'token events: could not read the stored log'))
        .finally(() => this.schedule());
    }, this.options.intervalMs);
    this.timer.unref();
  }

  private async readAll(): Promise<void> {
    for (;;) {
      const started = performance.now();
      const rows = await this.readPage();
      for (const row of rows) this.take(row, started);
      this.forgetOldGaps(started);
      if (rows.length < PAGE) {
        // Everything committed before `started` has now been delivered.
        this.lastReadStartedAt = started;
        return;
      }
    }
  }

  private readPage(): Promise<StoredEvent[]> {
    return this.options.log.after(this.cursor, [...this.gaps.keys()], PAGE);
  }

  private take(row: StoredEvent, noticedAt: number): void {
    this.gaps.delete(row.id);
    if (row.id > this.cursor) {
      if (row.id - this.cursor <= MAX_GAP) for (let id = this.cursor + 1; id < row.id; id++) this.gaps.set(id, noticedAt);
      this.cursor = row.id;
    }
    const { subjectUserId, organizationId } = row;
    // Most rows came over Redis first (or are this instance's own): their message is not built twice.
    if (subjectUserId && isPublished(row.action) && !this.options.hub.delivered(String(row.id))) {
      this.options.hub.receive(toHubMessage(row, subjectUserId));
    }
    if (organizationId && ruleOf(row.action).invalidatesOrganization) this.organizationChanged(organizationId, row.id);
  }

  private organizationChanged(organizationId: string, eventId: number): void {
    try {
      this.options.onOrganizationChange?.(organizationId);
    } catch (error) {
      this.options.logger.error({ err: error, eventId }, 'organisation change watcher failed');
    }
  }

  private forgetOldGaps(now: number): void {
    const wait = this.options.gapWaitMs ?? 60_000;
    // Insertion order is id order within a read and read order across them: the oldest come first.
    for (const [id, noticedAt] of this.gaps) {
      if (now - noticedAt < wait && this.gaps.size <= MAX_GAPS) break;
      this.gaps.delete(id);
    }
  }
}

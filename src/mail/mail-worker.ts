import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EntityManager, MikroORM } from '@mikro-orm/core';
import type { Logger } from 'pino';
import { AuditEvent } from '../audit/audit-event.entity.js';
import type { Clock } from '../clock.js';
import type { DatabaseKind } from '../db/mikro-orm.config.js';
import type { Metrics } from '../metrics/metrics.js';
import { describeError, messageIdFor, retryDelay, type RetryPolicy } from './delivery-rules.js';
import { OutboxMessage } from './outbox-message.entity.js';
import { contentOf, type Unsendable } from './outbox.js';
import type { MailContent, TemplateConfig } from './templates.js';
import { MAX_SEND_MS, type MailTransport } from './transport.js';

export interface MailWorkerOptions {
  readonly orm: MikroORM;
  readonly transport: MailTransport;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The `From` of every message (`MAIL_FROM`). */
  readonly from: string;
  /** The right-hand side of every `Message-ID`. */
  readonly messageIdDomain: string;
  /** What the templates link to (`APP_URL`): messages are rendered when sent. */
  readonly templates: TemplateConfig;
  /** How long the worker sleeps when nothing nudges it (`MAIL_POLL_INTERVAL`). */
  readonly pollIntervalMs: number;
  /** After this many failed attempts a message is marked FAILED (`MAIL_MAX_ATTEMPTS`). */
  readonly maxAttempts: number;
  /**
   * Messages sent a second at most (`MAIL_MAX_RATE`): each send starts at
   * least `1 / maxRate` s after the one before. Unbounded, a queue of 100,000
   * expiry emails was sent as fast as the cores allowed, and took them from
   * the requests for as long as it lasted (bench/REPORT.md).
   * @default unbounded
   */
  readonly maxRate?: number;
  /** Messages claimed per query. */
  readonly batchSize?: number;
  /**
   * How long a claim on a row lasts. It must outlast any one send, or a slow
   * send could be repeated by another instance; a crashed instance's rows
   * are picked up once it runs out.
   */
  readonly leaseMs?: number;
  readonly retry?: RetryPolicy;
  /** Source of jitter, in [0, 1). */
  readonly random?: () => number;
  readonly metrics?: Pick<Metrics, 'mailDeliveries'>;
  /** On PostgreSQL the claim's plan is pinned to its index (see `findDue`). */
  readonly databaseKind?: DatabaseKind;
}

interface Claimed {
  readonly row: OutboxMessage;
  /** The attempt this claim is; also the claim's compare-and-set token. */
  readonly attempt: number;
}

/**
 * Delivers the outbox: claims due rows, sends them, marks them sent or
 * schedules a retry with exponential backoff and jitter. Delivery is at least
 * once; every attempt at a row carries the same `Message-ID`.
 */
export class MailWorker {
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private timer: NodeJS.Timeout | null = null;
  private active: Promise<void> | null = null;
  private running = false;
  private nudged = false;
  /** When the next send may start (`maxRate`), in `performance.now()` time. */
  private nextSendAt = -Infinity;
  /** Aborted by `stop()`: ends a wait for the next send at once. */
  private stopping = new AbortController();

  constructor(private readonly options: MailWorkerOptions) {
    this.batchSize = options.batchSize ?? 20;
    this.leaseMs = options.leaseMs ?? Math.max(2 * MAX_SEND_MS, 120_000);
  }

  /** Starts polling, with a first pass right away for rows left by a previous run. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = new AbortController();
    this.schedule(0);
  }

  /** Runs a pass soon; called after a commit that may have queued mail. */
  nudge(): void {
    if (!this.running) return;
    if (this.active) this.nudged = true;
    else this.schedule(0);
  }

  /** Stops polling and waits for a send in flight; rows claimed but not yet sent are released. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.active;
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.pass();
    }, ms);
    // The HTTP server keeps a running service alive; a forgotten worker should not.
    this.timer.unref();
  }

  private async pass(): Promise<void> {
    if (this.active || !this.running) return;
    this.nudged = false;
    this.active = this.drain().catch((error: unknown) => {
      this.options.logger.error({ err: error }, 'mail worker pass failed; retrying at the next poll');
    });
    await this.active;
    this.active = null;
    // A nudge may have arrived while the pass ran (TypeScript narrows `nudged` to false from above).
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    if (this.running) this.schedule(this.nudged ? 0 : this.options.pollIntervalMs);
  }

  private async drain(): Promise<void> {
    for (;;) {
      const claimed = await this.claimDue();
      const events = await this.eventsOf(claimed);
      for (const [index, claim] of claimed.entries()) {
        await this.keepToRate();
        if (!this.running) {
          await this.release(claimed.slice(index));
          return;
        }
        const event = claim.row.auditEvent ? events.get(claim.row.auditEvent.id) : undefined;
        await this.deliver(claim, contentOf(claim.row, event, this.options.templates));
      }
      if (claimed.length < this.batchSize || !this.running) return;
    }
  }

  /** Waits until the next send may start (`maxRate`); returns at once on `stop()`. */
  private async keepToRate(): Promise<void> {
    const { maxRate } = this.options;
    if (!maxRate) return;
    const wait = this.nextSendAt - performance.now();
    if (wait > 0) await sleep(wait, undefined, { signal: this.stopping.signal }).catch(() => undefined);
    this.nextSendAt = Math.max(this.nextSendAt, performance.now()) + 1000 / maxRate;
  }

  /**
   * Claims due rows one by one with a compare-and-set on the state just read
   * (attempts, status, lease). Of several instances that read the same row,
   * exactly one update matches; the others move on.
   */
  private async claimDue(): Promise<Claimed[]> {
    const now = this.options.clock.now();
    const em = this.options.orm.em.fork();
    const due = await findDue(em, now, this.batchSize, this.options.databaseKind ?? 'sqlite');
    const unclaimed = unclaimedAt(now);
    const lockedUntil = new Date(now.getTime() + this.leaseMs);
    const claimed: Claimed[] = [];
    for (const row of due) {
      const attempt = row.attempts + 1;
      const won = await em.nativeUpdate(
        OutboxMessage,
        { id: row.id, status: 'PENDING', attempts: row.attempts, nextAttemptAt: { $lte: now }, ...unclaimed },
        { lockedUntil, attempts: attempt },
      );
      if (won === 1) claimed.push({ row, attempt });
    }
    return claimed;
  }

  /** The audit events the claimed rows report, by id, in one query. */
  private async eventsOf(claimed: readonly Claimed[]): Promise<Map<number, AuditEvent>> {
    const ids = claimed.flatMap(({ row }) => (row.text === null && row.auditEvent ? [row.auditEvent.id] : []));
    if (ids.length === 0) return new Map();
    const events = await this.options.orm.em.fork().find(AuditEvent, { id: { $in: ids } });
    return new Map(events.map((event) => [event.id, event]));
  }

  private async deliver({ row, attempt }: Claimed, content: MailContent | Unsendable): Promise<void> {
    const { transport, logger, clock } = this.options;
    const em = this.options.orm.em.fork();
    const mine = { id: row.id, status: 'PENDING' as const, attempts: attempt };
    if ('unsendable' in content) {
      // No attempt can do better: the row fails now, with the reason, rather than after every retry.
      await em.nativeUpdate(OutboxMessage, mine, { status: 'FAILED', lockedUntil: null, lastError: content.unsendable });
      this.options.metrics?.mailDeliveries.inc({ outcome: 'failed' });
      logger.error({ outboxId: row.id, kind: row.kind, error: content.unsendable }, `outbox row ${row.id} cannot be sent`);
      return;
    }
    try {
      await transport.send({
        messageId: messageIdFor(row, this.options.messageIdDomain),
        from: this.options.from,
        to: row.recipient,
        subject: content.subject,
        text: content.text,
        html: content.html,
        date: row.createdAt,
        fileName: `${row.createdAt.toISOString().replace(/[-:.]/g, '')}-outbox-${row.id}.eml`,
      });
    } catch (error) {
      const lastError = describeError(error);
      const log = { outboxId: row.id, kind: row.kind, attempt, maxAttempts: this.options.maxAttempts, error: lastError };
      if (attempt >= this.options.maxAttempts) {
        await em.nativeUpdate(OutboxMessage, mine, { status: 'FAILED', lockedUntil: null, lastError });
        this.options.metrics?.mailDeliveries.inc({ outcome: 'failed' });
        logger.error(log, `mail delivery failed for outbox row ${row.id}; giving up after ${attempt} attempts`);
      } else {
        const delay = retryDelay(attempt, this.options.retry, this.options.random);
        const nextAttemptAt = new Date(clock.now().getTime() + delay);
        await em.nativeUpdate(OutboxMessage, mine, { nextAttemptAt, lockedUntil: null, lastError });
        this.options.metrics?.mailDeliveries.inc({ outcome: 'retry' });
        logger.warn({ ...log, nextAttemptAt }, `mail delivery failed for outbox row ${row.id}; will retry`);
      }
      return;
    }
    // If this fails, the row is sent again once the claim runs out, with the same Message-ID.
    this.options.metrics?.mailDeliveries.inc({ outcome: 'sent' });
    await em.nativeUpdate(OutboxMessage, mine, { status: 'SENT', sentAt: clock.now(), lockedUntil: null });
    logger.debug({ outboxId: row.id, kind: row.kind, attempt, transport: transport.kind }, 'mail sent');
  }

  private async release(claims: readonly Claimed[]): Promise<void> {
    const em = this.options.orm.em.fork();
    for (const { row, attempt } of claims) {
      await em.nativeUpdate(
        OutboxMessage,
        { id: row.id, status: 'PENDING', attempts: attempt },
        { lockedUntil: null, attempts: attempt - 1 },
      );
    }
  }
}

/** The claim's planner settings on PostgreSQL, for its transaction only (see `findDue`). */
const CLAIM_PLAN = ['set local enable_bitmapscan = off', 'set local enable_seqscan = off'] as const;

/**
 * The first `limit` rows due to be sent at `now` and claimed by nobody, in
 * `(priority, id)` order (see `mailPriority`; then oldest first), read off
 * the `(status, priority, id)` index.
 *
 * On PostgreSQL the read runs with bitmap and sequential scans off
 * (`CLAIM_PLAN`): right after a sweep has queued 100,000 emails the table's
 * statistics still say it is nearly empty, and the planner then sorted every
 * pending row to find the first 20 (138 ms a claim at 1,000,000 tokens,
 * bench/REPORT.md), until autovacuum analysed the table. The index scan
 * reads 20 rows whatever the statistics say.
 */
export function findDue(em: EntityManager, now: Date, limit: number, kind: DatabaseKind): Promise<OutboxMessage[]> {
  const find = (from: EntityManager) =>
    from.find(
      OutboxMessage,
      { status: 'PENDING', nextAttemptAt: { $lte: now }, ...unclaimedAt(now) },
      { orderBy: { priority: 'asc', id: 'asc' }, limit },
    );
  if (kind === 'sqlite') return find(em);
  return em.transactional(async (tx) => {
    for (const setting of CLAIM_PLAN) await tx.getConnection().execute(setting, [], 'run', tx.getTransactionContext());
    return find(tx);
  });
}

/** No claim on the row, or one that ran out by `now`. */
function unclaimedAt(now: Date) {
  return { $or: [{ lockedUntil: null }, { lockedUntil: { $lte: now } }] };
}

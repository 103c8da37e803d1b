import { AsyncLocalStorage } from 'node:async_hooks';
import type { EntityManager, MikroORM } from '@mikro-orm/core';
import { retryWhileBusy } from '../db/orm.js';
import type { AuditEvent } from './audit-event.entity.js';
import type { AuditLog, AuditRecord } from './audit-log.js';

/** What a unit of work sees: its transaction's entity manager and the audit trail. */
export interface Tx {
  readonly em: EntityManager;
  record(record: AuditRecord): Promise<AuditEvent>;
  /** Many at once, in one insert (see `AuditLog.recordMany`). */
  recordMany(records: readonly AuditRecord[]): Promise<AuditEvent[]>;
}

/**
 * Runs one change in one transaction: the change, its audit events and
 * whatever the audit hooks add (the outbox email) commit together or not at
 * all; `work` may run more than once, so it must not act outside `tx`. The
 * recorded events are handed to `publish` only after commit, so nobody hears
 * of a change that was rolled back.
 */
export class Changes {
  /** The change this call runs inside, if any: a nested `run` joins it instead of committing on its own. */
  private readonly current = new AsyncLocalStorage<Tx>();

  constructor(
    private readonly orm: MikroORM,
    private readonly audit: AuditLog,
    private readonly publish: (events: readonly AuditEvent[]) => void | Promise<void>,
  ) {}

  /** Whether the caller already runs inside a change (so a failed statement has spoiled the whole transaction). */
  get joined(): boolean {
    return this.current.getStore() !== undefined;
  }

  /**
   * A `run` inside another `run` (a SCIM request made of several admin
   * changes) is part of the outer one: one transaction, one commit, and its
   * events are published with the outer change's, after that commit.
   */
  async run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    const outer = this.current.getStore();
    if (outer) return work(outer);
    // On SQLite, another process (the admin CLI) may commit between this
    // change's read and its write, which SQLite refuses as "busy": the whole
    // change runs again from a fresh read, and what the attempt that
    // committed recorded is what gets published.
    const { result, recorded } = await retryWhileBusy(async () => {
      const recorded: AuditEvent[] = [];
      const result = await this.orm.em.fork().transactional(async (em) => {
        const tx: Tx = {
          em,
          record: async (record) => {
            const event = await this.audit.record(em, record);
            recorded.push(event);
            return event;
          },
          recordMany: async (records) => {
            const events = await this.audit.recordMany(em, records);
            recorded.push(...events);
            return events;
          },
        };
        return this.current.run(tx, () => work(tx));
      });
      return { result, recorded };
    });
    // Awaited, so a change is acknowledged only once other instances have been sent it.
    if (recorded.length) await this.publish(recorded);
    return result;
  }
}

import type { MikroORM } from '@mikro-orm/core';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { databaseKind } from '../db/mikro-orm.config.js';
import type { Metrics } from '../metrics/metrics.js';
import { messageIdDomain } from './delivery-rules.js';
import { MailWorker } from './mail-worker.js';
import { outboxCounts, type OutboxCounts } from './outbox.js';
import { createMailTransport } from './transport.js';

/** Email as the app wires it: the outbox hook, the transport and the delivery worker. */
export interface Mail {
  /** Starts delivering; rows left pending by an earlier run go first. */
  start(): void;
  /** Call after a commit that may have queued mail, so it goes out now rather than at the next poll. */
  nudge(): void;
  /** Stops delivering, after the send in flight; closes the transport. */
  stop(): Promise<void>;
  /** The queue as operators see it on `/readyz`. */
  status(): Promise<OutboxCounts & { readonly transport: 'smtp' | 'file' }>;
}

export interface MailDeps {
  readonly config: Config;
  readonly orm: MikroORM;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics?: Pick<Metrics, 'mailDeliveries'>;
}

/**
 * Builds the transport and the (not yet started) worker. The outbox rows come
 * from `queueMailFor()`, an audit hook the composition root gives the AuditLog.
 */
export function createMail({ config, orm, clock, logger, metrics }: MailDeps): Mail {
  const transport = createMailTransport({ smtpUrl: config.smtpUrl, dataDir: config.dataDir, logger });
  const worker = new MailWorker({
    orm,
    transport,
    clock,
    logger,
    from: config.mailFrom,
    messageIdDomain: messageIdDomain(config.mailFrom, config.appUrl),
    templates: { appUrl: config.appUrl },
    pollIntervalMs: config.mailPollInterval.ms,
    maxAttempts: config.mailMaxAttempts,
    maxRate: config.mailMaxRate,
    databaseKind: databaseKind(config.databaseUrl),
    ...(metrics ? { metrics } : {}),
  });
  return {
    start: () => worker.start(),
    nudge: () => worker.nudge(),
    async stop() {
      await worker.stop();
      transport.close();
    },
    async status() {
      return { transport: transport.kind, ...(await outboxCounts(orm.em.fork())) };
    },
  };
}

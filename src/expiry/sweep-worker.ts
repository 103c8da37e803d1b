/**
 * The sweep thread's entry point (see `SweepThread`): a sweeper with its own
 * event loop and its own database connections, so that a sweep of 100,000
 * expired tokens never holds up the loop that answers requests. Each change
 * it commits goes to the host thread, which publishes the events as its own
 * changes' are (cache invalidation, the hub, the mail worker's nudge); the
 * next batch waits until that is done, as it would in the host.
 */
import 'reflect-metadata';
import { Writable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { MikroORM } from '@mikro-orm/core';
import { pino } from 'pino';
import type { AuditEvent } from '../audit/audit-event.entity.js';
import { AuditLog } from '../audit/audit-log.js';
import { Changes } from '../audit/changes.js';
import { systemClock } from '../clock.js';
import { ormConfig } from '../db/mikro-orm.config.js';
import { locksRows } from '../db/orm.js';
import { queueMailFor } from '../mail/outbox.js';
import { TokenService } from '../tokens/token.service.js';
import type { FromSweepThread, SweepWorkerData, ToSweepThread } from './sweep-protocol.js';
import { Sweeper, type SweepMetrics } from './sweeper.js';

const port = parentPort;
if (!port) throw new Error('sweep-worker.js runs only as a worker thread (see SweepThread)');
const settings = workerData as SweepWorkerData;
const post = (message: FromSweepThread) => port.postMessage(message);

// Every line goes to the host, which logs it with its own logger (level, format and redaction).
const logger = pino(
  { level: settings.logLevel },
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      post({ kind: 'log', line: chunk.toString() });
      done();
    },
  }),
);

const waiting = new Map<number, () => void>();
let seq = 0;
/** Resolves once the host has published the change's events. */
const published = (events: readonly AuditEvent[]) =>
  new Promise<void>((resolve) => {
    waiting.set(++seq, resolve);
    post({ kind: 'committed', seq, events });
  });

// The host has migrated the database already: this connection only opens it.
const orm = await MikroORM.init({ ...ormConfig(settings.databaseUrl, logger), pool: { min: 0, max: 2 } });
const changes = new Changes(orm, new AuditLog(settings.region, [queueMailFor()]), published);
const tokens = new TokenService(orm, changes, systemClock, settings);
/** The sweep thread's counts and sweeps, told to the host, which keeps the service's metrics. */
const metrics: SweepMetrics = {
  sweeps: { inc: ({ outcome }) => post({ kind: 'swept', outcome, completedAt: sweeper.lastCompletedAt }) },
  tokensExpired: { inc: (n) => post({ kind: 'counted', metric: 'tokensExpired', n }) },
  expiryWarnings: { inc: (n) => post({ kind: 'counted', metric: 'expiryWarnings', n }) },
};
const sweeper: Sweeper = new Sweeper({
  changes,
  tokens,
  clock: systemClock,
  config: settings,
  logger,
  metrics,
  lockRows: locksRows(settings.databaseUrl),
});

port.on('message', (message: ToSweepThread) => {
  if (message.kind === 'published') {
    waiting.get(message.seq)?.();
    waiting.delete(message.seq);
    return;
  }
  void (async () => {
    await sweeper.stop();
    await orm.close();
    // Nothing is left to run: the thread ends, and the host sees it exit.
    port.close();
  })();
});
sweeper.start();

import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { AuditEvent } from '../audit/audit-event.entity.js';
import type { FromSweepThread, SweepSettings, SweepWorkerData, ToSweepThread } from './sweep-protocol.js';
import type { SweepMetrics } from './sweeper.js';

export interface SweepThreadOptions {
  /** The compiled `sweep-worker.js`. */
  readonly workerUrl: URL;
  readonly settings: SweepSettings;
  /** Publishes a committed change's events, as the host's own changes are published. */
  readonly afterCommit: (events: readonly AuditEvent[]) => void | Promise<void>;
  readonly logger: Logger;
  readonly metrics?: SweepMetrics;
}

/** How long `stop()` waits for the thread to finish its batch before it is terminated. */
const STOP_WAIT_MS = 15_000;

/**
 * Runs the expiry sweeper on its own thread (PostgreSQL), with its own event
 * loop and connections: the rows, statements and events of a sweep of
 * 100,000 tokens are built there, not on the loop that answers requests
 * (bench/REPORT.md). Its changes' events are published here, by
 * `afterCommit`, before its next batch starts. A thread that dies is started
 * again after a sweep interval; what it had committed reaches every instance
 * through the stored log, as after a crash.
 */
export class SweepThread {
  private worker: Worker | null = null;
  private stopping = false;
  private restart: NodeJS.Timeout | null = null;
  /** When the thread last completed a sweep (for the sweep-lag metric); null before the first. */
  lastCompletedAt: Date | null = null;

  constructor(private readonly options: SweepThreadOptions) {}

  start(): void {
    if (this.stopping || this.worker) return;
    const workerData: SweepWorkerData = { ...this.options.settings, logLevel: this.options.logger.level };
    const worker = new Worker(this.options.workerUrl, { workerData });
    this.worker = worker;
    worker.on('message', (message: FromSweepThread) => this.receive(worker, message));
    worker.on('error', (error) => this.options.logger.error({ err: error }, 'the sweep thread failed'));
    worker.on('exit', (code) => {
      this.worker = null;
      if (this.stopping) return;
      this.options.logger.error({ code }, 'the sweep thread stopped unexpectedly; starting it again after a sweep interval');
      this.options.metrics?.sweeps.inc({ outcome: 'failed' });
      this.restart = setTimeout(() => this.start(), this.options.settings.sweepInterval.ms);
      this.restart.unref();
    });
  }

  /** Lets the batch in progress finish (its events published), then ends the thread. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restart) clearTimeout(this.restart);
    const { worker } = this;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    this.send(worker, { kind: 'stop' });
    const timer = setTimeout(() => void worker.terminate(), STOP_WAIT_MS);
    await exited;
    clearTimeout(timer);
  }

  private receive(worker: Worker, message: FromSweepThread): void {
    const { metrics, logger } = this.options;
    switch (message.kind) {
      case 'committed':
        void this.publish(message.events).finally(() => this.send(worker, { kind: 'published', seq: message.seq }));
        return;
      case 'counted':
        metrics?.[message.metric].inc(message.n);
        return;
      case 'swept':
        if (message.outcome === 'ok') this.lastCompletedAt = message.completedAt;
        metrics?.sweeps.inc({ outcome: message.outcome });
        return;
      case 'log':
        relog(logger, message.line);
        return;
    }
  }

  private async publish(events: readonly AuditEvent[]): Promise<void> {
    try {
      await this.options.afterCommit(events);
    } catch (error) {
      // As in the host's own changes: the stored log delivers what could not be published.
      this.options.logger.error({ err: error }, 'could not publish the sweep thread’s events');
    }
  }

  private send(worker: Worker, message: ToSweepThread): void {
    worker.postMessage(message);
  }
}

const LEVELS: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/** Logs a line the thread's pino wrote with the host's logger, without the thread's own time, pid and host. */
function relog(logger: Logger, line: string): void {
  try {
    const { level, msg, time: _time, pid: _pid, hostname: _hostname, ...fields } = JSON.parse(line) as Record<string, unknown>;
    logger[LEVELS[Number(level)] ?? 'info']({ thread: 'sweep', ...fields }, typeof msg === 'string' ? msg : '');
  } catch {
    logger.warn({ thread: 'sweep', line }, 'unreadable log line from the sweep thread');
  }
}

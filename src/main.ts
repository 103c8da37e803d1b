import 'reflect-metadata';
import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger, prettyLogs } from './logger.js';

/** Longer than the HTTP close grace period (10 s), so requests in flight get theirs. */
const SHUTDOWN_TIMEOUT_MS = 25_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env, { server: true });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel, { pretty: prettyLogs(config) });
  const app = createApp(config, { logger, ...killedAfterCommit(config.env) });
  const running = await app.start();
  logger.info(
    { url: running.url, region: config.region, database: config.databaseUrl.split(':')[0] },
    // Only where development sign-in works: production has no demo users to name.
    `API token service listening on ${running.url}.` +
      (config.devSignIn ? ' Sign in on the page, or get a session with: npm run -s session -- alice@example.com' : ''),
  );

  // SIGTERM: stop accepting, let requests in flight finish (their commits
  // included), close sockets with GOING_AWAY, stop the sweeper and mail worker
  // between batches, then close the database (see App.stop). Should that
  // hang, exit anyway before an orchestrator's kill does it less cleanly.
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    app.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

/**
 * Fault injection for the tests of delivery from the stored log: with
 * NODE_ENV=test and `TEST_FAULT_SIGKILL_AFTER_COMMIT=<audit action>` (e.g.
 * REVOKED), the process kills itself (SIGKILL) right after committing a
 * change that recorded that action, before anyone hears of it. Inert in any
 * other environment.
 */
function killedAfterCommit(env: string): { afterCommit?: (recorded: readonly { action: string }[]) => void } {
  const action = process.env['TEST_FAULT_SIGKILL_AFTER_COMMIT'];
  if (env !== 'test' || !action) return {};
  return {
    afterCommit: (recorded) => {
      if (recorded.some((event) => event.action === action)) process.kill(process.pid, 'SIGKILL');
    },
  };
}

main().catch((error: unknown) => {
  process.stderr.write(`API token service failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

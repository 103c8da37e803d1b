import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { runAdminCommand } from '../../src/cli/admin-command.js';
import { systemClock } from '../../src/clock.js';
import { loadConfig, type Config } from '../../src/config.js';
import { TEST_SESSION_SECRET } from '../support/test-app.js';

export interface AdminCli {
  /** Runs `npm run -s admin -- ...argv` in this process; resolves to its exit code. */
  readonly run: (...argv: string[]) => Promise<number>;
  /** What the last run printed, line by line (emptied at each run). */
  readonly out: string[];
  readonly err: string[];
  /** The CLI's configuration and data folder, set before the first test. */
  readonly config: () => Config;
  readonly dataDir: () => string;
}

/**
 * The admin CLI on a database of its own, for the `describe` it is called in.
 * Development posture on purpose: the CLI must not seed the demo data even then.
 */
export function adminCli(prefix: string): AdminCli {
  let dataDir = '';
  let config: Config | null = null;
  const out: string[] = [];
  const err: string[] = [];
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), prefix));
    config = loadConfig({ NODE_ENV: 'development', DATA_DIR: dataDir, SESSION_SECRET: TEST_SESSION_SECRET, LOG_LEVEL: 'silent' });
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });
  const current = (): Config => {
    if (!config) throw new Error('adminCli: used before its beforeAll ran');
    return config;
  };
  return {
    run: (...argv) => {
      out.length = 0;
      err.length = 0;
      return runAdminCommand(argv, {
        config: current(),
        clock: systemClock,
        logger: pino({ level: 'silent' }),
        out: (text) => out.push(text),
        err: (text) => err.push(text),
      });
    },
    out,
    err,
    config: current,
    dataDir: () => dataDir,
  };
}

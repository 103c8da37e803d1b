import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { createApp, type App, type Running, type Timeouts } from '../../src/app.js';
import type { Clock } from '../../src/clock.js';
import { loadConfig, type Config } from '../../src/config.js';
import { TEST_SWEEP_WORKER, TEST_WEB_DIR } from './test-build.js';

export interface GqlResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: {
    data?: T | null;
    errors?: { message: string; extensions?: { code?: string; [key: string]: unknown } }[];
  };
}

export interface TestApp {
  readonly app: App;
  readonly running: Running;
  readonly config: Config;
  readonly dataDir: string;
  readonly url: string;
  /** A session JWT for a seeded user. */
  session(email: string): Promise<string>;
  /** POSTs a GraphQL operation; `auth` is a session JWT or API token. */
  gql<T = Record<string, unknown>>(
    query: string,
    options?: { auth?: string; variables?: Record<string, unknown> },
  ): Promise<GqlResponse<T>>;
  /** Stops the app; with `keepData`, the data dir survives for a restart. */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

/** One per test file (vitest runs each in its own process); the instances a file starts share it. */
const REDIS_TEST_PREFIX = `api-tokens-test:${randomBytes(6).toString('hex')}:`;

export const TEST_SESSION_SECRET = 'test-session-secret-that-is-long-enough-0123456789';
/** Unlocks `/readyz` details (the mail queue) in tests that read them. */
export const TEST_METRICS_TOKEN = 'test-metrics-token-that-is-long-enough-0123456789';

/**
 * Starts the real service on a free port with its own SQLite file (or the
 * `DATABASE_URL` given in `env`), silent logs (or `deps.logger`) and the demo seed.
 */
export async function startTestApp(
  env: Record<string, string> = {},
  deps: { clock?: Clock; dataDir?: string; autoSweep?: boolean; logger?: Logger; timeouts?: Timeouts } = {},
): Promise<TestApp> {
  const dataDir = deps.dataDir ?? (await mkdtemp(join(tmpdir(), 'api-tokens-test-')));
  const config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    SESSION_SECRET: TEST_SESSION_SECRET,
    METRICS_TOKEN: TEST_METRICS_TOKEN,
    // Rate-limit counters in the machine's Redis outlive a run: each test process counts in keys of its own.
    REDIS_KEY_PREFIX: REDIS_TEST_PREFIX,
    ...env,
  });
  const app = createApp(config, {
    webDir: TEST_WEB_DIR,
    sweepWorker: TEST_SWEEP_WORKER,
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.logger ? { logger: deps.logger } : {}),
    ...(deps.autoSweep === undefined ? {} : { autoSweep: deps.autoSweep }),
    ...(deps.timeouts ? { timeouts: deps.timeouts } : {}),
  });
  const running = await app.start();
  return {
    app,
    running,
    config,
    dataDir,
    url: running.url,
    async session(email) {
      const user = await running.services.users.findByEmail(email);
      if (!user) throw new Error(`no seeded user ${email}`);
      return running.sessions.sign(user);
    },
    async gql(query, options = {}) {
      const response = await fetch(running.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(options.auth ? { authorization: `Bearer ${options.auth}` } : {}),
        },
        body: JSON.stringify({ query, variables: options.variables }),
      });
      return { status: response.status, headers: response.headers, body: (await response.json()) as never };
    },
    async stop(options = {}) {
      await app.stop();
      if (!options.keepData && !deps.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The `extensions.code` of the first error, if any. */
export function errorCode(response: GqlResponse): string | undefined {
  return response.body.errors?.[0]?.extensions?.code;
}

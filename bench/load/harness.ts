import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import pino from 'pino';
import { prepareDatabase } from '../../src/app.js';
import { SessionVerifier } from '../../src/auth/session.js';
import { systemClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { UserService } from '../../src/users/user.service.js';
import { freePort } from '../../test/support/own-redis.js';

const SESSION_SECRET = 'bench-session-secret-that-is-long-enough-0123456789';
export const CLIENT = { id: 'bench', secret: 'bench-introspection-secret-0123' };
/** The build to measure: this checkout, or another one (e.g. the commit before a change) for "before" figures. */
export const SERVER_DIR = resolve(process.env['BENCH_SERVER_DIR'] ?? '.');

export interface BenchServer {
  readonly url: string;
  readonly pid: number;
  rssKiB(): Promise<number>;
  stop(): Promise<void>;
}

/** Seeds the demo data into a database (development mode does that) and signs a session for `email`. */
export async function seed(databaseUrl: string, dataDir: string, email: string): Promise<{ session: string }> {
  const config = loadConfig({ NODE_ENV: 'development', DATA_DIR: dataDir, DATABASE_URL: databaseUrl, SESSION_SECRET, LOG_LEVEL: 'silent' });
  const orm = await prepareDatabase(config, systemClock, pino({ level: 'silent' }));
  try {
    const user = await new UserService(orm).findByEmail(email);
    if (!user) throw new Error(`no user ${email}`);
    return { session: await new SessionVerifier(new TextEncoder().encode(SESSION_SECRET), config.session).sign(user) };
  } finally {
    await orm.close();
  }
}

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'api-tokens-bench-'));
}

/** The service in production posture, in its own process, built from SERVER_DIR. */
export async function startServer(env: Record<string, string>): Promise<BenchServer> {
  const port = await freePort();
  // BENCH_CPU_PROF=<dir>: each server writes a CPU profile there when it stops.
  const profile = process.env['BENCH_CPU_PROF'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_CPU_PROF']}`] : [];
  const args = [...profile, join(SERVER_DIR, 'scripts/run-built.mjs'), 'dist/src/main.js'];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: SERVER_DIR,
    env: {
      PATH: process.env['PATH'] ?? '',
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      SESSION_SECRET,
      INTROSPECTION_CLIENTS: `${CLIENT.id}:${CLIENT.secret}`,
      LOG_LEVEL: 'warn',
      // The load is one client hammering one user: the abuse limits (issue 9) would refuse it,
      // and what is measured here is the work of a request, not the limits.
      RATE_LIMIT_TOKEN_CHANGES: '1000000/PT1H',
      RATE_LIMIT_AUTH_FAILURES: '1000000/PT1M',
      RATE_LIMIT_INTROSPECTION: '9999999/PT1M',
      RATE_LIMIT_REVOKE: '1000000/PT1M',
      WS_MAX_SUBSCRIPTIONS_PER_USER: '100000',
      REDIS_KEY_PREFIX: `bench:${randomBytes(6).toString('hex')}:`,
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      if (attempt > 600) throw new Error('server did not start');
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  return {
    url,
    pid: child.pid ?? 0,
    async rssKiB() {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
    },
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) {
          done();
          return;
        }
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}

export async function graphql<T>(url: string, query: string, auth?: string): Promise<T> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
    body: JSON.stringify({ query }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown };
  if (!body.data) throw new Error(JSON.stringify(body));
  return body.data;
}

export interface Load {
  readonly rps: number;
  readonly p99: number;
  readonly errors: number;
}

/** One autocannon round: 50 connections for `seconds`. */
async function load(options: autocannon.Options): Promise<Load> {
  const result = await autocannon({ connections: 50, duration: 5, ...options });
  const bad = result.errors + result.timeouts + result.non2xx;
  return { rps: result.requests.average, p99: result.latency.p99, errors: bad };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? Number.NaN) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/**
 * Alternates baseline and candidate rounds (so drift on a shared machine hits
 * both alike) and returns the median of the per-round ratios.
 */
export async function compare(
  baseline: autocannon.Options,
  candidate: autocannon.Options,
  rounds = 3,
): Promise<{ rpsRatio: number; p99Ratio: number; baseline: Load[]; candidate: Load[] }> {
  const base: Load[] = [];
  const cand: Load[] = [];
  await load({ ...baseline, duration: 2 });
  await load({ ...candidate, duration: 2 });
  for (let round = 0; round < rounds; round++) {
    base.push(await load(baseline));
    cand.push(await load(candidate));
  }
  return {
    rpsRatio: median(cand.map((c, i) => c.rps / (base[i]?.rps ?? Number.NaN))),
    p99Ratio: median(cand.map((c, i) => Math.max(c.p99, 1) / Math.max(base[i]?.p99 ?? Number.NaN, 1))),
    baseline: base,
    candidate: cand,
  };
}

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
  const profile = process.env['BENCH_CPU_PROF']
    ? ['--cpu-prof', '--cpu-prof-interval=100', `--cpu-prof-dir=${process.env['BENCH_CPU_PROF']}`]
    : [];
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

interface Load {
  readonly rps: number;
  readonly p99: number;
  readonly errors: number;
  /** Requests per second of the server's own CPU time (user + system): what rps would be on a core of its own. */
  readonly rpsPerCpuSecond: number;
}

/** CPU time (user + system, in clock ticks of 10 ms) the process has used so far. */
async function cpuTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** One autocannon round: 50 connections for `seconds`, and the server's CPU time over it. */
async function load(server: BenchServer, options: autocannon.Options): Promise<Load> {
  const before = await cpuTicks(server.pid);
  const result = await autocannon({ connections: 50, duration: 5, ...options });
  const cpuSeconds = ((await cpuTicks(server.pid)) - before) / 100;
  const bad = result.errors + result.timeouts + result.non2xx;
  return { rps: result.requests.average, p99: result.latency.p99, errors: bad, rpsPerCpuSecond: result.requests.total / cpuSeconds };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? Number.NaN) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

export interface Comparison {
  /** Median over rounds of candidate rps / baseline rps: the target's figure. */
  readonly rpsRatio: number;
  readonly p99Ratio: number;
  /**
   * The same ratio per second of the server's CPU time. On this shared
   * 2-core machine rps swings with the other tenants' load; the CPU each
   * request costs does not, so this is the steadier reading of the same thing
   * (the server is CPU-bound under this load).
   */
  readonly cpuRatio: number;
  readonly baseline: Load[];
  readonly candidate: Load[];
}

/**
 * Alternates baseline and candidate rounds (so drift on a shared machine hits
 * both alike) and returns the median of the per-round ratios.
 */
export async function compare(
  server: BenchServer,
  baseline: autocannon.Options,
  candidate: autocannon.Options,
  rounds = 3,
): Promise<Comparison> {
  const base: Load[] = [];
  const cand: Load[] = [];
  await load(server, { ...baseline, duration: 2 });
  await load(server, { ...candidate, duration: 2 });
  for (let round = 0; round < rounds; round++) {
    base.push(await load(server, baseline));
    cand.push(await load(server, candidate));
  }
  const ratios = (of: (load: Load) => number) => cand.map((c, i) => of(c) / of(base[i] ?? c));
  return {
    rpsRatio: median(ratios((l) => l.rps)),
    p99Ratio: median(cand.map((c, i) => Math.max(c.p99, 1) / Math.max(base[i]?.p99 ?? Number.NaN, 1))),
    cpuRatio: median(ratios((l) => l.rpsPerCpuSecond)),
    baseline: base,
    candidate: cand,
  };
}

import { randomBytes } from 'node:crypto';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { request as httpRequest, type Agent } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import autocannon from 'autocannon';
import pino from 'pino';
import { prepareDatabase } from '../../src/wiring/database.js';
import { SessionVerifier } from '../../src/auth/session.js';
import { systemClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { Organization } from '../../src/users/organization.entity.js';
import { Role } from '../../src/auth/role.js';
import { User } from '../../src/users/user.entity.js';
import { UserService } from '../../src/users/user.service.js';
import { freePort } from '../../test/support/ports.js';
import { serverEnv } from './server-env.js';

const SESSION_SECRET = 'bench-session-secret-that-is-long-enough-0123456789';
/** The build to measure: this checkout, or another one (e.g. the commit before a change) for "before" figures. */
export const SERVER_DIR = resolve(process.env['BENCH_SERVER_DIR'] ?? '.');
/**
 * The Node that runs the server: `BENCH_SERVER_NODE=/usr/bin/node` runs
 * another build on the runtime it was built for. By default the bench's own.
 */
const SERVER_NODE = process.env['BENCH_SERVER_NODE'] ?? process.execPath;
export const SERVER_NODE_VERSION = execFileSync(SERVER_NODE, ['-v'], { encoding: 'utf8' }).trim();

export interface BenchServer {
  readonly url: string;
  readonly pid: number;
  rssKiB(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Seeds the demo data into a database (development mode does that), adds
 * `users` more users of their own (`bench-<n>@example.com`, role USER), and
 * signs a session for `email` and for each added user. Many users let the
 * load look like production at the default per-user limits: one user holding
 * 2,000 sockets or making 30 token changes a minute is an abuser there.
 */
export async function seed(
  databaseUrl: string,
  dataDir: string,
  email: string,
  users = 0,
): Promise<{ session: string; users: { id: string; session: string }[] }> {
  const config = loadConfig({ NODE_ENV: 'development', DATA_DIR: dataDir, DATABASE_URL: databaseUrl, SESSION_SECRET, LOG_LEVEL: 'silent' });
  const orm = await prepareDatabase(config, systemClock, pino({ level: 'silent' }));
  try {
    const user = await new UserService(orm).findByEmail(email);
    if (!user) throw new Error(`no user ${email}`);
    const sessions = new SessionVerifier(new TextEncoder().encode(SESSION_SECRET), config.session);
    const added = await orm.em.fork().transactional(async (em) => {
      const organization = await em.findOneOrFail(Organization, { name: 'Acme' });
      const now = new Date();
      return Array.from({ length: users }, (_, n) =>
        em.create(User, { organization, email: `bench-${n}@example.com`, name: `Bench ${n}`, role: Role.USER, createdAt: now }),
      );
    });
    return {
      session: await sessions.sign(user),
      users: await Promise.all(added.map(async (u) => ({ id: u.id, session: await sessions.sign(u) }))),
    };
  } finally {
    await orm.close();
  }
}

/**
 * The n-th of many loopback addresses (127.1.0.1 onwards). Linux answers on
 * all of 127/8, so each simulated user can come from an address of its own:
 * per-address budgets and caps then see many clients, as in production,
 * instead of one address doing everyone's work.
 */
export function loopback(n: number): string {
  return `127.${1 + Math.floor(n / 62_500)}.${Math.floor(n / 250) % 250}.${1 + (n % 250)}`;
}

/** `count` introspection clients (`bench-<n>`) with their secrets: INTROSPECTION_CLIENTS and the Basic headers. */
export function introspectionClients(count: number): { env: string; authorizations: string[] } {
  const clients = Array.from({ length: count }, (_, n) => ({ id: `bench-${n}`, secret: `bench-introspection-secret-${n}-0123` }));
  return {
    env: clients.map((c) => `${c.id}:${c.secret}`).join(','),
    authorizations: clients.map((c) => `Basic ${Buffer.from(`${c.id}:${c.secret}`).toString('base64')}`),
  };
}

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'api-tokens-bench-'));
}

/**
 * Settings every server of a run gets (`BENCH_SERVER_ENV=NAME=value,NAME=value`), for
 * experiments: a server inherits nothing else from the bench's own environment, so a
 * setting exported in the shell would silently not reach it.
 */
const SERVER_ENV = serverEnv(process.env['BENCH_SERVER_ENV'] ?? '');

/** The service in production posture, in its own process, built from SERVER_DIR. */
export async function startServer(env: Record<string, string>): Promise<BenchServer> {
  const port = await freePort();
  // BENCH_CPU_PROF=<dir>: each server writes a CPU profile there when it stops.
  const profile = process.env['BENCH_CPU_PROF']
    ? ['--cpu-prof', '--cpu-prof-interval=100', `--cpu-prof-dir=${process.env['BENCH_CPU_PROF']}`]
    : [];
  const args = [...profile, join(SERVER_DIR, 'scripts/run-built.mjs'), 'dist/src/main.js'];
  const child: ChildProcess = spawn(SERVER_NODE, args, {
    cwd: SERVER_DIR,
    env: {
      // The server's own Node first, for anything its start-up runs (a rebuild of a stale dist/).
      PATH: `${dirname(SERVER_NODE)}:${process.env['PATH'] ?? ''}`,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      SESSION_SECRET,
      LOG_LEVEL: 'warn',
      // Every limit is at its default unless a scenario passes it in `env` (and says why).
      REDIS_KEY_PREFIX: `bench:${randomBytes(6).toString('hex')}:`,
      ...SERVER_ENV,
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

/** An HTTP POST from `localAddress` (a loopback address of its own, see `loopback`). */
export function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  localAddress?: string,
  agent?: Agent,
): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = httpRequest(
      url,
      { method: 'POST', headers, ...(localAddress ? { localAddress } : {}), ...(agent ? { agent } : {}) },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => done({ status: res.statusCode ?? 0, body: text }));
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

/** A GraphQL request that must succeed: a non-2xx answer or any `errors` entry throws (and fails the scenario). */
export async function graphql<T>(url: string, query: string, auth?: string, localAddress?: string): Promise<T> {
  const response = await post(
    `${url}/graphql`,
    JSON.stringify({ query }),
    { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
    localAddress,
  );
  const body = JSON.parse(response.body) as { data?: T; errors?: unknown };
  if (response.status < 200 || response.status > 299 || body.errors !== undefined || !body.data) {
    throw new Error(`${response.status} ${response.body}`);
  }
  return body.data;
}

interface Load {
  readonly rps: number;
  readonly p99: number;
  /**
   * Answers that were not what the scenario asked for: transport errors,
   * timeouts, non-2xx statuses and bodies that failed the scenario's check
   * (a GraphQL `errors` entry, an inactive introspection). Any fails the round.
   */
  readonly errors: number;
  /** Of `errors`: requests without an answer within autocannon's 10 s. */
  readonly timeouts: number;
  readonly non2xx: number;
  readonly mismatches: number;
  /** Requests per second of the server's own CPU time (user + system): what rps would be on a core of its own. */
  readonly rpsPerCpuSecond: number;
}

/** CPU time (user + system, in clock ticks of 10 ms) the process has used so far. */
export async function cpuTicks(pid: number): Promise<number> {
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
  const bad = result.errors + result.timeouts + result.non2xx + result.mismatches;
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    errors: bad,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    mismatches: result.mismatches,
    rpsPerCpuSecond: result.requests.total / cpuSeconds,
  };
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
  /** Rounds (warm-ups included) with any error, non-2xx or failed body check: the comparison fails if it is not 0. */
  readonly failedRounds: number;
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
  const warmUps = [await load(server, { ...baseline, duration: 2 }), await load(server, { ...candidate, duration: 2 })];
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
    failedRounds: [...warmUps, ...base, ...cand].filter((l) => l.errors > 0).length,
  };
}

import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { MikroORM } from '@mikro-orm/core';
import pg from 'pg';
import { describe, test } from 'vitest';
import pino from 'pino';
import { AdminQueries } from '../src/admin/admin-queries.service.js';
import { AuditLog } from '../src/audit/audit-log.js';
import { Changes } from '../src/audit/changes.js';
import { Sweeper } from '../src/expiry/sweeper.js';
import { findDue } from '../src/mail/mail-worker.js';
import { findTokenByDigest } from '../src/tokens/token-lookup.js';
import { digestToken } from '../src/tokens/token-format.js';
import { TokenService } from '../src/tokens/token.service.js';
import type { Principal } from '../src/auth/principal.js';
import { SessionVerifier } from '../src/auth/session.js';
import { systemClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { PrincipalResolver } from '../src/credentials/principal-resolver.js';
import { openDatabase } from '../src/db/orm.js';
import { Role } from '../src/auth/role.js';
import type { TokenUsage } from '../src/tokens/token-usage.js';
import { createTestDatabase, type TestDatabase } from '../test/support/postgres.js';
import { introspectionClients, median, percentile, startServer, tempDir, type BenchServer } from './load/harness.js';
import { cycle, drive, merged, pace, type Drive, type DrivenRequest } from './scale/drive.js';
import { busyLoops, coresOf, describeLoad, onMachine } from './scale/machine.js';
import {
  BACKLOG,
  SAMPLED,
  expireBacklog,
  noneExpiredLeft,
  fill,
  md5uuid,
  discardPendingMail,
  sampleSecrets,
  scimSecret,
  settle,
  sharedBuffers,
} from './scale/fill.js';

/**
 * `npm run bench:scale` (issue 17): PostgreSQL at 10,000 and at 1,000,000
 * users and tokens, alternating the two sizes in one run and reporting every
 * round. Filled with SQL `generate_series` (bench/scale/fill.ts): organisations
 * of 1,000 users in 10 units, one token each, a third used recently. Each
 * round, at each size (the sizes taking turns within each measurement, so
 * that the shared machine's changing load falls on both alike):
 * - every listing page, first and deep, for SUPPORT, an ADMIN of one
 *   organisation and an ADMIN scoped to one unit, through the service's own
 *   query code (in-process), p50/p99; at the large size, in the last round,
 *   the plan of each statement goes to bench/scale-explain.txt;
 * - `me` on cache hits and on misses, and introspection, against the service
 *   in production posture in its own process (bench/load/harness.ts), driven
 *   by 16 clients for DRIVE_MS (bench/scale/drive.ts);
 * - a 1,000-member SCIM group replace, and back;
 * then, after every round of those and once per round again, at the large
 * size only: the sweeper on a backlog of 100,000 expired tokens, with `me`
 * p99 during the sweep against p99 just before it (the emails the previous
 * sweep queued dropped first). Last, the heap one cached principal costs,
 * and when asked (`control`), the sweep's `me` load beside busy loops.
 * Skipped unless BENCH_SCALE=1, so `npm run bench` does not fill a million
 * rows.
 */
const SIZES = (process.env['BENCH_SCALE_SIZES'] ?? '10000,1000000').split(',').map(Number);
const ROUNDS = Number(process.env['BENCH_SCALE_ROUNDS'] ?? 2);
// p99 of 100 samples was nearly the slowest one, and of 400 the 4th slowest: a few preemptions or pauses on the
// shared cores moved it (bench/REPORT.md, runs 29 and 30). Of 1,000 it is the 10th.
const SAMPLES = Number(process.env['BENCH_SCALE_SAMPLES'] ?? 1_000);
const DRIVE_MS = Number(process.env['BENCH_SCALE_DRIVE_MS'] ?? 5_000);
/** The turns the sizes take within each DRIVE_MS of requests (see measureRequests). */
const SLICES = 5;
const enabled = process.env['BENCH_SCALE'] === '1';
/**
 * Which measurements run (`BENCH_SCALE_PARTS`, e.g. `sweep` to look at the
 * sweeper alone); all but `control` by default, the sweep's `me` load beside
 * plain busy loops instead of a sweep (see measureControl).
 */
const ALL_PARTS = ['listings', 'requests', 'groups', 'sweep', 'control'];
const PARTS = new Set((process.env['BENCH_SCALE_PARTS'] ?? 'listings,requests,groups,sweep').split(','));
for (const part of PARTS) {
  if (!ALL_PARTS.includes(part)) throw new Error(`BENCH_SCALE_PARTS: no part "${part}" (the parts: ${ALL_PARTS.join(', ')})`);
}
/** Tokens `me warm` cycles through: well within the default cache. */
const WARM = 1_000;
/** The miss server's cache: far fewer entries than the SAMPLED tokens it cycles through, so (nearly) every request misses. */
const MISS_CACHE = 100;
/** `me` requests a second around a sweep: a steady production load, well within one instance's capacity. */
const SWEEP_ME_RPS = Number(process.env['BENCH_SCALE_SWEEP_ME_RPS'] ?? 200);
/**
 * What is done to the database before each sweep (`BENCH_SCALE_BEFORE_SWEEP`):
 * `vacuum` (VACUUM ANALYZE), `checkpoint`, `settle` (both), or nothing.
 */
const BEFORE_SWEEP = process.env['BENCH_SCALE_BEFORE_SWEEP'] ?? '';
if (!['', 'vacuum', 'checkpoint', 'settle'].includes(BEFORE_SWEEP)) throw new Error(`BENCH_SCALE_BEFORE_SWEEP: "${BEFORE_SWEEP}"`);
const clients = introspectionClients(100);
const METRICS_TOKEN = randomBytes(24).toString('hex');

interface Sized {
  readonly size: number;
  readonly db: TestDatabase;
  readonly orm: MikroORM;
  readonly org: string;
  readonly unit: string;
  /** Secrets of SAMPLED tokens, spread over the table. */
  readonly secrets: readonly string[];
  /** The first organisation's SCIM token. */
  readonly scim: string;
  readonly warm: BenchServer;
  readonly miss: BenchServer;
}

function principal(role: Role, organizationId: string, units: readonly string[]): Principal {
  return {
    userId: '00000000-0000-4000-8000-000000000000',
    email: 'bench',
    name: 'bench',
    role,
    organizationId,
    businessUnitIds: units,
    businessUnits: units.map((id) => ({ id, name: id })),
    apiTokensEnabled: true,
    via: 'session',
    tokenId: null,
    tokenExpiresAt: null,
  };
}

/** The statements one listing page runs, captured as the service sends them. */
function capture(orm: MikroORM): { readonly statements: { sql: string; params: unknown[] }[]; stop(): void } {
  const connection = orm.em.getConnection();
  const original = connection.execute.bind(connection);
  const statements: { sql: string; params: unknown[] }[] = [];
  connection.execute = ((sql: string, params: unknown[] = [], ...rest: never[]) => {
    statements.push({ sql, params });
    return original(sql, params, ...rest);
  }) as typeof connection.execute;
  return { statements, stop: () => void (connection.execute = original) };
}

const report: string[] = [];
const plans: string[] = [];
/** Each round's figure per scenario and size, for the summary of ratios at the end. */
const figures = new Map<string, number[]>();

describe.skipIf(!enabled)('scale (issue 17)', () => {
  test(
    'every cost at each size, alternating',
    async () => {
      const sized: Sized[] = [];
      const largest = Math.max(...SIZES);
      try {
        for (const size of SIZES) sized.push(await prepare(size, size === largest));
        await logBufferCache(sized[0]);
        for (let round = 1; round <= ROUNDS; round++) {
          if (PARTS.has('listings'))
            await measureListings(sized, round, round === ROUNDS ? (sized.find((each) => each.size === largest) ?? null) : null);
          if (PARTS.has('requests')) await measureRequests(sized, round);
          if (PARTS.has('groups')) for (const each of sized) await measureGroupReplace(each, round);
        }
        // Last, and apart: each sweep leaves 100,000 emails that the servers then send for 40 minutes,
        // which would weigh on whatever ran next. The next sweep drops them first.
        const big = sized.find((each) => each.size === largest);
        if (big && PARTS.has('sweep')) {
          for (let round = 1; round <= ROUNDS; round++) {
            if (round > 1) await discardQueuedMail(big);
            await measureSweep(big, round);
          }
          await explainSweepAndLookup(big);
          await measureCacheMemory(big);
        }
        if (big && PARTS.has('control')) for (let round = 1; round <= ROUNDS; round++) await measureControl(big, round);
        summarise(SIZES.filter((size) => size !== largest)[0] ?? largest, largest);
      } finally {
        for (const each of sized) {
          await Promise.allSettled([each.warm.stop(), each.miss.stop()]);
          await each.orm.close();
          await each.db.drop();
        }
        await writeFile('bench/scale-results.txt', `${report.join('\n')}\n`);
        if (plans.length) await writeFile('bench/scale-explain.txt', `${plans.join('\n\n')}\n`);
      }
    },
    // Filling a million rows twice and measuring every round takes many minutes.
    6 * 3_600_000,
  );
});

/** A filled database and the two servers on it: one with the default cache, one whose cache is too small to hit. */
async function prepare(size: number, backlog: boolean): Promise<Sized> {
  const db = await createTestDatabase({ throwaway: true });
  const orm = await openDatabase(db.url);
  const started = performance.now();
  await fill(db.url, size, backlog);
  const secrets = await sampleSecrets(db.url, size);
  const scim = await scimSecret(db.url);
  await settle(db.url);
  log(
    `filled ${size}${backlog ? ` (and ${BACKLOG} backlog users)` : ''} and settled (vacuumed, checkpointed) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  const common = {
    DATABASE_URL: db.url,
    // So the sweep's measurement can read each server's event-loop delay over it (GET /metrics).
    METRICS_TOKEN,
    INTROSPECTION_CLIENTS: clients.env,
    ALLOW_LOCAL_MAIL: 'true',
    LOG_LEVEL: 'error',
  };
  // Only the warm server sweeps (every second, so a backlog is found at once); the other would share the work.
  const warm = await startServer({ ...common, DATA_DIR: await tempDir(), SWEEP_INTERVAL: 'PT1S' });
  const miss = await startServer({
    ...common,
    DATA_DIR: await tempDir(),
    SWEEP_INTERVAL: 'P24D',
    PRINCIPAL_CACHE_SIZE: String(MISS_CACHE),
  });
  return { size, db, orm, org: md5uuid('org0'), unit: md5uuid('unit0-3'), secrets, scim, warm, miss };
}

/**
 * PostgreSQL's buffer cache, in the report: at its default (128 MB) it holds
 * the 10,000-row database but not the 1,000,000-row one, so the two sizes
 * differ in more than their data. Two runs with 2 GB did not settle whether
 * that is what makes round 2 slower at 1M (bench/REPORT.md, 2026-12-06).
 */
async function logBufferCache(each: Sized | undefined): Promise<void> {
  if (!each) return;
  const { setting, bytes } = await sharedBuffers(each.db.url);
  const small = bytes < 1024 ** 3 ? ': under 1 GB, so a 1,000,000-row database does not fit in it' : '';
  log(`PostgreSQL shared_buffers ${setting}${small}`);
}

/** The sizes in the order of turn `i`, ABBA: whoever went last goes first next. */
function inTurn(sized: readonly Sized[], i: number): readonly Sized[] {
  return i % 2 ? [...sized].reverse() : sized;
}

/** Every figure as it comes, so a long run shows its progress. */
function log(line: string): void {
  report.push(line);
  process.stdout.write(`${line}\n`);
}

function record(name: string, size: number, value: number): void {
  const key = `${name}@${size}`;
  figures.set(key, [...(figures.get(key) ?? []), value]);
}

function describeDrive(driven: Drive): string {
  return `${driven.rps.toFixed(0)} req/s, ${driven.perCpuSecond.toFixed(0)} req per server CPU-s, p50 ${driven.p50.toFixed(2)} ms, p99 ${driven.p99.toFixed(2)} ms, ${driven.requests} requests, ${driven.failures} failed${driven.failed.length ? ` (${driven.failed.join('; ')})` : ''}`;
}

const ME = JSON.stringify({ query: '{ me { id } }' });
const meOf = (secret: string): DrivenRequest => ({
  path: '/graphql',
  body: ME,
  headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
});
const answered = (body: string) => body.includes('"data"') && !body.includes('"errors"');

/**
 * `me` on cache hits (a cycle of WARM tokens, well within the cache), on
 * misses (all the sampled tokens, cycling through a cache of MISS_CACHE:
 * every request reads the database) and RFC 7662 introspection (warm), each
 * for DRIVE_MS with 16 clients at each size. The sizes take turns in SLICES
 * slices (ABBA order), so a change in the machine's load over the run falls
 * on both sizes alike instead of on whichever ran at that moment.
 */
async function measureRequests(sized: readonly Sized[], round: number): Promise<void> {
  const scenarios = new Map(sized.map((each) => [each, requestScenarios(each)]));
  const names = (scenarios.get(sized[0] as Sized) ?? []).map(([name]) => name);
  for (const [k, name] of names.entries()) {
    const driveFor = async (each: Sized, ms: number): Promise<Drive | null> => {
      const [, server, next, check] = scenarios.get(each)?.[k] ?? [];
      return server && next && check ? drive(server, next, check, { ms }) : null;
    };
    const slices = new Map<Sized, Drive[]>(sized.map((each) => [each, []]));
    for (const each of sized) await driveFor(each, 1_000);
    for (let slice = 0; slice < SLICES; slice++) {
      for (const each of inTurn(sized, slice)) {
        const driven = await driveFor(each, DRIVE_MS / SLICES);
        if (driven) slices.get(each)?.push(driven);
      }
    }
    for (const each of sized) {
      const driven = merged(slices.get(each) ?? []);
      log(`round ${round} size ${each.size} ${name}: ${describeDrive(driven)}`);
      record(`${name} req/CPU-s`, each.size, driven.perCpuSecond);
      record(`${name} req/s`, each.size, driven.rps);
      record(`${name} p99`, each.size, driven.p99);
      if (driven.failures > 0) throw new Error(`${name} at ${each.size}: ${driven.failures} requests failed`);
    }
  }
}

function requestScenarios(each: Sized): [string, BenchServer, () => DrivenRequest, (body: string) => boolean][] {
  const warmSecrets = each.secrets.slice(0, WARM);
  return [
    [
      'me warm',
      each.warm,
      (() => {
        const next = cycle(warmSecrets);
        return () => meOf(next());
      })(),
      answered,
    ],
    [
      'me miss',
      each.miss,
      (() => {
        const next = cycle(each.secrets);
        return () => meOf(next());
      })(),
      answered,
    ],
    [
      'introspection',
      each.warm,
      (() => {
        const secret = cycle(warmSecrets);
        const client = cycle(clients.authorizations);
        return () => ({
          path: '/oauth/introspect',
          body: `token=${encodeURIComponent(secret())}`,
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: client() },
        });
      })(),
      (body) => body.includes('"active":true'),
    ],
  ];
}

/**
 * A directory replacing unit 3 of the first organisation (100 members) with
 * all of its 999 users but the admin, then back: 899 members join, then 899
 * leave, each one SCIM PUT through the HTTP server.
 */
async function measureGroupReplace(each: Sized, round: number): Promise<void> {
  // Every user of the organisation but its admin (user 0), whom a directory's ADMIN scope does not manage.
  const everyone = Array.from({ length: Math.min(1_000, each.size) - 1 }, (_, i) => md5uuid(`user${i + 1}`));
  const original = everyone.filter((_, i) => (i + 1) % 10 === 3);
  for (const [name, members] of [
    ['group replace to 1,000', everyone],
    ['group replace back to 100', original],
  ] as const) {
    const started = performance.now();
    const answer = await fetch(`${each.warm.url}/scim/v2/Groups/${each.unit}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/scim+json', authorization: `Bearer ${each.scim}` },
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
        displayName: 'Unit 3',
        members: members.map((value) => ({ value })),
      }),
    });
    const body = await answer.text();
    const ms = performance.now() - started;
    if (answer.status !== 200) throw new Error(`${name}: ${answer.status} ${body.slice(0, 300)}`);
    log(`round ${round} size ${each.size} ${name}: ${ms.toFixed(0)} ms`);
    record(name, each.size, ms);
  }
}

/**
 * BACKLOG tokens that expired a day ago appear at once; the warm server's
 * sweeper (every second) expires them while `me` is called with warm tokens
 * at SWEEP_ME_RPS, an open loop (each request sent at its time, so a stalled
 * event loop shows in the latencies). Throughput counts from the insert to
 * the last expiry (the wait for the next sweep included); `me` p99 during the
 * sweep is held against p99 at the same rate over DRIVE_MS just before it.
 */
async function measureSweep(each: Sized, round: number): Promise<void> {
  if (BEFORE_SWEEP) {
    const started = performance.now();
    await settle(each.db.url, { vacuum: BEFORE_SWEEP !== 'checkpoint', checkpoint: BEFORE_SWEEP !== 'vacuum' });
    log(`  (${BEFORE_SWEEP} before the sweep: ${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }
  const next = cycle(each.secrets.slice(0, WARM));
  // Not measured: a server that has answered nothing yet (BENCH_SCALE_PARTS=sweep) is still compiling its hot paths.
  await pace(each.warm, () => meOf(next()), answered, { rps: SWEEP_ME_RPS, ms: 2_000 });
  const servers = { 'the sweeping server': each.warm.pid, 'the other': each.miss.pid };
  const {
    result: { result: idle, load: idleLoad },
    cores: idleCores,
  } = await coresOf(servers, () => onMachine(() => pace(each.warm, () => meOf(next()), answered, { rps: SWEEP_ME_RPS, ms: DRIVE_MS })));
  await loopDelayOf(each.warm); // reads and resets the server's event-loop delay histogram
  const generator = monitorEventLoopDelay({ resolution: 10 });
  generator.enable();
  const count = await expireBacklog(each.db.url, each.size);
  const started = performance.now();
  let swept = false;
  const watching = noneExpiredLeft(each.db.url, 250).then(() => (swept = true));
  const {
    result: { result: during, load: duringLoad },
    cores,
  } = await coresOf(servers, () =>
    onMachine(() => pace(each.warm, () => meOf(next()), answered, { rps: SWEEP_ME_RPS, until: () => swept })),
  );
  await watching;
  generator.disable();
  const server = await loopDelayOf(each.warm);
  const loops = `event-loop delay p99/max: the server ${server}, the load generator ${ms(generator.percentile(99))}/${ms(generator.max)} ms`;
  const seconds = (performance.now() - started) / 1000;
  const rate = count / seconds;
  log(
    `round ${round} size ${each.size} sweep of ${count}: ${seconds.toFixed(1)} s, ${rate.toFixed(0)} tokens/s; me at ${SWEEP_ME_RPS}/s idle: ${describeDrive(idle)} (${describeLoad(idleLoad)}; cores: ${idleCores}); me during: ${describeDrive(during)} (${describeLoad(duringLoad)}; cores: ${cores}; ${loops})`,
  );
  record('sweep tokens/s', each.size, rate);
  record('sweep me p99 during/idle', each.size, during.p99 / idle.p99);
  if (idle.failures + during.failures > 0) throw new Error('me failed around the sweep');
}

/**
 * A control for the sweep's `me` p99 ratio: the same load (SWEEP_ME_RPS on
 * warm tokens) beside plain CPU load instead of a sweep, each held against
 * the idle p99 measured just before it. A busy loop is no work of the
 * service's: what it does to the ratio is what this machine does to any
 * work of that size beside the requests.
 */
async function measureControl(each: Sized, round: number): Promise<void> {
  const next = cycle(each.secrets.slice(0, WARM));
  const measure = async () => {
    const { result, cores } = await coresOf({ 'the server': each.warm.pid }, () =>
      onMachine(() => pace(each.warm, () => meOf(next()), answered, { rps: SWEEP_ME_RPS, ms: DRIVE_MS })),
    );
    return { ...result, cores };
  };
  await pace(each.warm, () => meOf(next()), answered, { rps: SWEEP_ME_RPS, ms: 2_000 });
  for (const [name, loops, share] of [
    ['half a core (one loop busy 5 ms of every 10)', 1, 0.5],
    ['one core (one loop, always busy)', 1, 1],
    ['one core (two loops busy half the time each)', 2, 0.5],
  ] as const) {
    const { result: idle, load: idleLoad, cores } = await measure();
    const stop = busyLoops(loops, share);
    const beside = await measure().finally(stop);
    const ratio = beside.result.p99 / idle.p99;
    log(
      `round ${round} control, beside ${name}: me p99 ${idle.p99.toFixed(2)} -> ${beside.result.p99.toFixed(2)} ms (${ratio.toFixed(2)}x; p50 ${idle.p50.toFixed(2)} -> ${beside.result.p50.toFixed(2)} ms); idle ${describeLoad(idleLoad)}, ${cores}; beside ${describeLoad(beside.load)}, ${beside.cores}`,
    );
    record(`control ${name}`, each.size, ratio);
    if (idle.failures + beside.result.failures > 0) throw new Error('me failed in the control');
  }
}

const ms = (nanoseconds: number) => (nanoseconds / 1e6).toFixed(0);

/** `p99/max ms` of the server's event-loop delay since the last call (prom-client resets it at each scrape). */
async function loopDelayOf(server: BenchServer): Promise<string> {
  const text = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  const seconds = (name: string) =>
    Number(new RegExp(`^api_tokens_nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return `${(seconds('p99') * 1000).toFixed(0)}/${(seconds('max') * 1000).toFixed(0)} ms`;
}

/**
 * Drops the emails the last sweep queued (100,000), as if sent: the mail
 * workers send at most MAIL_MAX_RATE (20) a second each, so sending them
 * would take 40 minutes and weigh on the next sweep.
 */
async function discardQueuedMail(each: Sized): Promise<void> {
  const dropped = await discardPendingMail(each.db.url);
  log(`  (dropped ${dropped} emails the sweep queued, before the next sweep)`);
}

/**
 * The plans of the sweeper's claims (its first sweep, reading every token
 * within the thresholds, then a later one, reading only those that crossed
 * one since) and of the token lookup a cache miss runs, at the large size.
 */
async function explainSweepAndLookup(each: Sized): Promise<void> {
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: each.db.url });
  const changes = new Changes(each.orm, new AuditLog(config.region), () => undefined);
  const tokens = new TokenService(each.orm, changes, systemClock, config);
  const sweeper = new Sweeper({ changes, tokens, clock: systemClock, config, logger: pino({ level: 'silent' }), lockRows: true });
  await explainOf(each, 'sweep, first (every token within the thresholds)', () => sweeper.sweep());
  await explainOf(each, 'sweep, next (tokens that crossed a threshold since)', () => sweeper.sweep());
  const digest = digestToken(each.secrets[0] ?? '');
  await explainOf(each, 'token lookup by digest (a cache miss)', () => findTokenByDigest(each.orm, digest));
  // The last sweep's emails are still queued (100,000): the mail worker's claim reads the first few of them.
  await explainOf(each, "mail worker's claim (the sweep's emails queued)", () => findDue(each.orm.em.fork(), new Date(), 20, 'postgresql'));
}

/**
 * What a cached principal costs: the heap a resolver holding SAMPLED tokens
 * of the filled database frees when it drops them (a full collection each
 * side), per entry.
 */
async function measureCacheMemory(each: Sized): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const usage = { record: () => undefined } as unknown as TokenUsage;
  const sessions = new SessionVerifier(
    new TextEncoder().encode('x'.repeat(32)),
    loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }).session,
  );
  const resolver = new PrincipalResolver({
    orm: each.orm,
    sessions,
    usage,
    clock: systemClock,
    cacheable: () => true,
    maxEntries: SAMPLED,
  });
  for (const secret of each.secrets) {
    if (!(await resolver.token(secret))) throw new Error('a sampled token did not resolve');
  }
  // The same heap with and without the entries: what they hold, and nothing the reads left behind.
  gc();
  const full = process.memoryUsage().heapUsed;
  resolver.clear();
  gc();
  const grown = full - process.memoryUsage().heapUsed;
  const perEntry = grown / each.secrets.length;
  log(
    `cache memory: ${each.secrets.length} cached tokens grew the heap by ${(grown / 1024).toFixed(0)} KiB: ${perEntry.toFixed(0)} bytes each`,
  );
  log(
    `  so 10,000 entries cost ${((perEntry * 10_000) / 1024 / 1024).toFixed(1)} MiB and 100,000 cost ${((perEntry * 100_000) / 1024 / 1024).toFixed(1)} MiB`,
  );
}

/** The ratios the issue's targets are stated in, per round: the large size over the small one. */
function summarise(small: number, large: number): void {
  log(`summary: ${large} against ${small}, each round in order`);
  const ratio = (name: string) => {
    const a = figures.get(`${name}@${large}`) ?? [];
    const b = figures.get(`${name}@${small}`) ?? [];
    return a.map((value, i) => value / (b[i] ?? Number.NaN));
  };
  const rounds = (values: readonly number[], digits = 2) => values.map((value) => value.toFixed(digits)).join(', ');
  // A part not run (BENCH_SCALE_PARTS) has no figures, and no line.
  const line = (values: readonly number[], text: (figures: string) => string, digits = 2) => {
    if (values.length) log(`  ${text(rounds(values, digits))}`);
  };
  for (const name of [
    'me warm req/CPU-s',
    'me warm req/s',
    'me miss req/CPU-s',
    'me miss req/s',
    'introspection req/CPU-s',
    'introspection req/s',
  ]) {
    line(ratio(name), (each) => `${name} ${large}/${small}: ${each} (target >= 0.9)`);
  }
  const listings = new Set(
    [...figures.keys()].filter((key) => key.startsWith('listing ')).map((key) => key.slice(0, key.lastIndexOf('@'))),
  );
  const misses: string[] = [];
  let listed = 0;
  for (const name of listings) {
    const atLarge = figures.get(`${name}@${large}`) ?? [];
    ratio(name).forEach((times, i) => {
      listed++;
      const p99 = atLarge[i] ?? Number.NaN;
      if (!(p99 <= 50 && times <= 1.5))
        misses.push(`${name.slice('listing '.length)} round ${i + 1}: ${p99.toFixed(1)} ms, ${times.toFixed(2)}x`);
    });
  }
  if (listed) log(`  listings, p99 at ${large} <= 50 ms and <= 1.5x ${small}: met in ${listed - misses.length} of ${listed}`);
  for (const miss of misses) log(`    missed: ${miss}`);
  for (const name of ['group replace to 1,000', 'group replace back to 100']) {
    line(figures.get(`${name}@${large}`) ?? [], (each) => `${name} at ${large}: ${each} ms (target <= 2000)`, 0);
  }
  line(figures.get(`sweep tokens/s@${large}`) ?? [], (each) => `sweep at ${large}: ${each} tokens/s (target >= 5000)`, 0);
  line(figures.get(`sweep me p99 during/idle@${large}`) ?? [], (each) => `me p99 during the sweep / idle: ${each} (target <= 1.5)`);
  for (const [key, values] of figures) {
    if (key.startsWith('control '))
      line(values, (each) => `${key.replace(/@\d+$/, '')}: me p99 beside / idle ${each} (the sweep's target <= 1.5)`);
  }
}

/**
 * Every listing page at each size, SAMPLES times. The sizes take turns
 * sample by sample (ABBA order), so a moment of load on the shared machine
 * falls on both sizes alike; p99 per size. At `explain`'s size, the plan of
 * each page's statements.
 */
async function measureListings(sized: readonly Sized[], round: number, explain: Sized | null): Promise<void> {
  const cases = new Map<Sized, ListingCase[]>();
  for (const each of sized) cases.set(each, await listingCases(each));
  const names = (cases.get(sized[0] as Sized) ?? []).map(({ name }) => name);
  for (const [k, name] of names.entries()) {
    const times = new Map<Sized, number[]>(sized.map((each) => [each, []]));
    for (let i = 0; i < SAMPLES; i++) {
      for (const each of inTurn(sized, i)) {
        const run = cases.get(each)?.[k]?.run;
        if (!run) continue;
        const start = performance.now();
        await run();
        times.get(each)?.push(performance.now() - start);
      }
    }
    for (const each of sized) {
      const taken = times.get(each) ?? [];
      log(`round ${round} size ${each.size} ${name}: p50 ${median(taken).toFixed(2)} ms, p99 ${percentile(taken, 99).toFixed(2)} ms`);
      record(`listing ${name}`, each.size, percentile(taken, 99));
      const run = cases.get(each)?.[k]?.run;
      if (each === explain && run) await explainOf(each, name, run);
    }
  }
}

interface ListingCase {
  /** Who asks and which page, e.g. `scoped auditEvents deep`. */
  readonly name: string;
  readonly run: () => Promise<unknown>;
}

/** The pages measured at one size, in the same order at every size. */
async function listingCases(each: Sized): Promise<ListingCase[]> {
  const queries = new AdminQueries(each.orm, systemClock);
  const callers = {
    support: principal(Role.SUPPORT, each.org, []),
    admin: principal(Role.ADMIN, each.org, []),
    scoped: principal(Role.ADMIN, each.org, [each.unit]),
  };
  const cases: ListingCase[] = [];
  for (const [who, caller] of Object.entries(callers)) {
    const all = await queries.apiTokens(caller, { first: 100 });
    const deep = all.edges[50]?.cursor ?? null;
    const audit = await queries.auditEvents(caller, null, { first: 100 });
    const deepAudit = audit.edges[50]?.cursor ?? null;
    cases.push(
      { name: `${who} apiTokens first`, run: () => queries.apiTokens(caller, { first: 20 }) },
      { name: `${who} apiTokens deep`, run: () => queries.apiTokens(caller, { first: 20, after: deep }) },
      { name: `${who} apiTokens unit filter`, run: () => queries.apiTokens(caller, { first: 20 }, { businessUnitId: each.unit }) },
      { name: `${who} auditEvents first`, run: () => queries.auditEvents(caller, null, { first: 20 }) },
      { name: `${who} auditEvents deep`, run: () => queries.auditEvents(caller, null, { first: 20, after: deepAudit }) },
    );
  }
  return cases;
}

async function explainOf(each: Sized, name: string, run: () => Promise<unknown>): Promise<void> {
  const captured = capture(each.orm);
  try {
    await run();
  } finally {
    captured.stop();
  }
  const client = new pg.Client({ connectionString: each.db.url });
  await client.connect();
  try {
    // Planned under the settings the statements ran with (the mail worker's claim sets some for its transaction).
    await client.query('begin');
    for (const { sql } of captured.statements.filter((statement) => /^\s*set local\b/i.test(statement.sql))) await client.query(sql);
    // Reads only: the sweeper's transaction statements and writes are not plans.
    for (const { sql, params } of captured.statements.filter((statement) => /^\s*select\b/i.test(statement.sql))) {
      let n = 0;
      const numbered = sql.replace(/\?/g, () => `$${++n}`);
      const result = await client.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${numbered}`, params);
      plans.push(`-- ${name} at ${each.size}\n-- ${sql.replace(/\s+/g, ' ')}\n${result.rows.map((row) => row['QUERY PLAN']).join('\n')}`);
    }
    await client.query('rollback');
  } finally {
    await client.end();
  }
}

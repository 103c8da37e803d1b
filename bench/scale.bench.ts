import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { MikroORM } from '@mikro-orm/core';
import pg from 'pg';
import { describe, test } from 'vitest';
import { AdminQueries } from '../src/admin/admin-queries.service.js';
import type { Principal } from '../src/auth/principal.js';
import { systemClock } from '../src/clock.js';
import { openDatabase } from '../src/db/orm.js';
import { Role } from '../src/auth/role.js';
import { createTestDatabase, type TestDatabase } from '../test/support/postgres.js';
import { median, percentile } from './load/harness.js';

/**
 * `npm run bench:scale` (issue 17): the admin listings on PostgreSQL at 10,000
 * and at 1,000,000 tokens, alternating the two sizes in one run. Filled with
 * SQL `generate_series` (not the ORM): organisations of 1,000 users in 10
 * units, one token each, a third used recently. Each round times every
 * listing page, first and deep, for SUPPORT, an ADMIN of one organisation and
 * an ADMIN scoped to one unit, through the service's own query code
 * (in-process, no HTTP), and prints p50/p99; at the large size it writes the
 * plan of each statement to bench/scale-explain.txt. Skipped unless
 * BENCH_SCALE=1, so `npm run bench` does not fill a million rows.
 */
const SIZES = (process.env['BENCH_SCALE_SIZES'] ?? '10000,1000000').split(',').map(Number);
const ROUNDS = Number(process.env['BENCH_SCALE_ROUNDS'] ?? 2);
const SAMPLES = Number(process.env['BENCH_SCALE_SAMPLES'] ?? 100);
const enabled = process.env['BENCH_SCALE'] === '1';

interface Sized {
  readonly size: number;
  readonly db: TestDatabase;
  readonly orm: MikroORM;
  readonly org: string;
  readonly unit: string;
}

/** Fills a fresh database with `size` users and tokens in organisations of 1,000, in SQL. */
async function fill(url: string, size: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const orgs = Math.max(1, Math.floor(size / 1000));
  try {
    await client.query(
      `insert into organizations (id, name, created_at)
      select md5('org' || o)::uuid, 'Org ' || o, now() from generate_series(0, $1 - 1) o`,
      [orgs],
    );
    await client.query(
      `insert into business_units (id, organization_id, name, created_at)
      select md5('unit' || o || '-' || b)::uuid, md5('org' || o)::uuid, 'Unit ' || b, now()
        from generate_series(0, $1 - 1) o, generate_series(0, 9) b`,
      [orgs],
    );
    await client.query(
      `insert into users (id, organization_id, email, name, role, created_at)
      select md5('user' || i)::uuid, md5('org' || (i / 1000))::uuid, 'user' || i || '@scale.example', 'User ' || i,
             case when i % 1000 = 0 then 'ADMIN' else 'USER' end, now() - (i % 1000) * interval '1 minute'
        from generate_series(0, $1 - 1) i`,
      [size],
    );
    await client.query(
      `insert into user_business_units (user_id, business_unit_id)
      select md5('user' || i)::uuid, md5('unit' || (i / 1000) || '-' || (i % 10))::uuid from generate_series(0, $1 - 1) i`,
      [size],
    );
    await client.query(
      `insert into api_tokens (id, user_id, digest, hint, created_at, expires_at, created_region, last_used_at, last_used_region, warned_threshold_ms)
      select md5('token' || i)::uuid, md5('user' || i)::uuid, encode(sha256(('secret' || i)::bytea), 'hex'), 'tok_' || (i % 10000),
             now() - (i % 180) * interval '1 day', now() + (180 - i % 180) * interval '1 day', 'eu-west',
             case when i % 3 = 0 then now() - interval '1 minute' else null end, case when i % 3 = 0 then 'eu-west' else null end,
             15552000000
        from generate_series(0, $1 - 1) i`,
      [size],
    );
    await client.query(
      `insert into audit_events (occurred_at, action, actor_kind, actor_label, subject_user_id, organization_id, region)
      select now(), 'GENERATED', 'session', 'user' || i || '@scale.example', md5('user' || i)::uuid, md5('org' || (i / 1000))::uuid, 'eu-west'
        from generate_series(0, $1 - 1) i`,
      [size],
    );
    await client.query('analyze');
  } finally {
    await client.end();
  }
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

describe.skipIf(!enabled)('scale (issue 17)', () => {
  test(
    'listing pages at each size, alternating',
    async () => {
      const sized: Sized[] = [];
      try {
        for (const size of SIZES) {
          const db = await createTestDatabase();
          const orm = await openDatabase(db.url);
          sized.push({ size, db, orm, org: md5uuid('org0'), unit: md5uuid('unit0-3') });
          const started = performance.now();
          await fill(db.url, size);
          log(`filled ${size} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
        }
        for (let round = 1; round <= ROUNDS; round++) {
          for (const each of sized) await measure(each, round, round === ROUNDS && each.size === Math.max(...SIZES));
        }
      } finally {
        for (const each of sized) {
          await each.orm.close();
          await each.db.drop();
        }
        await writeFile('bench/scale-results.txt', `${report.join('\n')}\n`);
        if (plans.length) await writeFile('bench/scale-explain.txt', `${plans.join('\n\n')}\n`);
      }
    },
    // Filling a million rows twice and measuring every round takes minutes.
    3_600_000,
  );
});

/** Every figure as it comes, so a long run shows its progress. */
function log(line: string): void {
  report.push(line);
  process.stdout.write(`${line}\n`);
}

async function measure(each: Sized, round: number, explain: boolean): Promise<void> {
  const queries = new AdminQueries(each.orm, systemClock);
  const callers = {
    support: principal(Role.SUPPORT, each.org, []),
    admin: principal(Role.ADMIN, each.org, []),
    scoped: principal(Role.ADMIN, each.org, [each.unit]),
  };
  for (const [who, caller] of Object.entries(callers)) {
    const all = await queries.apiTokens(caller, { first: 100 });
    const deep = all.edges[50]?.cursor ?? null;
    const audit = await queries.auditEvents(caller, null, { first: 100 });
    const deepAudit = audit.edges[50]?.cursor ?? null;
    const cases: [string, () => Promise<unknown>][] = [
      ['apiTokens first', () => queries.apiTokens(caller, { first: 20 })],
      ['apiTokens deep', () => queries.apiTokens(caller, { first: 20, after: deep })],
      ['apiTokens unit filter', () => queries.apiTokens(caller, { first: 20 }, { businessUnitId: each.unit })],
      ['auditEvents first', () => queries.auditEvents(caller, null, { first: 20 })],
      ['auditEvents deep', () => queries.auditEvents(caller, null, { first: 20, after: deepAudit })],
    ];
    for (const [name, run] of cases) {
      const times: number[] = [];
      for (let i = 0; i < SAMPLES; i++) {
        const start = performance.now();
        await run();
        times.push(performance.now() - start);
      }
      log(
        `round ${round} size ${each.size} ${who} ${name}: p50 ${median(times).toFixed(2)} ms, p99 ${percentile(times, 99).toFixed(2)} ms`,
      );
      if (explain) await explainOf(each, `${who} ${name}`, run);
    }
  }
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
    for (const { sql, params } of captured.statements) {
      let n = 0;
      const numbered = sql.replace(/\?/g, () => `$${++n}`);
      const result = await client.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${numbered}`, params);
      plans.push(`-- ${name} at ${each.size}\n-- ${sql.replace(/\s+/g, ' ')}\n${result.rows.map((row) => row['QUERY PLAN']).join('\n')}`);
    }
  } finally {
    await client.end();
  }
}

/** PostgreSQL's `md5(text)::uuid`, as the fill names its rows. */
function md5uuid(text: string): string {
  const hex = createHash('md5').update(text).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

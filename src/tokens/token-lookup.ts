import type { MikroORM } from '@mikro-orm/core';
import { sqlNames, toDate } from '../db/columns.js';
import { userFactsOf, userSql, type UserFacts, type UserRow } from '../users/user-lookup.js';
import { ApiToken } from './api-token.entity.js';

/** What verifying a token needs to know about it, read in one round trip. */
export interface TokenRecord {
  readonly id: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly lastUsedAt: Date | null;
  readonly lastUsedRegion: string | null;
  readonly user: UserFacts;
}

interface Row extends UserRow {
  id: string;
  created_at: unknown;
  expires_at: unknown;
  last_used_at: unknown;
  last_used_region: string | null;
}

/**
 * The token-verification hot path, in plain SQL that both SQLite and
 * PostgreSQL run: the token, its user and the user's business units in one
 * indexed query by digest, without the ORM's query building and hydration
 * (4.2 ms of a request before, 0.9 ms now; see bench/REPORT.md). Everything
 * else goes through the entities.
 */
export async function findTokenByDigest(orm: MikroORM, digest: string): Promise<TokenRecord | null> {
  // Raw SQL comes back untyped; `Row` is the shape of what this query selects.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
  const rows: Row[] = await orm.em.getConnection().execute(tokenQuery(orm), [digest], 'all');
  const first = rows[0];
  const user = userFactsOf(rows);
  if (!first || !user) return null;
  return {
    id: first.id,
    createdAt: toDate(first.created_at),
    expiresAt: toDate(first.expires_at),
    lastUsedAt: first.last_used_at == null ? null : toDate(first.last_used_at),
    lastUsedRegion: first.last_used_region,
    user,
  };
}

const queries = new WeakMap<MikroORM, string>();

/**
 * The query, with every table and column name taken from the entities'
 * metadata (built once per ORM), so it cannot drift from the schema. Each
 * column is aliased to the `Row` key it fills.
 */
function tokenQuery(orm: MikroORM): string {
  let sql = queries.get(orm);
  if (sql) return sql;
  const t = sqlNames(orm, ApiToken);
  const user = userSql(orm);
  sql = `select t.${t.column('id')} as id, t.${t.column('createdAt')} as created_at, t.${t.column('expiresAt')} as expires_at,
            t.${t.column('lastUsedAt')} as last_used_at, t.${t.column('lastUsedRegion')} as last_used_region,
            ${user.columns}
       from ${t.table} t
       join ${user.table} u on u.${user.id} = t.${t.column('user')}
       ${user.joins}
      where t.${t.column('digest')} = ?`;
  queries.set(orm, sql);
  return sql;
}

import type { MikroORM } from '@mikro-orm/core';
import type { PrincipalUser } from '../auth/principal-of.js';
import { sqlNames, toDate } from '../db/columns.js';
import { BusinessUnit } from './business-unit.entity.js';
import { User } from './user.entity.js';

/** What authorization needs to know about a user, read in one round trip. */
export interface UserFacts extends PrincipalUser {
  readonly active: boolean;
  readonly apiTokensEnabled: boolean;
  /** Sessions issued before it are refused (`User.credentialsValidAfter`); null: none are. */
  readonly credentialsValidAfter: Date | null;
}

/** The user columns of a row, one row per business unit (or one with nulls when there are none). */
export interface UserRow {
  user_id: string;
  email: string;
  name: string;
  role: PrincipalUser['role'];
  organization_id: string;
  active: unknown;
  api_tokens_enabled: unknown;
  credentials_valid_after: unknown;
  business_unit_id: string | null;
  business_unit_name: string | null;
}

/** The SQL that reads a user and their units: `u` is the users table's alias in `from`. */
export interface UserSql {
  readonly table: string;
  readonly id: string;
  /** The select list, each column aliased to its `UserRow` key. */
  readonly columns: string;
  /** The joins that bring in the units. */
  readonly joins: string;
}

const userSqls = new WeakMap<MikroORM, UserSql>();

/**
 * The hot paths' user SQL, every table and column name taken from the
 * entities' metadata (once per ORM), so it cannot drift from the schema.
 */
export function userSql(orm: MikroORM): UserSql {
  let sql = userSqls.get(orm);
  if (sql) return sql;
  const u = sqlNames(orm, User);
  const b = sqlNames(orm, BusinessUnit);
  const ub = u.pivot('businessUnits');
  const id = u.column('id');
  sql = {
    table: u.table,
    id,
    columns: `u.${id} as user_id, u.${u.column('email')} as email, u.${u.column('name')} as name,
            u.${u.column('role')} as role, u.${u.column('organization')} as organization_id, u.${u.column('active')} as active,
            u.${u.column('apiTokensEnabled')} as api_tokens_enabled,
            u.${u.column('credentialsValidAfter')} as credentials_valid_after,
            ub.${ub.target} as business_unit_id, b.${b.column('name')} as business_unit_name`,
    joins: `left join ${ub.table} ub on ub.${ub.owner} = u.${id}
       left join ${b.table} b on b.${b.column('id')} = ub.${ub.target}`,
  };
  userSqls.set(orm, sql);
  return sql;
}

/** The user the rows describe; null when there are none. */
export function userFactsOf(rows: readonly UserRow[]): UserFacts | null {
  const first = rows[0];
  if (!first) return null;
  return {
    id: first.user_id,
    email: first.email,
    name: first.name,
    role: first.role,
    organizationId: first.organization_id,
    // SQLite answers 1/0, PostgreSQL true/false.
    active: Boolean(first.active),
    apiTokensEnabled: Boolean(first.api_tokens_enabled),
    credentialsValidAfter: first.credentials_valid_after == null ? null : toDate(first.credentials_valid_after),
    businessUnits: rows.flatMap((row) => (row.business_unit_id ? [{ id: row.business_unit_id, name: row.business_unit_name ?? '' }] : [])),
  };
}

const queries = new WeakMap<MikroORM, string>();

/**
 * A user, their status and business units in one indexed query, without the
 * ORM's query building and hydration: sessions resolve through it on every
 * cache miss (like `findTokenByDigest` for tokens).
 */
export async function findUserFacts(orm: MikroORM, userId: string): Promise<UserFacts | null> {
  let query = queries.get(orm);
  if (!query) {
    const user = userSql(orm);
    query = `select ${user.columns} from ${user.table} u ${user.joins} where u.${user.id} = ?`;
    queries.set(orm, query);
  }
  // Raw SQL comes back untyped; `UserRow` is the shape of what this query selects.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
  const rows: UserRow[] = await orm.em.getConnection().execute(query, [userId], 'all');
  return userFactsOf(rows);
}

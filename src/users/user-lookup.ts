import type { MikroORM } from '@mikro-orm/core';
import { sqlNames } from '../db/columns.js';
import { BusinessUnit } from './business-unit.entity.js';
import { User } from './user.entity.js';
import type { PrincipalUser } from '../auth/principal-of.js';

/** What authorization needs to know about a user, read in one round trip. */
export interface UserFacts extends PrincipalUser {
  readonly active: boolean;
  readonly apiTokensEnabled: boolean;
}

interface Row {
  id: string;
  email: string;
  name: string;
  role: PrincipalUser['role'];
  organization_id: string;
  active: unknown;
  api_tokens_enabled: unknown;
  business_unit_id: string | null;
  business_unit_name: string | null;
}

/**
 * A user, their status and business units in one indexed query, without the
 * ORM's query building and hydration: sessions resolve through it on every
 * cache miss (like `findTokenByDigest` for tokens).
 */
export async function findUserFacts(orm: MikroORM, userId: string): Promise<UserFacts | null> {
  // Raw SQL comes back untyped; `Row` is the shape of what this query selects.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
  const rows: Row[] = await orm.em.getConnection().execute(
    userQuery(orm),
    [userId],
    'all',
  );
  const first = rows[0];
  if (!first) return null;
  return {
    id: first.id,
    email: first.email,
    name: first.name,
    role: first.role,
    organizationId: first.organization_id,
    // SQLite answers 1/0, PostgreSQL true/false.
    active: Boolean(first.active),
    apiTokensEnabled: Boolean(first.api_tokens_enabled),
    businessUnits: rows.flatMap((row) =>
        row.business_unit_id ? [{ id: row.business_unit_id, name: row.business_unit_name ?? '' }] : [],
      ),
  };
}

const queries = new WeakMap<MikroORM, string>();

/** The query, its names taken from the entities' metadata once per ORM (see `tokenQuery`). */
function userQuery(orm: MikroORM): string {
  let sql = queries.get(orm);
  if (sql) return sql;
  const u = sqlNames(orm, User);
  const b = sqlNames(orm, BusinessUnit);
  const ub = u.pivot('businessUnits');
  sql = `select u.${u.column('id')} as id, u.${u.column('email')} as email, u.${u.column('name')} as name,
            u.${u.column('role')} as role, u.${u.column('organization')} as organization_id, u.${u.column('active')} as active,
            u.${u.column('apiTokensEnabled')} as api_tokens_enabled,
            ub.${ub.target} as business_unit_id, b.${b.column('name')} as business_unit_name
       from ${u.table} u
       left join ${ub.table} ub on ub.${ub.owner} = u.${u.column('id')}
       left join ${b.table} b on b.${b.column('id')} = ub.${ub.target}
      where u.${u.column('id')} = ?`;
  queries.set(orm, sql);
  return sql;
}

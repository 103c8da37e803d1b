import type { MikroORM } from '@mikro-orm/core';
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
    `select u.id, u.email, u.name, u.role, u.organization_id, u.active, u.api_tokens_enabled,
            ub.business_unit_id, b.name as business_unit_name
       from users u
       left join user_business_units ub on ub.user_id = u.id
       left join business_units b on b.id = ub.business_unit_id
      where u.id = ?`,
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

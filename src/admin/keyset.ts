import type { MikroORM } from '@mikro-orm/core';
import { AuditEvent } from '../audit/audit-event.entity.js';
import type { Principal } from '../auth/principal.js';
import { marks, sqlDate, sqlNames } from '../db/columns.js';
import { ApiToken } from '../tokens/api-token.entity.js';
import { Role } from '../auth/role.js';
import { User } from '../users/user.entity.js';

/**
 * Keyset paging for the admin listings, in plain SQL that SQLite and
 * PostgreSQL both run: each page reads the ids of the owning table, with its
 * own filters and the caller's scope, as `key > $after order by key limit n`
 * on an index that covers the filter; the caller then loads the rows of
 * those ids alone. No page reads rows outside the caller's scope: an
 * organisation's listing walks `users (organization_id, id)`, a business
 * unit's walks `user_business_units (business_unit_id, user_id)`, so a page
 * costs the same at 10,000 rows as at 1,000,000, and a deep page the same as
 * the first.
 */

/** What one page of `apiTokens` asks for. */
export interface TokenPageQuery {
  readonly principal: Principal;
  /** Only the tokens of members of this unit (already checked to be one the caller may name). */
  readonly unitId: string | null;
  /** Live tokens only: expiring after this instant. */
  readonly expiresAfter: Date;
  /** And, when given, at or before this one. */
  readonly expiresBy: Date | null;
  /** The key of the last row of the previous page. */
  readonly afterUserId: string | null;
  readonly limit: number;
}

/**
 * The owners' user ids of one page of live tokens, in user id order (a user
 * has at most one token, so the owner's id is the token's key). SUPPORT walks
 * `api_tokens (user_id)`; an ADMIN their organisation's users; a filter by
 * unit, or an ADMIN scoped to units, the members of those units, one index
 * range per unit merged by `union`.
 */
export async function tokenOwnerPage(orm: MikroORM, query: TokenPageQuery): Promise<string[]> {
  const n = names(orm);
  const { principal, unitId, afterUserId, limit } = query;
  const params: unknown[] = [];
  const live = (key: string) => {
    params.push(sqlDate(orm.em, query.expiresAfter));
    let sql = `t.${n.t.expiresAt} > ?`;
    if (query.expiresBy) {
      sql += ` and t.${n.t.expiresAt} <= ?`;
      params.push(sqlDate(orm.em, query.expiresBy));
    }
    if (afterUserId !== null) {
      sql += ` and ${key} > ?`;
      params.push(afterUserId);
    }
    return sql;
  };
  const isAdmin = principal.role !== Role.SUPPORT;
  const ownUsers = () => {
    params.push(principal.organizationId, Role.SUPPORT);
    return `u.${n.u.organization} = ? and u.${n.u.role} <> ?`;
  };
  const mine = principal.businessUnitIds;
  if (unitId === null && (!isAdmin || mine.length === 0)) {
    const sql = isAdmin
      ? `select u.${n.u.id} as k from ${n.u.table} u join ${n.t.table} t on t.${n.t.user} = u.${n.u.id}
          where ${ownUsers()} and ${live(`u.${n.u.id}`)} order by u.${n.u.id} limit ?`
      : `select t.${n.t.user} as k from ${n.t.table} t where ${live(`t.${n.t.user}`)} order by t.${n.t.user} limit ?`;
    params.push(limit);
    return keys(orm, sql, params);
  }
  // A unit outside a scoped admin's own still lists only members who share one of theirs.
  const units = unitId === null ? mine : [unitId];
  const alsoMine = isAdmin && unitId !== null && mine.length > 0 && !mine.includes(unitId);
  const branches = units.map((unit) => {
    params.push(unit);
    let sql = `select ub.${n.ub.owner} as k from ${n.ub.table} ub join ${n.t.table} t on t.${n.t.user} = ub.${n.ub.owner}
      ${isAdmin ? `join ${n.u.table} u on u.${n.u.id} = ub.${n.ub.owner}` : ''}
      where ub.${n.ub.target} = ? and ${live(`ub.${n.ub.owner}`)}`;
    if (isAdmin) sql += ` and ${ownUsers()}`;
    if (alsoMine) {
      sql += ` and exists (select 1 from ${n.ub.table} s where s.${n.ub.owner} = ub.${n.ub.owner} and s.${n.ub.target} in (${marks(mine)}))`;
      params.push(...mine);
    }
    params.push(limit);
    return `${sql} order by ub.${n.ub.owner} limit ?`;
  });
  return keys(orm, merged(branches, 'asc', limit, params), params);
}

/** What one page of an ADMIN's `auditEvents` (all users they can see) asks for. */
export interface AuditPageQuery {
  readonly principal: Principal;
  /** The id of the last row of the previous page: this page is older. */
  readonly beforeId: number | null;
  readonly limit: number;
}

/**
 * Ids of one page of an ADMIN's audit trail, newest first: the events about
 * the users they can see and their organisation's own (no subject user). An
 * admin without units walks `audit_events (organization_id, id)`; one with
 * units reads their members' events by `(subject_user_id, id)` and the
 * organisation's own by `(organization_id, subject_user_id, id)`, never
 * another unit's.
 */
export async function adminAuditPage(orm: MikroORM, query: AuditPageQuery): Promise<number[]> {
  const n = names(orm);
  const { principal, beforeId, limit } = query;
  const params: unknown[] = [];
  const older = () => {
    if (beforeId === null) return '';
    params.push(beforeId);
    return ` and e.${n.e.id} < ?`;
  };
  const visible = (subject: string) => {
    params.push(principal.organizationId, Role.SUPPORT);
    return `u.${n.u.id} = ${subject} and u.${n.u.organization} = ? and u.${n.u.role} <> ?`;
  };
  if (principal.businessUnitIds.length === 0) {
    params.push(principal.organizationId);
    const sql = `select e.${n.e.id} as k from ${n.e.table} e where e.${n.e.organizationId} = ?${older()}
        and (e.${n.e.subjectUserId} is null or exists (select 1 from ${n.u.table} u where ${visible(`e.${n.e.subjectUserId}`)}))
      order by e.${n.e.id} desc limit ?`;
    params.push(limit);
    return (await keys(orm, sql, params)).map(Number);
  }
  const units = principal.businessUnitIds;
  params.push(...units);
  let members = `select e.${n.e.id} as k from ${n.e.table} e where e.${n.e.subjectUserId} in (
      select ub.${n.ub.owner} from ${n.ub.table} ub join ${n.u.table} u on u.${n.u.id} = ub.${n.ub.owner}
       where ub.${n.ub.target} in (${marks(units)}) and ${visible(`ub.${n.ub.owner}`)})`;
  members += `${older()} order by e.${n.e.id} desc limit ?`;
  params.push(limit, principal.organizationId);
  const own = `select e.${n.e.id} as k from ${n.e.table} e where e.${n.e.organizationId} = ? and e.${n.e.subjectUserId} is null${older()}
      order by e.${n.e.id} desc limit ?`;
  params.push(limit);
  return (await keys(orm, merged([members, own], 'desc', limit, params), params)).map(Number);
}

/**
 * One index range per branch, merged: each branch is already ordered and
 * limited, so the union sorts at most `branches × limit` keys.
 */
function merged(branches: readonly string[], order: 'asc' | 'desc', limit: number, params: unknown[]): string {
  if (branches.length === 1) return branches[0] ?? '';
  params.push(limit);
  return `${branches.map((branch, i) => `select k from (${branch}) b${i}`).join(' union ')} order by k ${order} limit ?`;
}

async function keys(orm: MikroORM, sql: string, params: readonly unknown[]): Promise<string[]> {
  // Raw SQL comes back untyped; `k` is the one column each query selects.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
  const rows: { k: string | number }[] = await orm.em.getConnection().execute(sql, [...params], 'all');
  return rows.map((row) => String(row.k));
}

interface Names {
  readonly t: { readonly table: string; readonly user: string; readonly expiresAt: string };
  readonly u: { readonly table: string; readonly id: string; readonly organization: string; readonly role: string };
  readonly ub: { readonly table: string; readonly owner: string; readonly target: string };
  readonly e: { readonly table: string; readonly id: string; readonly organizationId: string; readonly subjectUserId: string };
}

const cache = new WeakMap<MikroORM, Names>();

/** Table and column names from the entities' metadata, once per ORM, so the SQL cannot drift from the schema. */
function names(orm: MikroORM): Names {
  const known = cache.get(orm);
  if (known) return known;
  const t = sqlNames(orm, ApiToken);
  const u = sqlNames(orm, User);
  const e = sqlNames(orm, AuditEvent);
  const found: Names = {
    t: { table: t.table, user: t.column('user'), expiresAt: t.column('expiresAt') },
    u: { table: u.table, id: u.column('id'), organization: u.column('organization'), role: u.column('role') },
    ub: u.pivot('businessUnits'),
    e: { table: e.table, id: e.column('id'), organizationId: e.column('organizationId'), subjectUserId: e.column('subjectUserId') },
  };
  cache.set(orm, found);
  return found;
}

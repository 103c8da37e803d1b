import type { EntityManager, ObjectQuery } from '@mikro-orm/core';
import type { Principal } from '../auth/principal.js';
import { ForbiddenError, NoSuchRecordError } from '../errors.js';
import { isUuid } from '../ids.js';
import { Role } from '../users/role.js';
import { User } from '../users/user.entity.js';

/**
 * Who may manage and see whom. One place, so every admin operation answers an
 * out-of-scope id exactly as it answers an id that does not exist.
 *
 * - SUPPORT belongs to the vendor and reaches every organisation.
 * - ADMIN reaches the users of their own organisation, except SUPPORT users:
 *   those are vendor staff who happen to be filed under a tenant, and a
 *   tenant admin must not be able to demote, deactivate or inspect them.
 * - For reads (token listings, audit trail) an ADMIN with business units is
 *   narrowed further to users sharing at least one of them. Management
 *   (create, update, deactivate, access) stays organisation-wide, as the
 *   issue assigns it to "the ADMIN of the organisation".
 */
export function requireAdmin(principal: Principal): Principal {
  if (principal.role !== Role.ADMIN) throw new ForbiddenError('Only an organisation admin can do this.');
  return principal;
}

export function requireAdminOrSupport(principal: Principal): Principal {
  if (principal.role !== Role.ADMIN && principal.role !== Role.SUPPORT) {
    throw new ForbiddenError('Only an organisation admin or support can do this.');
  }
  return principal;
}

/** Users the caller may change (an ADMIN or SUPPORT principal). */
export function managedUsers(principal: Principal): ObjectQuery<User> {
  if (principal.role === Role.SUPPORT) return {};
  return { organization: principal.organizationId, role: { $ne: Role.SUPPORT } };
}

/** Users whose tokens and audit trail the caller may read (an ADMIN or SUPPORT principal). */
export function visibleUsers(principal: Principal): ObjectQuery<User> {
  if (principal.role === Role.SUPPORT || principal.businessUnitIds.length === 0) return managedUsers(principal);
  return {
    $and: [managedUsers(principal), { businessUnits: { $in: [...principal.businessUnitIds] } }],
  };
}

/** Business units the caller may name: SUPPORT any, ADMIN their organisation's. */
export function ownOrganization(principal: Principal): { organization?: string } {
  return principal.role === Role.SUPPORT ? {} : { organization: principal.organizationId };
}

/** The user `id` if the caller may manage them; otherwise the same error as for an id that does not exist. */
export async function findManagedUser(em: EntityManager, principal: Principal, id: string, field: string): Promise<User> {
  const user = isUuid(id)
    ? await em.findOne(User, { $and: [{ id }, managedUsers(principal)] }, { populate: ['businessUnits'] })
    : null;
  if (!user) throw new NoSuchRecordError('user', field);
  return user;
}

/** Like `findManagedUser`, for reads: narrowed to the caller's business units. */
export async function findVisibleUser(em: EntityManager, principal: Principal, id: string, field: string): Promise<User> {
  const user = isUuid(id) ? await em.findOne(User, { $and: [{ id }, visibleUsers(principal)] }) : null;
  if (!user) throw new NoSuchRecordError('user', field);
  return user;
}

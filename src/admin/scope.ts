import type { EntityManager, ObjectQuery } from '@mikro-orm/core';
import type { Principal } from '../auth/principal.js';
import { BadUserInputError, ForbiddenError, NoSuchRecordError } from '../errors.js';
import { isUuid } from '../ids.js';
import { BusinessUnit } from '../users/business-unit.entity.js';
import { Role } from '../auth/role.js';
import { User } from '../users/user.entity.js';

/**
 * Who may manage and see whom. One place, so every admin operation answers an
 * out-of-scope id exactly as it answers an id that does not exist.
 *
 * - SUPPORT belongs to the vendor and reaches every organisation.
 * - ADMIN reaches the users of their own organisation, except SUPPORT users:
 *   those are vendor staff who happen to be filed under a tenant, and a
 *   tenant admin must not be able to demote, deactivate or inspect them.
 * - An ADMIN with business units is narrowed further, for reads and changes
 *   alike, to users sharing at least one of them; an ADMIN with none covers
 *   the whole organisation. Units are therefore part of an admin's authority,
 *   so nobody changes their own, and a scoped admin hands out, takes away
 *   and requires only units of their own (see `assignableUnits`): otherwise
 *   they could drop their units, or create a unit-less admin, to reach the
 *   whole organisation.
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

/** Users the caller may read and change (an ADMIN or SUPPORT principal). */
export function managedUsers(principal: Principal): ObjectQuery<User> {
  if (principal.role === Role.SUPPORT) return {};
  const organization: ObjectQuery<User> = { organization: principal.organizationId, role: { $ne: Role.SUPPORT } };
  if (principal.businessUnitIds.length === 0) return organization;
  return { $and: [organization, { businessUnits: { $in: [...principal.businessUnitIds] } }] };
}

/**
 * Business units the caller may name in a filter: SUPPORT any, ADMIN their
 * organisation's. Naming a unit reveals nothing: an admin already sees the
 * units of the users in their scope, and a filter still lists only those users.
 */
export function ownOrganization(principal: Principal): { organization?: string } {
  return principal.role === Role.SUPPORT ? {} : { organization: principal.organizationId };
}

/** The user `id` if the caller may manage them; otherwise the same error as for an id that does not exist. */
export async function findManagedUser(em: EntityManager, principal: Principal, id: string, field: string): Promise<User> {
  const user = isUuid(id) ? await em.findOne(User, { $and: [{ id }, managedUsers(principal)] }, { populate: ['businessUnits'] }) : null;
  if (!user) throw new NoSuchRecordError('user', field);
  return user;
}

/** Like `findManagedUser`, for reads. */
export async function findVisibleUser(em: EntityManager, principal: Principal, id: string, field: string): Promise<User> {
  return findManagedUser(em, principal, id, field);
}

/**
 * The units `ids` as a user's new set, checked against the caller's scope.
 * `current` is the user's set before (empty for a new user). A unit of
 * another organisation, or (for an admin with units) one the caller is not
 * in that is being added or removed, is answered like an unknown id. A
 * scoped admin cannot leave a user with no unit: a unit-less user is outside
 * their scope, and a unit-less admin would reach the whole organisation.
 */
export async function assignableUnits(
  em: EntityManager,
  principal: Principal,
  ids: readonly string[],
  current: readonly string[],
  field: string,
): Promise<BusinessUnit[]> {
  const scoped = principal.role === Role.ADMIN && principal.businessUnitIds.length > 0;
  if (scoped) {
    const mine = new Set(principal.businessUnitIds);
    const changed = [...ids.filter((id) => !current.includes(id)), ...current.filter((id) => !ids.includes(id))];
    if (!changed.every((id) => mine.has(id))) throw new NoSuchRecordError('business unit', field);
    if (ids.length === 0) throw new BadUserInputError('Give the user at least one of your business units.', field);
  }
  if (ids.length === 0) return [];
  const units = await em.find(BusinessUnit, { id: { $in: [...ids] }, organization: principal.organizationId });
  if (units.length !== ids.length) throw new NoSuchRecordError('business unit', field);
  return units;
}

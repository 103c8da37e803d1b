import type { MikroORM } from '@mikro-orm/core';
import type { AdminServices } from '../admin/admin-services.js';
import { ownUnit, type MembershipChange } from '../admin/business-units.service.js';
import { managedUsers } from '../admin/scope.js';
import type { Principal } from '../auth/principal.js';
import { isUuid } from '../ids.js';
import { BusinessUnit } from '../users/business-unit.entity.js';
import { User } from '../users/user.entity.js';
import { GROUP_SCHEMA, MAX_PAGE, listResponse } from './discovery.js';
import { parseEqualityFilter } from './filter.js';
import { ScimError, invalidValue } from './scim-errors.js';
import { patchOperations } from './patch.js';
import { attributeOf, bodyObject, filterParameter, isObject, paging, stringValue, type Json } from './values.js';

const FILTERABLE = ['displayName', 'id'];
const MEMBER_FILTER = /^members\s*\[\s*value\s+eq\s+"([^"]*)"\s*\]$/i;

/**
 * `/Groups`: the organisation's business units. Membership changes go
 * through BusinessUnitService, which records a USER_UPDATED for each user
 * whose units changed, so a role or unit change applies to their next
 * request in every instance.
 */
export class ScimGroups {
  constructor(
    private readonly orm: MikroORM,
    private readonly admin: AdminServices,
  ) {}

  async get(principal: Principal, id: string, base: string, withMembers: boolean): Promise<Json> {
    const unit = await ownUnit(this.orm.em.fork(), principal, id);
    const [resource] = await this.resources(principal, [unit], base, withMembers);
    if (!resource) throw ScimError.notFound('Group');
    return resource;
  }

  async list(principal: Principal, query: Json, base: string, withMembers: boolean): Promise<Json> {
    const { startIndex, count } = paging(query, MAX_PAGE);
    const where: Record<string, unknown>[] = [{ organization: principal.organizationId }];
    const filter = filterParameter(query);
    if (filter !== null) {
      const { attribute, value } = parseEqualityFilter(filter, FILTERABLE);
      if (attribute === 'id' && !isUuid(value)) return listResponse([], 0, startIndex);
      where.push(attribute === 'id' ? { id: value } : { name: value.trim() });
    }
    const em = this.orm.em.fork();
    const [units, total] = await em.findAndCount(
      BusinessUnit,
      { $and: where },
      {
        orderBy: { createdAt: 'asc', id: 'asc' },
        offset: startIndex - 1,
        limit: count,
      },
    );
    const resources = count === 0 ? [] : await this.resources(principal, units, base, withMembers);
    return listResponse(resources, total, startIndex);
  }

  /** One transaction: the group and its members exist together, or not at all. */
  async create(principal: Principal, body: unknown, base: string): Promise<Json> {
    const object = bodyObject(body);
    const name = displayNameOf(object);
    const members = membersOf(attributeOf(object, 'members') ?? []);
    await this.requireMembers(principal, members);
    const unit = await this.admin.atomically(async () => {
      const created = await this.admin.users.createBusinessUnit(principal, name);
      if (members.length) await this.admin.units.changeMembers(principal, created.id, { set: members });
      return created;
    });
    return this.get(principal, unit.id, base, true);
  }

  /** The name and the members in one transaction. */
  async replace(principal: Principal, id: string, body: unknown, base: string): Promise<Json> {
    const object = bodyObject(body);
    await ownUnit(this.orm.em.fork(), principal, id);
    const name = displayNameOf(object);
    const members = membersOf(attributeOf(object, 'members') ?? []);
    await this.admin.atomically(async () => {
      await this.admin.units.rename(principal, id, name);
      await this.admin.units.changeMembers(principal, id, { set: members });
    });
    return this.get(principal, id, base, true);
  }

  /**
   * PatchOp in the forms Okta and Entra ID send (RFC 7644 §3.5.2), paths with
   * or without the Group schema's URN; all of it commits or none of it.
   * Answered with the group, members included.
   */
  async patch(principal: Principal, id: string, body: unknown, base: string): Promise<Json> {
    await ownUnit(this.orm.em.fork(), principal, id);
    let rename: string | null = null;
    const change: { add: string[]; remove: string[]; set?: string[] } = { add: [], remove: [] };
    const add = (ids: readonly string[]) => {
      if (change.set) change.set.push(...ids);
      else change.add.push(...ids);
      change.remove = change.remove.filter((each) => !ids.includes(each));
    };
    const remove = (ids: readonly string[]) => {
      if (change.set) change.set = change.set.filter((each) => !ids.includes(each));
      else change.remove.push(...ids);
      change.add = change.add.filter((each) => !ids.includes(each));
    };
    const set = (ids: readonly string[]) => {
      change.set = [...ids];
      change.add = [];
      change.remove = [];
    };
    const applyValue = (op: 'add' | 'replace' | 'remove', object: Json) => {
      for (const [key, inner] of Object.entries(object)) {
        const attribute = groupAttribute(key);
        if (attribute === 'displayname') rename = stringValue(inner, 'displayName');
        else if (attribute === 'members') (op === 'add' ? add : set)(membersOf(inner));
        else if (attribute === 'resource' && isObject(inner)) applyValue(op, inner);
        // Other keys of a whole-group value (schemas, externalId, unknown extensions) are not kept.
      }
    };
    for (const { op, path, value } of patchOperations(bodyObject(body))) {
      const target = path === null ? null : groupAttribute(path);
      const member = target ? MEMBER_FILTER.exec(target) : null;
      if (member) {
        if (op !== 'remove') throw invalidValue('Only remove can target one member by filter.');
        remove([member[1] ?? '']);
      } else if (target === null || target === 'resource') {
        if (op === 'remove') throw new ScimError(400, 'noTarget', 'A remove operation needs a path.');
        if (!isObject(value)) throw invalidValue('An operation without a path needs an object value.');
        applyValue(op, value);
      } else if (target === 'members') {
        if (op === 'add') add(membersOf(value));
        else if (op === 'replace') set(membersOf(value ?? []));
        else if (value === undefined) set([]);
        else remove(membersOf(value));
      } else if (target === 'displayname') {
        if (op === 'remove') throw new ScimError(400, 'mutability', 'displayName is required and cannot be removed.');
        rename = stringValue(value, 'displayName');
      } else if (['id', 'meta'].includes(target.split(/[.[]/)[0] ?? '')) {
        throw new ScimError(400, 'mutability', `${path} is read-only.`);
      } else if (target !== 'unknown-extension') {
        throw new ScimError(400, 'invalidPath', `"${path}" is not an attribute this service keeps; see /Schemas.`);
      }
    }
    const membership: MembershipChange = change.set ? { set: change.set } : { add: change.add, remove: change.remove };
    await this.admin.atomically(async () => {
      if (rename !== null) await this.admin.units.rename(principal, id, rename);
      await this.admin.units.changeMembers(principal, id, membership);
    });
    return this.get(principal, id, base, true);
  }

  async delete(principal: Principal, id: string): Promise<void> {
    await this.admin.units.delete(principal, id);
  }

  private async requireMembers(principal: Principal, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    if (!ids.every(isUuid)) throw invalidValue('members: No such user.');
    const found = await this.orm.em.fork().count(User, { $and: [{ id: { $in: [...ids] } }, managedUsers(principal)] });
    if (found !== new Set(ids).size) throw invalidValue('members: No such user.');
  }

  private async resources(principal: Principal, units: readonly BusinessUnit[], base: string, withMembers: boolean): Promise<Json[]> {
    const members = new Map<string, User[]>();
    if (withMembers && units.length) {
      const ids = units.map((unit) => unit.id);
      const users = await this.orm.em
        .fork()
        .find(
          User,
          { $and: [managedUsers(principal), { businessUnits: { $in: ids } }] },
          { populate: ['businessUnits'], orderBy: { createdAt: 'asc', id: 'asc' } },
        );
      for (const user of users) {
        for (const unit of user.businessUnits.getItems()) {
          if (ids.includes(unit.id)) members.set(unit.id, [...(members.get(unit.id) ?? []), user]);
        }
      }
    }
    return units.map((unit) => ({
      schemas: [GROUP_SCHEMA],
      id: unit.id,
      displayName: unit.name,
      ...(withMembers
        ? {
            members: (members.get(unit.id) ?? []).map((user) => ({
              value: user.id,
              display: user.email,
              $ref: `${base}/Users/${user.id}`,
            })),
          }
        : {}),
      meta: {
        resourceType: 'Group',
        created: unit.createdAt.toISOString(),
        lastModified: (unit.updatedAt ?? unit.createdAt).toISOString(),
        location: `${base}/Groups/${unit.id}`,
      },
    }));
  }
}

const GROUP_PREFIX = `${GROUP_SCHEMA.toLowerCase()}:`;

/**
 * A Group path or value key, lower-cased, without the Group schema's URN
 * (RFC 7644 §3.10): `resource` for the URN alone, `unknown-extension` for an
 * extension's attribute, which is not kept.
 */
function groupAttribute(path: string): string {
  const lower = path.trim().toLowerCase();
  if (lower === GROUP_SCHEMA.toLowerCase()) return 'resource';
  if (lower.startsWith(GROUP_PREFIX)) return lower.slice(GROUP_PREFIX.length);
  if (lower.startsWith('urn:')) return 'unknown-extension';
  return lower;
}

function displayNameOf(object: Json): string {
  const name = attributeOf(object, 'displayName');
  if (name === undefined || name === null) throw invalidValue('displayName is required.');
  return stringValue(name, 'displayName');
}

/** `[{"value":"<user id>"}, ...]`, the shape of `members` in every request form. */
function membersOf(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((member: unknown) => {
    const id = isObject(member) ? attributeOf(member, 'value') : undefined;
    if (typeof id !== 'string') throw invalidValue('members must be a list of {"value": "<user id>"}.');
    return id;
  });
}

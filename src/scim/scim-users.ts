import type { EntityManager, FilterQuery, MikroORM } from '@mikro-orm/core';
import type { AdminServices } from '../admin/admin-services.js';
import { findManagedUser, managedUsers } from '../admin/scope.js';
import type { Principal } from '../auth/principal.js';
import { isUuid } from '../ids.js';
import { User } from '../users/user.entity.js';
import { MAX_PAGE, listResponse } from './discovery.js';
import { parseEqualityFilter } from './filter.js';
import { project } from './projection.js';
import { ScimError } from './scim-errors.js';
import { nameOf, userFromBody, userPatch, userResource, type UserFields } from './user-resource.js';
import { bodyObject, filterParameter, paging, type Json } from './values.js';

const FILTERABLE = ['userName', 'externalId', 'id', 'emails.value', 'emails[type eq "work"].value'];

/**
 * `/Users`: reads go straight to the organisation's users; every change goes
 * through the admin services, so it is audited, revokes tokens, closes
 * sockets, sends mail and publishes events exactly as an admin's change does.
 */
export class ScimUsers {
  constructor(
    private readonly orm: MikroORM,
    private readonly admin: AdminServices,
  ) {}

  /** `query` may hold `attributes` / `excludedAttributes`. */
  async get(principal: Principal, id: string, base: string, query: Json = {}): Promise<Json> {
    return project(userResource(await this.load(this.orm.em.fork(), principal, id), base), query);
  }

  async list(principal: Principal, query: Json, base: string): Promise<Json> {
    const { startIndex, count } = paging(query, MAX_PAGE);
    const where: FilterQuery<User>[] = [managedUsers(principal)];
    const filter = filterParameter(query);
    if (filter !== null) {
      const { attribute, value } = parseEqualityFilter(filter, FILTERABLE);
      // An id that is not even a UUID names nobody: an empty list, not an error.
      if (attribute === 'id' && !isUuid(value)) return listResponse([], 0, startIndex);
      if (attribute === 'externalId') where.push({ externalId: value });
      else if (attribute === 'id') where.push({ id: value });
      else where.push({ email: value.trim().toLowerCase() });
    }
    // The page's ids first, on `users (organization_id, created_at, id)`: no join, so the
    // offset walks one organisation's index entries and never the table; then the
    // page's users with their units, by id (no to-many populate under a limit).
    // Each read has its own fork: the ids are partial entities, the page's users whole.
    const scope = { $and: where };
    const [page, total] = await Promise.all([
      count === 0
        ? []
        : this.orm.em
            .fork()
            .find(User, scope, { fields: ['id'], orderBy: { createdAt: 'asc', id: 'asc' }, offset: startIndex - 1, limit: count }),
      this.orm.em.fork().count(User, scope),
    ]);
    const em = this.orm.em.fork();
    const ids = page.map((user) => user.id);
    const users = ids.length ? await em.find(User, { id: { $in: ids } }, { populate: ['businessUnits'] }) : [];
    const byId = new Map(users.map((user) => [user.id, user]));
    const resources = ids.flatMap((id) => {
      const user = byId.get(id);
      return user ? [project(userResource(user, base), query)] : [];
    });
    return listResponse(resources, total, startIndex);
  }

  /** One transaction: a user created inactive never exists, committed, as an active one. */
  async create(principal: Principal, body: unknown, base: string): Promise<Json> {
    const fields = userFromBody(bodyObject(body));
    const email = fields.email ?? '';
    const user = await this.admin.atomically(async () => {
      const created = await this.admin.users.createUser(principal, {
        email,
        name: nameOf(fields) ?? email,
        role: fields.role ?? null,
        externalId: fields.externalId ?? null,
      });
      if (fields.active === false) await this.admin.users.deactivateUser(principal, created.id);
      return created;
    });
    return this.get(principal, user.id, base);
  }

  /**
   * PUT replaces what SCIM may set: a user sent without any name has their
   * name removed (it falls back to the email). The role stays when the
   * extension is absent: not every directory maps it.
   */
  async replace(principal: Principal, id: string, body: unknown, base: string): Promise<Json> {
    const object = bodyObject(body);
    if (typeof object['id'] === 'string' && object['id'] !== id) throw new ScimError(400, 'mutability', 'id cannot be changed.');
    const user = await this.load(this.orm.em.fork(), principal, id);
    const fields = userFromBody(object);
    await this.apply(principal, user, { ...fields, externalId: fields.externalId ?? '', nameRemoved: nameOf(fields) === undefined });
    return this.get(principal, id, base);
  }

  async patch(principal: Principal, id: string, body: unknown, base: string): Promise<Json> {
    const user = await this.load(this.orm.em.fork(), principal, id);
    await this.apply(principal, user, userPatch(bodyObject(body)));
    return this.get(principal, id, base);
  }

  /** Deactivates (users are never deleted: their audit trail stays, and a directory may re-activate them). */
  async delete(principal: Principal, id: string): Promise<void> {
    await this.admin.users.deactivateUser(principal, id);
  }

  /**
   * Attributes and status in one transaction: a refused change (a taken
   * userName) leaves the user as they were, active or not. Re-activation
   * brings no token back: it was revoked, irreversibly, at deactivation.
   */
  private async apply(principal: Principal, user: User, fields: UserFields): Promise<void> {
    const email = fields.email?.trim().toLowerCase() ?? user.email;
    for (const value of fields.emails ?? []) {
      if (value.trim().toLowerCase() !== email) {
        throw new ScimError(400, 'mutability', 'emails mirrors userName here: change userName instead.');
      }
    }
    // A user without a name is shown without one: their name is their email, and follows it.
    const unnamed = user.name === user.email;
    const name = nameOf(fields, user.name) ?? (fields.nameRemoved || (unnamed && email !== user.email) ? email : null);
    await this.admin.atomically(async () => {
      await this.admin.users.updateUser(principal, user.id, {
        email: fields.email ?? null,
        name,
        role: fields.role ?? null,
        externalId: fields.externalId ?? null,
      });
      if (fields.active === false) await this.admin.users.deactivateUser(principal, user.id);
      if (fields.active === true) await this.admin.users.reactivateUser(principal, user.id);
    });
  }

  private load(em: EntityManager, principal: Principal, id: string): Promise<User> {
    return findManagedUser(em, principal, id, 'id');
  }
}

import type { EntityManager } from '@mikro-orm/core';
import { subjectOf } from '../audit/audit-log.js';
import type { Changes, Tx } from '../audit/changes.js';
import { actorOf, type Principal } from '../auth/principal.js';
import type { Clock } from '../clock.js';
import { onUniqueViolation, retryOnUniqueViolation } from '../db/unique.js';
import { BadUserInputError, DuplicateError, NoSuchRecordError } from '../errors.js';
import { isUuid } from '../ids.js';
import { BusinessUnit } from '../users/business-unit.entity.js';
import { User } from '../users/user.entity.js';
import { managedUsers, requireAdmin } from './scope.js';
import { validName } from './validate.js';

/** Who joins and who leaves a unit; `set` replaces the whole membership. */
export interface MembershipChange {
  readonly add?: readonly string[];
  readonly remove?: readonly string[];
  readonly set?: readonly string[];
}

/**
 * Business units beyond creation: renaming, deleting and membership, as an
 * identity provider's groups need them. A membership change, or a rename, is
 * recorded as `USER_UPDATED` on every user whose units changed, like
 * `updateUser`, so each user's trail (and every cache keyed on it) sees it;
 * the unit's own changes are `BUSINESS_UNIT_UPDATED` / `BUSINESS_UNIT_DELETED`.
 */
export class BusinessUnitService {
  constructor(
    private readonly changes: Changes,
    private readonly clock: Clock,
  ) {}

  async rename(principal: Principal, id: string, name: string): Promise<BusinessUnit> {
    requireAdmin(principal);
    const unitName = validName(name, 'name');
    return onUniqueViolation(
      () =>
        this.changes.run(async (tx) => {
          const unit = await ownUnit(tx.em, principal, id);
          if (unit.name === unitName) return unit;
          const before = unit.name;
          unit.name = unitName;
          unit.updatedAt = this.clock.now();
          await tx.em.flush();
          const actor = actorOf(principal);
          const occurredAt = this.clock.now();
          await tx.record({
            action: 'BUSINESS_UNIT_UPDATED',
            actor,
            occurredAt,
            organizationId: principal.organizationId,
            reason: `Business unit "${before}" -> "${unitName}"`,
          });
          // What every instance caches about a member names their units: recorded
          // on each member, like a membership change, it is dropped everywhere.
          for (const member of await tx.em.find(User, { businessUnits: unit.id })) {
            await tx.record({
              action: 'USER_UPDATED',
              actor,
              occurredAt,
              subject: subjectOf(member),
              reason: `business unit "${before}" renamed to "${unitName}"`,
            });
          }
          return unit;
        }),
      () => new DuplicateError('A business unit with this name already exists.', 'name'),
    );
  }

  /** Deletes the unit; its members lose it at their next request. */
  async delete(principal: Principal, id: string): Promise<void> {
    requireAdmin(principal);
    await this.changes.run(async (tx) => {
      const unit = await ownUnit(tx.em, principal, id);
      const members = await tx.em.find(User, { businessUnits: unit.id }, { populate: ['businessUnits'] });
      await this.recordMembership(tx, principal, unit, members, []);
      await tx.em.nativeDelete(BusinessUnit, { id: unit.id });
      await tx.record({
        action: 'BUSINESS_UNIT_DELETED',
        actor: actorOf(principal),
        occurredAt: this.clock.now(),
        organizationId: principal.organizationId,
        reason: `Business unit "${unit.name}"`,
      });
    });
  }

  /** Members join and leave in one transaction; an id of a user the caller cannot manage fails it all. */
  async changeMembers(principal: Principal, id: string, change: MembershipChange): Promise<BusinessUnit> {
    requireAdmin(principal);
    const add = validUnitMembers(change.add);
    const remove = validUnitMembers(change.remove);
    const set = change.set === undefined ? null : validUnitMembers(change.set);
    const work = () => this.changes.run(async (tx) => {
      const unit = await ownUnit(tx.em, principal, id);
      const current = await tx.em.find(User, { businessUnits: unit.id }, { populate: ['businessUnits'] });
      const target = new Set(set ?? current.map((user) => user.id));
      for (const userId of add) target.add(userId);
      for (const userId of remove) target.delete(userId);
      const joining = [...target].filter((userId) => !current.some((user) => user.id === userId));
      const joiners = await this.managed(tx.em, principal, joining);
      await this.recordMembership(tx, principal, unit, [...current, ...joiners], [...target]);
      return unit;
    });
    // Two requests adding the same member at once: the loser's insert hits the pivot's key; its retry finds the member.
    // Inside a larger change the failed insert spoiled its transaction: the outer change retries, whole.
    return this.changes.joined ? work() : retryOnUniqueViolation(work);
  }

  /** Users the caller manages, all of `ids` or a NoSuchRecordError on `members`. */
  private async managed(em: EntityManager, principal: Principal, ids: readonly string[]): Promise<User[]> {
    if (ids.length === 0) return [];
    const users = await em.find(User, { $and: [{ id: { $in: [...ids] } }, managedUsers(principal)] }, { populate: ['businessUnits'] });
    if (users.length !== ids.length) throw new NoSuchRecordError('user', 'members');
    return users;
  }

  /** Puts exactly `memberIds` of `users` in the unit and the rest out, recording each user that changed. */
  private async recordMembership(tx: Tx, principal: Principal, unit: BusinessUnit, users: readonly User[], memberIds: readonly string[]) {
    const now = this.clock.now();
    for (const user of users) {
      const isMember = user.businessUnits.getItems().some((each) => each.id === unit.id);
      const shouldBe = memberIds.includes(user.id);
      if (isMember === shouldBe) continue;
      if (shouldBe) user.businessUnits.add(unit);
      else user.businessUnits.remove((each) => each.id === unit.id);
      // Both resources show the membership: the group's members and the user's groups.
      unit.updatedAt = now;
      user.updatedAt = now;
      await tx.em.flush();
      await tx.record({
        action: 'USER_UPDATED',
        actor: actorOf(principal),
        occurredAt: now,
        subject: subjectOf(user),
        reason: `${shouldBe ? 'added to' : 'removed from'} business unit "${unit.name}"`,
      });
    }
  }
}

/** A unit of the caller's organisation; one of another organisation is answered like one that does not exist. */
export async function ownUnit(em: EntityManager, principal: Principal, id: string): Promise<BusinessUnit> {
  const unit = isUuid(id) ? await em.findOne(BusinessUnit, { id, organization: principal.organizationId }) : null;
  if (!unit) throw new NoSuchRecordError('business unit', 'id');
  return unit;
}

/** A bound on one request's member list, far above what a directory sends in one call. */
const MAX_MEMBERS = 1000;

function validUnitMembers(ids: readonly string[] | undefined): string[] {
  const unique = [...new Set(ids ?? [])];
  if (unique.length > MAX_MEMBERS) throw new BadUserInputError(`At most ${MAX_MEMBERS} members per request.`, 'members');
  if (!unique.every(isUuid)) throw new NoSuchRecordError('user', 'members');
  return unique;
}

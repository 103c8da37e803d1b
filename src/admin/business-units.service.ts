import type { EntityManager } from '@mikro-orm/core';
import { subjectOf } from '../audit/audit-log.js';
import type { Changes, Tx } from '../audit/changes.js';
import type { Principal } from '../auth/principal.js';
import { actorOf } from '../audit/actor.js';
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
      await this.recordMembership(tx, principal, unit, members, new Set());
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

  /**
   * Members join and leave, in one transaction (the SCIM request's own, when
   * it runs inside one): a change that fails part-way leaves nothing applied.
   * Every id is checked first: one of a user the caller cannot manage fails
   * the whole change before anything is written. The users are then loaded and
   * flushed `MEMBERSHIP_CHUNK` at a time, and their audit events are written in
   * one batch at the commit, so a 1,000-member change costs a handful of
   * statements rather than one round trip per member. A member whose access
   * it ends is refused from that commit on, on every instance.
   */
  async changeMembers(principal: Principal, id: string, change: MembershipChange): Promise<BusinessUnit> {
    requireAdmin(principal);
    const add = validUnitMembers(change.add);
    const remove = validUnitMembers(change.remove);
    const set = change.set === undefined ? null : validUnitMembers(change.set);
    const work = () =>
      this.changes.run(async (tx) => {
        const unit = await ownUnit(tx.em, principal, id);
        const current = new Set((await tx.em.find(User, { businessUnits: unit.id }, { fields: ['id'] })).map((user) => user.id));
        const target = new Set(set ?? current);
        for (const userId of add) target.add(userId);
        for (const userId of remove) target.delete(userId);
        const joining = [...target].filter((userId) => !current.has(userId));
        const leaving = [...current].filter((userId) => !target.has(userId));
        // Every id is checked before anything is written: one the caller cannot manage fails the whole change.
        await this.requireManaged(tx.em, principal, joining);
        const changed = [...joining, ...leaving];
        for (let start = 0; start < changed.length; start += MEMBERSHIP_CHUNK) {
          const chunk = changed.slice(start, start + MEMBERSHIP_CHUNK);
          const users = await tx.em.find(User, { id: { $in: chunk } }, { populate: ['businessUnits'] });
          await this.recordMembership(tx, principal, unit, users, target);
        }
        return unit;
      });
    // Two requests adding the same member at once: the loser's insert hits the pivot's key; its retry finds the member.
    // Inside a larger change the failed insert spoiled its transaction: the outer change retries, whole.
    return this.changes.joined ? work() : retryOnUniqueViolation(work);
  }

  /** That the caller manages every one of `ids`, or a NoSuchRecordError on `members`; reads ids only. */
  private async requireManaged(em: EntityManager, principal: Principal, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const found = await em.count(User, { $and: [{ id: { $in: [...ids] } }, managedUsers(principal)] });
    if (found !== ids.length) throw new NoSuchRecordError('user', 'members');
  }

  /**
   * Puts exactly the `members` among `users` in the unit and the rest out: one
   * flush for all of them, then one audit event per user that changed, which
   * the transaction's commit writes in one batch.
   */
  private async recordMembership(tx: Tx, principal: Principal, unit: BusinessUnit, users: readonly User[], members: ReadonlySet<string>) {
    const now = this.clock.now();
    const changed: { user: User; joined: boolean }[] = [];
    for (const user of users) {
      const isMember = user.businessUnits.getItems().some((each) => each.id === unit.id);
      const shouldBe = members.has(user.id);
      if (isMember === shouldBe) continue;
      if (shouldBe) user.businessUnits.add(unit);
      else user.businessUnits.remove((each) => each.id === unit.id);
      changed.push({ user, joined: shouldBe });
    }
    if (changed.length === 0) return;
    // Both resources show the membership: the group's members and the user's groups.
    unit.updatedAt = now;
    for (const { user } of changed) user.updatedAt = now;
    await tx.em.flush();
    for (const { user, joined } of changed) {
      await tx.record({
        action: 'USER_UPDATED',
        actor: actorOf(principal),
        occurredAt: now,
        subject: subjectOf(user),
        reason: `${joined ? 'added to' : 'removed from'} business unit "${unit.name}"`,
      });
    }
  }
}

/** Users loaded and flushed at once in a membership change: bounds the statements' size and the memory one change holds. */
const MEMBERSHIP_CHUNK = 250;

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

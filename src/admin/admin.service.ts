import { subjectOf } from '../audit/audit-log.js';
import type { Changes } from '../audit/changes.js';
import { credentialsValidAfter } from '../auth/credentials-valid-after.js';
import type { Principal } from '../auth/principal.js';
import { actorOf } from '../audit/actor.js';
import type { Clock } from '../clock.js';
import { onUniqueViolation } from '../db/unique.js';
import { BadUserInputError, DuplicateError } from '../errors.js';
import type { TokenService } from '../tokens/token.service.js';
import { requireOwnDomain } from './domains.js';
import { validEmail, validExternalId, validName, validRole, validUnitIds } from './validate.js';
import { assignableUnits, findManagedUser, requireAdmin } from './scope.js';
import type { NewUserData, UserChangesData } from './user-data.js';
import { BusinessUnit } from '../users/business-unit.entity.js';
import { Organization } from '../users/organization.entity.js';
import { Role } from '../auth/role.js';
import { User } from '../users/user.entity.js';

/**
 * An organisation admin's work on their own organisation: business units and
 * users. Each change is one transaction with its audit record. Role, unit and
 * status changes need nothing else: every request resolves its principal
 * from the database, so they apply from the next request on, in every region.
 *
 * Methods take plain data and report client errors on plain attribute names
 * (`email`, `businessUnitIds`, `id`): the GraphQL resolvers and the SCIM
 * routes both call them, and each says where the attribute sits in its own
 * request.
 */
export class AdminService {
  constructor(
    private readonly changes: Changes,
    private readonly clock: Clock,
    private readonly tokens: TokenService,
  ) {}

  async createBusinessUnit(principal: Principal, name: string): Promise<BusinessUnit> {
    requireAdmin(principal);
    const unitName = validName(name, 'name');
    return this.unique('name', 'A business unit with this name already exists.', () =>
      this.changes.run(async (tx) => {
        const now = this.clock.now();
        const organization = tx.em.getReference(Organization, principal.organizationId);
        const unit = tx.em.create(BusinessUnit, { organization, name: unitName, createdAt: now });
        await tx.em.flush();
        await tx.record({
          action: 'BUSINESS_UNIT_CREATED',
          actor: actorOf(principal),
          occurredAt: now,
          organizationId: principal.organizationId,
          reason: `Business unit "${unitName}"`,
        });
        return unit;
      }),
    );
  }

  async createUser(principal: Principal, data: NewUserData): Promise<User> {
    requireAdmin(principal);
    const email = validEmail(data.email, 'email');
    const name = validName(data.name, 'name');
    const role = validRole(data.role ?? Role.USER, 'role');
    const unitIds = validUnitIds(data.businessUnitIds ?? [], 'businessUnitIds');
    const externalId = data.externalId == null ? null : validExternalId(data.externalId, 'externalId');
    // Emails are unique across the service, so a taken one must be refused; the
    // message says neither that the address exists nor in which organisation.
    return this.unique('email', 'Could not create a user with this email address.', () =>
      this.changes.run(async (tx) => {
        const now = this.clock.now();
        await requireOwnDomain(tx.em, principal.organizationId, email, 'email');
        const units = await assignableUnits(tx.em, principal, unitIds, [], 'businessUnitIds');
        const organization = tx.em.getReference(Organization, principal.organizationId);
        const user = tx.em.create(User, { organization, email, name, role, externalId, createdAt: now });
        user.businessUnits.set(units);
        await tx.em.flush();
        await tx.record({ action: 'USER_CREATED', actor: actorOf(principal), occurredAt: now, subject: subjectOf(user) });
        return user;
      }),
    );
  }

  /** Changes only the fields given; records what changed, or nothing when nothing did. */
  async updateUser(principal: Principal, id: string, data: UserChangesData): Promise<User> {
    requireAdmin(principal);
    const changes: ValidChanges = {
      email: data.email == null ? null : validEmail(data.email, 'email'),
      role: data.role == null ? null : validRole(data.role, 'role'),
      name: data.name == null ? null : validName(data.name, 'name'),
      unitIds: data.businessUnitIds == null ? null : validUnitIds(data.businessUnitIds, 'businessUnitIds'),
      externalId: data.externalId == null ? undefined : validExternalId(data.externalId, 'externalId'),
    };
    return this.unique('email', 'A user with this email already exists.', () => this.update(principal, id, changes));
  }

  private update(principal: Principal, id: string, { email, role, name, unitIds, externalId }: ValidChanges): Promise<User> {
    return this.changes.run(async (tx) => {
      const user = await findManagedUser(tx.em, principal, id, 'id');
      const changed: string[] = [];
      if (email !== null && email !== user.email) {
        await requireOwnDomain(tx.em, principal.organizationId, email, 'email');
        changed.push(`email ${user.email} -> ${email}`);
        user.email = email;
      }
      if (role !== null && role !== user.role) {
        // An admin who demotes themselves could leave the organisation without one.
        if (user.id === principal.userId) throw new BadUserInputError('You cannot change your own role.', 'role');
        changed.push(`role ${user.role} -> ${role}`);
        user.role = role;
      }
      if (name !== null && name !== user.name) {
        changed.push(`name "${user.name}" -> "${name}"`);
        user.name = name;
      }
      if (externalId !== undefined && externalId !== user.externalId) {
        changed.push('external id');
        user.externalId = externalId;
      }
      if (unitIds !== null) {
        const current = user.businessUnits.getItems().map((unit) => unit.id);
        const same = current.length === unitIds.length && unitIds.every((id) => current.includes(id));
        // An admin's units are their scope: changing their own would widen it.
        if (!same && user.id === principal.userId) {
          throw new BadUserInputError('You cannot change your own business units.', 'businessUnitIds');
        }
        const units = await assignableUnits(tx.em, principal, unitIds, current, 'businessUnitIds');
        const before = unitNames(user.businessUnits.getItems());
        const after = unitNames(units);
        if (before !== after) {
          changed.push(`business units [${before}] -> [${after}]`);
          // A unit a user joined or left shows other members now (SCIM `meta.lastModified`).
          const now = this.clock.now();
          const kept = (unit: BusinessUnit, others: readonly BusinessUnit[]) => others.some((other) => other.id === unit.id);
          const previous = user.businessUnits.getItems();
          for (const unit of [...previous.filter((each) => !kept(each, units)), ...units.filter((each) => !kept(each, previous))])
            unit.updatedAt = now;
          user.businessUnits.set(units);
        }
      }
      if (changed.length === 0) return user;
      user.updatedAt = this.clock.now();
      await tx.em.flush();
      await tx.record({
        action: 'USER_UPDATED',
        actor: actorOf(principal),
        occurredAt: this.clock.now(),
        subject: subjectOf(user),
        reason: changed.join('; '),
      });
      return user;
    });
  }

  /**
   * Deactivates the user, then revokes their token as the admin. The first
   * commit is what stops them: sessions and the token both stop
   * authenticating an inactive user at the next request. The revocation
   * (its email and event) follows as its own change.
   */
  async deactivateUser(principal: Principal, id: string): Promise<User> {
    requireAdmin(principal);
    if (id === principal.userId) throw new BadUserInputError('You cannot deactivate yourself.', 'id');
    return this.changes.run(async (tx) => {
      const user = await findManagedUser(tx.em, principal, id, 'id');
      if (!user.active) return user;
      user.active = false;
      // Sessions issued until now never authenticate again, re-activation or not.
      user.credentialsValidAfter = credentialsValidAfter(new Date(), user.credentialsValidAfter);
      user.updatedAt = this.clock.now();
      await tx.em.flush();
      await tx.record({ action: 'USER_DEACTIVATED', actor: actorOf(principal), occurredAt: this.clock.now(), subject: subjectOf(user) });
      await this.tokens.revokeWithin(tx, actorOf(principal), user.id, 'The account was deactivated.');
      return user;
    });
  }

  /**
   * Lets a deactivated user sign in again. Their old token stays gone: it was
   * revoked (deleted) at deactivation, and revocation is irreversible.
   */
  async reactivateUser(principal: Principal, id: string): Promise<User> {
    requireAdmin(principal);
    return this.changes.run(async (tx) => {
      const user = await findManagedUser(tx.em, principal, id, 'id');
      if (user.active) return user;
      user.active = true;
      user.updatedAt = this.clock.now();
      await tx.em.flush();
      await tx.record({ action: 'USER_REACTIVATED', actor: actorOf(principal), occurredAt: this.clock.now(), subject: subjectOf(user) });
      return user;
    });
  }

  /** A duplicate name or email is the client's mistake, reported on its field. */
  private unique<T>(field: string, message: string, work: () => Promise<T>): Promise<T> {
    return onUniqueViolation(work, () => new DuplicateError(message, field));
  }
}

/** Validated changes; null (or undefined for `externalId`, where null clears) leaves a field as it is. */
interface ValidChanges {
  readonly email: string | null;
  readonly role: Role | null;
  readonly name: string | null;
  readonly unitIds: readonly string[] | null;
  readonly externalId: string | null | undefined;
}

function unitNames(units: readonly BusinessUnit[]): string {
  return units
    .map((unit) => unit.name)
    .sort()
    .join(', ');
}

import { subjectOf } from '../audit/audit-log.js';
import type { Changes } from '../audit/changes.js';
import type { Actor } from '../audit/actor.js';
import type { Clock } from '../clock.js';
import { retryOnUniqueViolation } from '../db/unique.js';
import { Organization } from '../users/organization.entity.js';
import { Role } from '../auth/role.js';
import { User } from '../users/user.entity.js';
import { requireOwnDomain } from './domains.js';
import { validEmail, validName } from './validate.js';

/** The operator at a shell, running the admin CLI: recorded as `system` with this reason. */
const CLI_ACTOR: Actor = { kind: 'system', userId: null, label: 'system' };
const CLI_REASON = 'admin CLI';

export type BootstrapOutcome =
  | { readonly kind: 'created'; readonly organizationId: string; readonly adminId: string }
  | { readonly kind: 'admin-added'; readonly organizationId: string; readonly adminId: string }
  | { readonly kind: 'unchanged'; readonly organizationId: string; readonly adminId: string }
  /** The email belongs to a user elsewhere, or to a non-admin of this organisation: nothing was changed. */
  | { readonly kind: 'conflict'; readonly message: string };

/**
 * Creates an organisation and its first admin: the only way into an empty
 * production database, where nothing is seeded. Idempotent: with the
 * organisation and the admin already there it changes nothing and says so.
 * Names and emails are validated like an admin's input; a bad one throws
 * BadUserInputError naming `name` or `email`.
 */
export async function bootstrapOrganization(
  changes: Changes,
  clock: Clock,
  input: { readonly name: string; readonly adminEmail: string; readonly adminName?: string | null },
): Promise<BootstrapOutcome> {
  const name = validName(input.name, 'name');
  const email = validEmail(input.adminEmail, 'email');
  const adminName = validName(input.adminName ?? email.split('@')[0] ?? email, 'adminName');
  const attempt = () =>
    changes.run(async (tx): Promise<BootstrapOutcome> => {
      const now = clock.now();
      let organization = await tx.em.findOne(Organization, { name });
      const created = organization === null;
      if (!organization) {
        organization = tx.em.create(Organization, { name, createdAt: now });
        await tx.em.flush();
        await tx.record({
          action: 'ORGANIZATION_CREATED',
          actor: CLI_ACTOR,
          occurredAt: now,
          organizationId: organization.id,
          reason: `Organisation "${name}" (${CLI_REASON})`,
        });
      }
      const existing = await tx.em.findOne(User, { email }, { populate: ['organization'] });
      if (existing) {
        if (existing.organization.id !== organization.id) {
          return { kind: 'conflict', message: `${email} already belongs to another organisation; nothing was changed.` };
        }
        if (existing.role !== Role.ADMIN || !existing.active) {
          return {
            kind: 'conflict',
            message: `${email} is already in ${name} as an ${existing.active ? '' : 'inactive '}${existing.role}; nothing was changed. An admin of ${name} can change that.`,
          };
        }
        return { kind: 'unchanged', organizationId: organization.id, adminId: existing.id };
      }
      await requireOwnDomain(tx.em, organization.id, email, 'email');
      const admin = tx.em.create(User, { organization, email, name: adminName, role: Role.ADMIN, createdAt: now });
      await tx.em.flush();
      await tx.record({ action: 'USER_CREATED', actor: CLI_ACTOR, occurredAt: now, subject: subjectOf(admin), reason: CLI_REASON });
      return { kind: created ? 'created' : 'admin-added', organizationId: organization.id, adminId: admin.id };
    });
  // Two runs at once: the loser of the unique index finds the winner's rows on its second try.
  return retryOnUniqueViolation(attempt);
}

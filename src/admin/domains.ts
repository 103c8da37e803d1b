import type { EntityManager } from '@mikro-orm/core';
import type { Changes } from '../audit/changes.js';
import type { Actor } from '../audit/actor.js';
import type { Clock } from '../clock.js';
import { onUniqueViolation } from '../db/unique.js';
import { BadUserInputError } from '../errors.js';
import { OrganizationDomain } from '../users/organization-domain.entity.js';
import { Organization } from '../users/organization.entity.js';
import { User } from '../users/user.entity.js';
import { domainOf, validDomainName } from './validate.js';

/** The operator at a shell (admin CLI), as the audit trail names them. */
const CLI_ACTOR: Actor = { kind: 'system', userId: null, label: 'system' };

/**
 * Whether `email` (already valid) may be a user of `organizationId`: at one of
 * its domains when it has any; otherwise at any domain no other organisation
 * has claimed. Called inside the change that creates the user or gives them
 * the address, so a domain added at the same moment is seen. Users created
 * before their domain was claimed keep their accounts.
 */
export async function requireOwnDomain(em: EntityManager, organizationId: string, email: string, field: string): Promise<void> {
  const domain = domainOf(email);
  const own = await em.find(OrganizationDomain, { organization: organizationId }, { orderBy: { domain: 'asc' } });
  if (own.length > 0) {
    if (own.some((each) => each.domain === domain)) return;
    throw new BadUserInputError(
      `Use an address at one of the organisation’s domains: ${own.map((each) => each.domain).join(', ')}.`,
      field,
    );
  }
  const claimed = await em.count(OrganizationDomain, { domain });
  if (claimed > 0) throw new BadUserInputError('This address’s domain belongs to another organisation.', field);
}

export type DomainOutcome =
  | { readonly kind: 'added' | 'removed' | 'unchanged'; readonly othersUsers: number }
  | { readonly kind: 'no-organization' }
  | { readonly kind: 'claimed' };

/**
 * The operator's management of organisations' verified email domains (admin
 * CLI). Verifying that a company owns a domain (DNS, contract) happens
 * before: adding it here is the operator's word that it did.
 */
export class OrganizationDomains {
  constructor(
    private readonly changes: Changes,
    private readonly clock: Clock,
  ) {}

  /**
   * Claims `domain` for the organisation; refused when another organisation
   * has it. `othersUsers` counts users of other organisations already at the
   * domain: they keep their accounts (the operator decides what to do).
   */
  async add(organizationName: string, domain: string): Promise<DomainOutcome> {
    const name = validDomain(domain);
    return onUniqueViolation(
      () =>
        this.changes.run(async (tx): Promise<DomainOutcome> => {
          const organization = await tx.em.findOne(Organization, { name: organizationName });
          if (!organization) return { kind: 'no-organization' };
          const existing = await tx.em.findOne(OrganizationDomain, { domain: name }, { populate: ['organization'] });
          if (existing && existing.organization.id !== organization.id) return { kind: 'claimed' };
          const othersUsers = await countOthersUsers(tx.em, organization.id, name);
          if (existing) return { kind: 'unchanged', othersUsers };
          const now = this.clock.now();
          tx.em.create(OrganizationDomain, { organization, domain: name, createdAt: now });
          await tx.em.flush();
          await tx.record({
            action: 'DOMAIN_ADDED',
            actor: CLI_ACTOR,
            occurredAt: now,
            organizationId: organization.id,
            reason: `Domain ${name} (admin CLI)`,
          });
          return { kind: 'added', othersUsers };
        }),
      // Another organisation claimed it at the same moment.
      () => new BadUserInputError(`${name} was claimed by another organisation at the same moment.`, 'domain'),
    );
  }

  async remove(organizationName: string, domain: string): Promise<DomainOutcome> {
    const name = validDomain(domain);
    return this.changes.run(async (tx): Promise<DomainOutcome> => {
      const organization = await tx.em.findOne(Organization, { name: organizationName });
      if (!organization) return { kind: 'no-organization' };
      const deleted = await tx.em.nativeDelete(OrganizationDomain, { organization: organization.id, domain: name });
      if (deleted === 0) return { kind: 'unchanged', othersUsers: 0 };
      await tx.record({
        action: 'DOMAIN_REMOVED',
        actor: CLI_ACTOR,
        occurredAt: this.clock.now(),
        organizationId: organization.id,
        reason: `Domain ${name} (admin CLI)`,
      });
      return { kind: 'removed', othersUsers: 0 };
    });
  }

  /** The organisation's domains, sorted; null when there is no such organisation. */
  async list(organizationName: string): Promise<string[] | null> {
    return this.changes.run(async (tx) => {
      const organization = await tx.em.findOne(Organization, { name: organizationName });
      if (!organization) return null;
      const domains = await tx.em.find(OrganizationDomain, { organization: organization.id }, { orderBy: { domain: 'asc' } });
      return domains.map((each) => each.domain);
    });
  }
}

function validDomain(domain: string): string {
  const name = validDomainName(domain);
  if (name === null) throw new BadUserInputError('Enter a domain such as example.com.', 'domain');
  return name;
}

/** Users of other organisations whose address is at `domain` (a valid domain holds no LIKE wildcards). */
async function countOthersUsers(em: EntityManager, organizationId: string, domain: string): Promise<number> {
  return em.count(User, { organization: { $ne: organizationId }, email: { $like: `%@${domain}` } });
}

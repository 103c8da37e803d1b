import { UniqueConstraintViolationException, type MikroORM } from '@mikro-orm/core';
import { retryWhileBusy } from '../db/orm.js';
import { BusinessUnit } from './business-unit.entity.js';
import { Organization } from './organization.entity.js';
import { Role } from '../auth/role.js';
import { User } from './user.entity.js';

interface SeedOrganization {
  readonly name: string;
  readonly units: readonly string[];
  readonly users: readonly { email: string; name: string; role: Role; units: readonly string[] }[];
}

/** The demo data a new developer gets on first start, to try every rule by hand. */
export const DEMO_ORGANIZATIONS: readonly SeedOrganization[] = [
  {
    name: 'Acme',
    units: ['Engineering', 'Finance', 'Support'],
    users: [
      { email: 'admin@example.com', name: 'Ada Admin', role: Role.ADMIN, units: ['Engineering', 'Finance'] },
      { email: 'support@example.com', name: 'Sam Support', role: Role.SUPPORT, units: ['Support'] },
      { email: 'alice@example.com', name: 'Alice Example', role: Role.USER, units: ['Engineering'] },
      { email: 'bob@example.com', name: 'Bob Example', role: Role.USER, units: ['Finance'] },
    ],
  },
  {
    name: 'Globex',
    units: ['Operations'],
    users: [
      { email: 'admin@globex.example.com', name: 'Gina Globex', role: Role.ADMIN, units: ['Operations'] },
      { email: 'carol@globex.example.com', name: 'Carol Globex', role: Role.USER, units: ['Operations'] },
    ],
  },
];

/**
 * Creates the demo organisations once, in one transaction; a database that has
 * any organisation is left alone. Instances starting together may both find
 * it empty: the unique emails let one win, and the others step back. On one
 * SQLite file the loser is told "busy" instead, and looks again.
 */
export async function seedDemo(orm: MikroORM, now: Date): Promise<boolean> {
  return retryWhileBusy(() => insertDemo(orm, now)).catch((error: unknown) => {
    if (error instanceof UniqueConstraintViolationException) return false;
    throw error;
  });
}

function insertDemo(orm: MikroORM, now: Date): Promise<boolean> {
  return orm.em.fork().transactional(async (em) => {
    if ((await em.count(Organization)) > 0) return false;
    for (const seed of DEMO_ORGANIZATIONS) {
      const organization = em.create(Organization, { name: seed.name, createdAt: now });
      const units = new Map(seed.units.map((name) => [name, em.create(BusinessUnit, { organization, name, createdAt: now })]));
      for (const person of seed.users) {
        const user = em.create(User, {
          organization,
          email: person.email,
          name: person.name,
          role: person.role,
          createdAt: now,
        });
        for (const name of person.units) {
          const unit = units.get(name);
          if (!unit) throw new Error(`Seed user ${person.email} names unknown unit ${name}`);
          user.businessUnits.add(unit);
        }
      }
    }
    return true;
  });
}

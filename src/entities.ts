import { AuditEvent } from './audit/audit-event.entity.js';
import { OutboxMessage } from './mail/outbox-message.entity.js';
import { ScimToken } from './scim/scim-token.entity.js';
import { ApiToken } from './tokens/api-token.entity.js';
import { BusinessUnit } from './users/business-unit.entity.js';
import { Organization } from './users/organization.entity.js';
import { OrganizationDomain } from './users/organization-domain.entity.js';
import { UserBusinessUnit } from './users/user-business-unit.entity.js';
import { User } from './users/user.entity.js';

/**
 * Every entity, listed explicitly so discovery never scans the disk. Kept
 * with the composition root: it names every feature's entities, and each
 * entity uses db/'s column helpers, so inside db/ it would make db/ and
 * every feature import each other.
 *
 * Their dates are declared `type: Date`, never `'datetime'` (the column type
 * is the same): MikroORM compares a `'datetime'` property with a generic
 * equality, and on SQLite, which stores epoch milliseconds, a loaded row's
 * date then never equals its snapshot, so every flush rewrote every loaded
 * row (test/db/unchanged-entities.test.ts).
 */
export const entities = [
  Organization,
  BusinessUnit,
  User,
  UserBusinessUnit,
  ApiToken,
  AuditEvent,
  OutboxMessage,
  ScimToken,
  OrganizationDomain,
];

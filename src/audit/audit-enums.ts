import { registerEnumType } from 'type-graphql';
import type { ActorKind, AuditAction } from './audit-event.entity.js';

/**
 * `AuditEvent.action` and `.actorKind` as GraphQL enums, so clients get a
 * closed set they can switch on. The records below are typed by the entity's
 * unions: adding an action there without describing it here fails to compile.
 */
const ACTIONS: Record<AuditAction, { description: string }> = {
  GENERATED: { description: 'An API token was generated.' },
  EXPIRY_WARNING: { description: 'The user was warned that their token expires soon.' },
  REVOKED: { description: 'An API token was revoked.' },
  EXPIRED: { description: 'An API token expired and was deleted.' },
  ACCESS_DISABLED: { description: 'API tokens were turned off for the user.' },
  ACCESS_ENABLED: { description: 'API tokens were turned back on for the user.' },
  USER_CREATED: { description: 'An admin or the directory (SCIM) added the user.' },
  USER_UPDATED: { description: 'An admin or the directory changed the user; `reason` says what changed.' },
  USER_DEACTIVATED: { description: 'An admin or the directory deactivated the user; their token was revoked.' },
  USER_REACTIVATED: { description: 'An admin or the directory reactivated the user; no token comes back.' },
  BUSINESS_UNIT_CREATED: { description: 'An admin or the directory added a business unit.' },
  BUSINESS_UNIT_UPDATED: { description: 'The directory renamed a business unit; each member also gets USER_UPDATED.' },
  BUSINESS_UNIT_DELETED: { description: 'The directory deleted a business unit; its members left it.' },
  ORGANIZATION_CREATED: { description: 'An operator created the organisation with the admin CLI.' },
  SCIM_TOKEN_ISSUED: { description: "An operator issued the organisation's first SCIM token." },
  SCIM_TOKEN_ROTATED: { description: "An operator replaced the organisation's SCIM token; the old one stopped working." },
  SCIM_TOKEN_REVOKED: { description: "An operator revoked the organisation's SCIM token." },
  DOMAIN_ADDED: { description: 'An operator verified an email domain as the organisation’s with the admin CLI; `reason` names it.' },
  DOMAIN_REMOVED: { description: 'An operator removed one of the organisation’s email domains; `reason` names it.' },
};

const ACTOR_KINDS: Record<ActorKind, { description: string }> = {
  session: { description: 'A signed-in person (profile page, explorer, admin tools).' },
  token: { description: 'A request made with the API token itself.' },
  system: { description: 'The service, e.g. the expiry sweeper, or an operator with the admin CLI.' },
  scim: { description: "The organisation's identity provider, over SCIM." },
  leak: {
    description:
      'A report that the token was exposed: a secret scanner (`actor` github-secret-scanning, `reason` where it was found) or anyone over POST /credentials/revoke (`actor` names their address).',
  },
};

const selfMap = <K extends string>(keys: readonly K[]): { [P in K]: P } =>
  Object.fromEntries(keys.map((key) => [key, key])) as { [P in K]: P };

export const AuditActionEnum = selfMap(Object.keys(ACTIONS) as AuditAction[]);
export const ActorKindEnum = selfMap(Object.keys(ACTOR_KINDS) as ActorKind[]);

registerEnumType(AuditActionEnum, {
  name: 'AuditAction',
  description: 'What an audit entry records: a token event or an admin action.',
  valuesConfig: ACTIONS,
});
registerEnumType(ActorKindEnum, {
  name: 'ActorKind',
  description: 'Who caused an audit entry.',
  valuesConfig: ACTOR_KINDS,
});

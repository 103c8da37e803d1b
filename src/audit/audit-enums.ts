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
  USER_CREATED: { description: 'An admin added the user.' },
  USER_UPDATED: { description: 'An admin changed the user; `reason` says what changed.' },
  USER_DEACTIVATED: { description: 'An admin deactivated the user.' },
  BUSINESS_UNIT_CREATED: { description: 'An admin added a business unit.' },
};

const ACTOR_KINDS: Record<ActorKind, { description: string }> = {
  session: { description: 'A signed-in person (profile page, explorer, admin tools).' },
  token: { description: 'A request made with the API token itself.' },
  system: { description: 'The service, e.g. the expiry sweeper.' },
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

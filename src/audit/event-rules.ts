/**
 * The one place that says what each audited action means for token events,
 * mail, the event hub and the authority cache. Everything else asks here
 * instead of keeping its own list.
 */

/** What happened to a user's API token; also the `kind` of a subscription event. */
export const TOKEN_EVENT_KINDS = ['GENERATED', 'EXPIRY_WARNING', 'REVOKED', 'EXPIRED', 'ACCESS_DISABLED', 'ACCESS_ENABLED'] as const;
export type TokenEventKind = (typeof TOKEN_EVENT_KINDS)[number];

/** Administrative actions that are audited but are not token events. */
export type AdminAction =
  | 'USER_CREATED'
  | 'USER_UPDATED'
  | 'USER_DEACTIVATED'
  | 'USER_REACTIVATED'
  | 'BUSINESS_UNIT_CREATED'
  | 'BUSINESS_UNIT_UPDATED'
  | 'BUSINESS_UNIT_DELETED'
  | 'ORGANIZATION_CREATED'
  | 'SCIM_TOKEN_ISSUED'
  | 'SCIM_TOKEN_ROTATED'
  | 'SCIM_TOKEN_REVOKED'
  | 'DOMAIN_ADDED'
  | 'DOMAIN_REMOVED';

export type AuditAction = TokenEventKind | AdminAction;

/**
 * Which of the subject user's credentials an event ends:
 * - `token`: the API token the event names (`tokenId`);
 * - `tokens`: every API token of the user (sessions keep working);
 * - `all`: every credential, sessions included.
 */
type Ends = 'none' | 'token' | 'tokens' | 'all';

export interface EventRule {
  /** Shown on the user's `apiTokenEvents` subscription (and replayed from the audit trail). */
  readonly subscribed: boolean;
  /** The user is emailed about it, from the audit row, in the same transaction. */
  readonly mailed: boolean;
  /** Which of the user's credentials stop working. */
  readonly ends: Ends;
  /**
   * The user's role, units, status or token changed: every instance drops
   * what it cached about the user. A new action must say so explicitly,
   * which the `Record` type below enforces.
   */
  readonly invalidates: boolean;
  /**
   * The organisation's own credential (its SCIM token) was issued, rotated or
   * revoked: every instance drops what it cached about the organisation's
   * credential. Read from the stored log (`LogFollower`), since the admin CLI
   * that makes these changes runs no event hub.
   */
  readonly invalidatesOrganization: boolean;
}

export const EVENT_RULES: { readonly [A in AuditAction]: EventRule } = {
  // A new token was never cached, so nothing stale can exist yet.
  GENERATED: { subscribed: true, mailed: true, ends: 'none', invalidates: false, invalidatesOrganization: false },
  EXPIRY_WARNING: { subscribed: true, mailed: true, ends: 'none', invalidates: false, invalidatesOrganization: false },
  REVOKED: { subscribed: true, mailed: true, ends: 'token', invalidates: true, invalidatesOrganization: false },
  EXPIRED: { subscribed: true, mailed: true, ends: 'token', invalidates: true, invalidatesOrganization: false },
  ACCESS_DISABLED: { subscribed: true, mailed: true, ends: 'tokens', invalidates: true, invalidatesOrganization: false },
  ACCESS_ENABLED: { subscribed: true, mailed: true, ends: 'none', invalidates: true, invalidatesOrganization: false },
  USER_CREATED: { subscribed: false, mailed: false, ends: 'none', invalidates: false, invalidatesOrganization: false },
  // Role, units or name: the next operation anywhere must see the new ones.
  USER_UPDATED: { subscribed: false, mailed: false, ends: 'none', invalidates: true, invalidatesOrganization: false },
  USER_DEACTIVATED: { subscribed: false, mailed: false, ends: 'all', invalidates: true, invalidatesOrganization: false },
  // A cached "inactive" must not outlive the reactivation; no token comes back.
  USER_REACTIVATED: { subscribed: false, mailed: false, ends: 'none', invalidates: true, invalidatesOrganization: false },
  BUSINESS_UNIT_CREATED: { subscribed: false, mailed: false, ends: 'none', invalidates: false, invalidatesOrganization: false },
  // Organisation-level events (no subject user): a unit's renaming, deletion
  // and membership changes are recorded as USER_UPDATED on each member, which
  // invalidates them.
  BUSINESS_UNIT_UPDATED: { subscribed: false, mailed: false, ends: 'none', invalidates: false, invalidatesOrganization: false },
  BUSINESS_UNIT_DELETED: { subscribed: false, mailed: false, ends: 'none', invalidates: false, invalidatesOrganization: false },
  ORGANIZATION_CREATED: { subscribed: false, mailed: false, ends: 'none', invalidates: false, invalidatesOrganization: false },
  SCIM_TOKEN_ISSUED: { subscribed: false, mailed: false, ends: 'none', invalidates: false, invalidatesOrganization: true },
  SCIM_TOKEN_ROTATED: { subscribed: false, mailed: false, ends: 'none', invalidates: false, invalidatesOrganization: true },
  SCIM_TOKEN_REVOKED: { subscribed: false, mailed: false, ends: 'none', invalidates: false, invalidatesOrganization: true },
  DOMAIN_ADDED: { subscribed: false, mailed: false, ends: 'none', invalidates: false, invalidatesOrganization: false },
  DOMAIN_REMOVED: { subscribed: false, mailed: false, ends: 'none', invalidates: false, invalidatesOrganization: false },
};

export function isTokenEventKind(action: string): action is TokenEventKind {
  return (TOKEN_EVENT_KINDS as readonly string[]).includes(action);
}

/** The rule of an action read back from storage or the wire; unknown actions invalidate (user and organisation), to fail safe. */
export function ruleOf(action: string): EventRule {
  return (EVENT_RULES as Record<string, EventRule | undefined>)[action] ?? UNKNOWN_RULE;
}

const UNKNOWN_RULE: EventRule = { subscribed: false, mailed: false, ends: 'none', invalidates: true, invalidatesOrganization: true };

/** Crosses the event hub: subscribers need it, or other instances must drop or close something. */
export function isPublished(action: string): boolean {
  const rule = ruleOf(action);
  return rule.subscribed || rule.invalidates || rule.ends !== 'none';
}

/** Whether an event about a credential's user ends that credential. */
export function endsCredential(
  event: { readonly kind: string; readonly tokenId?: string | null },
  credential: { readonly via: string; readonly tokenId: string | null },
): boolean {
  switch (ruleOf(event.kind).ends) {
    case 'all':
      return true;
    case 'tokens':
      return credential.via === 'token';
    case 'token':
      return credential.via === 'token' && event.tokenId === credential.tokenId;
    case 'none':
      return false;
  }
}

import type { Role } from './role.js';

/**
 * Who is calling, with the user's *current* role, business units and status
 * (see `PrincipalResolver`). A token carries no scopes of its own.
 */
export interface Principal {
  readonly userId: string;
  readonly email: string;
  readonly name: string;
  readonly role: Role;
  readonly organizationId: string;
  readonly businessUnitIds: readonly string[];
  /** The same units with their names, so `me` needs no second read. */
  readonly businessUnits: readonly { readonly id: string; readonly name: string }[];
  /** False when support or an admin turned API tokens off for the user. */
  readonly apiTokensEnabled: boolean;
  /**
   * How the caller authenticated. `scim` is an organisation's directory
   * client (its identity provider): it acts as that organisation's admin and
   * is no user, so its `userId` is empty and matches nobody.
   */
  readonly via: 'session' | 'token' | 'scim';
  /** Set when `via` is `token`: the token that authenticated this request. */
  readonly tokenId: string | null;
  /** Set when `via` is `token`: when that token expires (the `Api-Token-Expiration` header). */
  readonly tokenExpiresAt: Date | null;
}

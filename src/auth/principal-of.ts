import type { Principal } from './principal.js';

/** What a principal needs to know about its user, however the user was read. */
export interface PrincipalUser {
  readonly id: string;
  readonly email: string;
  readonly name: string;
  readonly role: Principal['role'];
  readonly organizationId: string;
  readonly businessUnits: readonly { readonly id: string; readonly name: string }[];
  readonly apiTokensEnabled: boolean;
}

export function principalOf(
  user: PrincipalUser,
  via: Principal['via'],
  token: { readonly id: string; readonly expiresAt: Date } | null,
): Principal {
  return {
    userId: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    organizationId: user.organizationId,
    businessUnitIds: user.businessUnits.map((unit) => unit.id),
    businessUnits: user.businessUnits,
    apiTokensEnabled: user.apiTokensEnabled,
    via,
    tokenId: token?.id ?? null,
    tokenExpiresAt: token?.expiresAt ?? null,
  };
}

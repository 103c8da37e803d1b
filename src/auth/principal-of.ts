import type { User } from '../users/user.entity.js';
import type { Principal } from './principal.js';

/** What a principal needs to know about its user, however the user was read. */
export interface PrincipalUser {
  readonly id: string;
  readonly email: string;
  readonly name: string;
  readonly role: Principal['role'];
  readonly organizationId: string;
  readonly businessUnitIds: readonly string[];
}

export function principalOf(user: PrincipalUser, via: Principal['via'], tokenId: string | null): Principal {
  return {
    userId: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    organizationId: user.organizationId,
    businessUnitIds: user.businessUnitIds,
    via,
    tokenId,
  };
}

/** The facts of a user entity whose business units are loaded. */
export function principalUserOf(user: User): PrincipalUser {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    organizationId: user.organization.id,
    businessUnitIds: user.businessUnits.getItems().map((unit) => unit.id),
  };
}

import type { User } from '../users/user.entity.js';
import type { Principal } from './principal.js';

/** The principal for a user whose business units are loaded. */
export function principalOf(user: User, via: Principal['via'], tokenId: string | null): Principal {
  return {
    userId: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    organizationId: user.organization.id,
    businessUnitIds: user.businessUnits.getItems().map((unit) => unit.id),
    via,
    tokenId,
  };
}

import type { Role } from '../auth/role.js';

/**
 * A new user, as plain data: what GraphQL's `CreateUserInput` and a SCIM
 * `POST /Users` both come down to. Errors about it name these attribute names
 * in `field` (`email`, `businessUnitIds`), without any API's path.
 */
export interface NewUserData {
  readonly email: string;
  readonly name: string;
  /** USER when absent. */
  readonly role?: Role | null;
  readonly businessUnitIds?: readonly string[] | null;
  /** The identity provider's id for the user (SCIM `externalId`). */
  readonly externalId?: string | null;
}

/** Changes to a user; absent (or null) fields stay as they are. */
export interface UserChangesData {
  readonly email?: string | null;
  readonly name?: string | null;
  readonly role?: Role | null;
  /** Replaces the user's units; [] removes all. */
  readonly businessUnitIds?: readonly string[] | null;
  /** `''` clears it. */
  readonly externalId?: string | null;
}

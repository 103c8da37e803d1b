import { BadUserInputError, NoSuchRecordError } from '../errors.js';
import { isUuid } from '../ids.js';
import { Role } from '../users/role.js';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** Control characters: never part of a name or an email, and PostgreSQL refuses NUL in text outright. */
const CONTROL = /[\u0000-\u001f\u007f]/;
const MAX_NAME = 200;
const MAX_EMAIL = 320;
const MAX_REASON = 500;
const MAX_UNITS = 100;

/** Trimmed and lower-cased, as users are stored. */
export function validEmail(email: string, field: string): string {
  const value = email.trim().toLowerCase();
  if (value.length > MAX_EMAIL || !EMAIL.test(value) || CONTROL.test(value)) {
    throw new BadUserInputError('Enter an email address such as name@example.com.', field);
  }
  return value;
}

export function validName(name: string, field: string): string {
  const value = name.trim();
  if (value === '' || value.length > MAX_NAME) {
    throw new BadUserInputError(`A name must have 1 to ${MAX_NAME} characters.`, field);
  }
  if (CONTROL.test(value)) throw new BadUserInputError('A name cannot contain control characters.', field);
  return value;
}

/** Null when absent or blank: a reason is optional, but an empty one says nothing. */
export function validReason(reason: string | null | undefined, field = 'reason'): string | null {
  const value = reason?.trim() ?? '';
  if (value.length > MAX_REASON) throw new BadUserInputError(`A reason can have at most ${MAX_REASON} characters.`, field);
  return value === '' ? null : value;
}

/**
 * Admins grant ADMIN or USER. SUPPORT is the vendor's role: granting it here
 * would let a tenant admin reach every other tenant.
 */
export function validRole(role: Role, field: string): Role {
  if (role === Role.SUPPORT) throw new BadUserInputError('The SUPPORT role cannot be granted here.', field);
  return role;
}

/** Distinct, well-formed ids; whether they name units of the organisation is checked against the database. */
export function validUnitIds(ids: readonly string[], field: string): string[] {
  const unique = [...new Set(ids)];
  if (unique.length > MAX_UNITS) throw new BadUserInputError(`At most ${MAX_UNITS} business units.`, field);
  if (!unique.every(isUuid)) throw new NoSuchRecordError('business unit', field);
  return unique;
}

const MAX_EXTERNAL_ID = 200;

/** An identity provider's own id for a user; `''` (after trimming) clears it. */
export function validExternalId(externalId: string, field: string): string | null {
  const value = externalId.trim();
  if (value.length > MAX_EXTERNAL_ID || CONTROL.test(value)) {
    throw new BadUserInputError(`An external id has at most ${MAX_EXTERNAL_ID} characters and no control characters.`, field);
  }
  return value === '' ? null : value;
}

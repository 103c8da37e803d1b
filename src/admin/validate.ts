import { BadUserInputError, NoSuchRecordError } from '../errors.js';
import { isUuid } from '../ids.js';
import { Role } from '../auth/role.js';

/**
 * One RFC 5321 mailbox and nothing else: a dot-atom local part (RFC 6531
 * letters and digits allowed) and a host name. No display name, list, group,
 * comment, quoted local part or address literal: nodemailer reads
 * `x,victim@other.example`, `x<victim@other.example>` or
 * `g:victim@other.example;` as other recipients, so one tenant's mail would
 * reach another tenant's people.
 */
const ATOM = "[\\p{L}\\p{M}\\p{N}!#$%&'*+/=?^_`{|}~-]+";
const LOCAL_PART = new RegExp(`^${ATOM}(?:\\.${ATOM})*$`, 'u');
const DOMAIN_LABEL = /^[\p{L}\p{M}\p{N}](?:[\p{L}\p{M}\p{N}-]*[\p{L}\p{M}\p{N}])?$/u;
const MAX_LOCAL_PART = 64;
const MAX_LABEL = 63;
const MAX_DOMAIN = 253;
/**
 * Control characters (C0, DEL and C1, which holds NEL), line and paragraph
 * separators, and format characters (zero-width, bidi controls, soft hyphen,
 * BOM...): never part of a name, an email or a reason. They forge lines in
 * the text of an email, reorder what a reader sees, or hide characters, and
 * PostgreSQL refuses NUL in text outright.
 */
const HIDDEN_OR_BREAKING = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
const MAX_NAME = 200;
const MAX_EMAIL = 320;
const MAX_REASON = 500;
const MAX_UNITS = 100;

/** Whether `value` (trimmed, lower-cased) is one mailbox: `local@host.example`. */
function isMailbox(value: string): boolean {
  if (value.length > MAX_EMAIL || HIDDEN_OR_BREAKING.test(value)) return false;
  const at = value.lastIndexOf('@');
  if (at <= 0) return false;
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (local.length > MAX_LOCAL_PART || !LOCAL_PART.test(local)) return false;
  return validDomainName(domain) !== null;
}

/**
 * A host name of at least two labels (letters, digits, inner hyphens),
 * lower-cased; null when it is not one. Emails and organisation domains
 * share it, so a domain the operator can add is one an address can have.
 */
export function validDomainName(domain: string): string | null {
  const value = domain.trim().toLowerCase();
  if (value.length === 0 || value.length > MAX_DOMAIN || HIDDEN_OR_BREAKING.test(value)) return null;
  const labels = value.split('.');
  if (labels.length < 2) return null;
  if (!labels.every((label) => label.length <= MAX_LABEL && DOMAIN_LABEL.test(label))) return null;
  return value;
}

/** Trimmed and lower-cased, as users are stored. The one email check: GraphQL, SCIM and the admin CLI all come here. */
export function validEmail(email: string, field: string): string {
  const value = email.trim().toLowerCase();
  if (!isMailbox(value)) {
    throw new BadUserInputError('Enter one email address such as name@example.com, without a display name.', field);
  }
  return value;
}

/** The domain of an address `validEmail` accepted. */
export function domainOf(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1);
}

export function validName(name: string, field: string): string {
  const value = name.trim();
  if (value === '' || value.length > MAX_NAME) {
    throw new BadUserInputError(`A name must have 1 to ${MAX_NAME} characters.`, field);
  }
  if (HIDDEN_OR_BREAKING.test(value)) {
    throw new BadUserInputError('A name cannot contain line breaks, control characters or invisible characters.', field);
  }
  return value;
}

/** Null when absent or blank: a reason is optional, but an empty one says nothing. It is one line: it goes into emails. */
export function validReason(reason: string | null | undefined, field = 'reason'): string | null {
  const value = reason?.trim() ?? '';
  if (value.length > MAX_REASON) throw new BadUserInputError(`A reason can have at most ${MAX_REASON} characters.`, field);
  if (HIDDEN_OR_BREAKING.test(value)) {
    throw new BadUserInputError('A reason is one line: no line breaks, control characters or invisible characters.', field);
  }
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
  if (value.length > MAX_EXTERNAL_ID || HIDDEN_OR_BREAKING.test(value)) {
    throw new BadUserInputError(`An external id has at most ${MAX_EXTERNAL_ID} characters and no control characters.`, field);
  }
  return value === '' ? null : value;
}

import { Role } from '../users/role.js';
import type { User } from '../users/user.entity.js';
import { ROLE_EXTENSION, USER_SCHEMA } from './discovery.js';
import { patchOperations } from './patch.js';
import { ScimError, invalidValue } from './scim-errors.js';
import { attributeOf, booleanValue, isObject, stringValue, type Json } from './values.js';

const ROLES = new Map<string, Role>(Object.values(Role).map((role) => [role, role]));

/** A user as SCIM shows it. `user.businessUnits` must be loaded. */
export function userResource(user: User, base: string): Json {
  return {
    schemas: [USER_SCHEMA, ROLE_EXTENSION],
    id: user.id,
    ...(user.externalId ? { externalId: user.externalId } : {}),
    userName: user.email,
    name: { formatted: user.name },
    displayName: user.name,
    active: user.active,
    emails: [{ value: user.email, type: 'work', primary: true }],
    groups: user.businessUnits.getItems().map((unit) => ({ value: unit.id, display: unit.name, $ref: `${base}/Groups/${unit.id}` })),
    [ROLE_EXTENSION]: { role: user.role },
    meta: { resourceType: 'User', created: user.createdAt.toISOString(), location: `${base}/Users/${user.id}` },
  };
}

/** What a SCIM request asks to change about a user, in the admin services' terms. */
export interface UserFields {
  email?: string;
  active?: boolean;
  role?: Role;
  /** `''` clears it. */
  externalId?: string;
  formatted?: string;
  givenName?: string;
  familyName?: string;
  displayName?: string;
}

/** The one name the service keeps: `formatted`, else given and family name, else `displayName`. */
export function nameOf(fields: UserFields): string | undefined {
  if (fields.formatted?.trim()) return fields.formatted;
  const parts = [fields.givenName, fields.familyName].filter((part) => part?.trim());
  if (parts.length) return parts.join(' ');
  return fields.displayName?.trim() ? fields.displayName : undefined;
}

const READ_ONLY = new Set(['id', 'meta', 'groups']);
/** The role as a PATCH path: the extension's URN, a colon, the attribute. */
const ROLE_PATH = `${ROLE_EXTENSION}:role`.toLowerCase();

function roleValue(value: unknown): Role {
  const text = stringValue(value, 'role').trim().toUpperCase();
  const role = ROLES.get(text);
  if (role) return role;
  throw invalidValue('role must be USER or ADMIN.');
}

/**
 * Applies one attribute (by SCIM path, any case) to `fields`. Unknown
 * attributes are ignored, as identity providers send their whole default
 * mapping (phone numbers, titles...) and RFC 7643 lets a provider keep a
 * subset; read-only ones are refused with `mutability`.
 */
function applyAttribute(fields: UserFields, path: string, value: unknown, op: 'add' | 'replace' | 'remove'): void {
  const lower = path.trim().toLowerCase();
  const remove = op === 'remove';
  if (READ_ONLY.has(lower.split(/[.[]/)[0] ?? '')) {
    throw new ScimError(400, 'mutability', `${path} is read-only.`);
  }
  switch (lower) {
    case 'username':
      if (remove) throw invalidValue('userName is required and cannot be removed.');
      fields.email = stringValue(value, 'userName');
      return;
    case 'active':
      if (remove) throw invalidValue('active cannot be removed; set it to false.');
      fields.active = booleanValue(value, 'active');
      return;
    case 'externalid':
      fields.externalId = remove ? '' : stringValue(value, 'externalId');
      return;
    case 'displayname':
      if (!remove) fields.displayName = stringValue(value, 'displayName');
      return;
    case 'name.formatted':
      if (!remove) fields.formatted = stringValue(value, 'name.formatted');
      return;
    case 'name.givenname':
      if (!remove) fields.givenName = stringValue(value, 'name.givenName');
      return;
    case 'name.familyname':
      if (!remove) fields.familyName = stringValue(value, 'name.familyName');
      return;
    case 'name':
      if (remove) return;
      if (!isObject(value)) throw invalidValue('name must be an object.');
      for (const [key, inner] of Object.entries(value)) applyAttribute(fields, `name.${key}`, inner, op);
      return;
    case ROLE_PATH:
      fields.role = remove ? Role.USER : roleValue(value);
      return;
    case ROLE_EXTENSION.toLowerCase():
      if (remove) fields.role = Role.USER;
      else if (!isObject(value)) throw invalidValue(`${ROLE_EXTENSION} must be an object.`);
      else {
        const role = attributeOf(value, 'role');
        if (role !== undefined) fields.role = roleValue(role);
      }
      return;
    default:
      return;
  }
}

/** A full user from a POST or PUT body. */
export function userFromBody(body: Json): UserFields {
  const fields: UserFields = {};
  for (const [key, value] of Object.entries(body)) {
    if (['id', 'meta', 'groups', 'schemas'].includes(key.toLowerCase())) continue;
    if (value === null) continue;
    applyAttribute(fields, key, value, 'replace');
  }
  if (fields.email === undefined) throw invalidValue('userName is required.');
  return fields;
}

/**
 * The changes of a PatchOp request (RFC 7644 §3.5.2), in the forms Okta
 * (`{"op":"replace","value":{"active":false}}`, no path) and Entra ID
 * (`{"op":"Replace","path":"active","value":"False"}`) send.
 */
export function userPatch(body: Json): UserFields {
  const fields: UserFields = {};
  for (const operation of patchOperations(body)) {
    if (operation.path === null) {
      if (operation.op === 'remove') throw new ScimError(400, 'noTarget', 'A remove operation needs a path.');
      if (!isObject(operation.value)) throw invalidValue('An operation without a path needs an object value.');
      for (const [key, value] of Object.entries(operation.value)) {
        if (key.toLowerCase() === 'schemas') continue;
        applyAttribute(fields, key, value, operation.op);
      }
    } else {
      applyAttribute(fields, operation.path, operation.value, operation.op);
    }
  }
  return fields;
}

import { Role } from '../auth/role.js';
import type { User } from '../users/user.entity.js';
import { ROLE_EXTENSION, USER_SCHEMA } from './discovery.js';
import { patchOperations } from './patch.js';
import { ScimError, invalidValue } from './scim-errors.js';
import { attributeOf, booleanValue, isObject, stringValue, type Json } from './values.js';

const ROLES = new Map<string, Role>(Object.values(Role).map((role) => [role, role]));

/**
 * A user as SCIM shows it. `user.businessUnits` must be loaded. The service
 * keeps one name, shown as both `name.formatted` and `displayName`; a user
 * whose name was never given (or was removed) has their email as their name,
 * and SCIM shows neither attribute.
 */
export function userResource(user: User, base: string): Json {
  const named = user.name !== user.email;
  return {
    schemas: [USER_SCHEMA, ROLE_EXTENSION],
    id: user.id,
    ...(user.externalId ? { externalId: user.externalId } : {}),
    userName: user.email,
    ...(named ? { name: { formatted: user.name }, displayName: user.name } : {}),
    active: user.active,
    emails: [{ value: user.email, type: 'work', primary: true }],
    groups: user.businessUnits.getItems().map((unit) => ({ value: unit.id, display: unit.name, $ref: `${base}/Groups/${unit.id}` })),
    [ROLE_EXTENSION]: { role: user.role },
    meta: {
      resourceType: 'User',
      created: user.createdAt.toISOString(),
      lastModified: (user.updatedAt ?? user.createdAt).toISOString(),
      location: `${base}/Users/${user.id}`,
    },
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
  /** `remove` of name or displayName: the one name falls back to the email. */
  nameRemoved?: boolean;
  /** Values sent for `emails`, which mirrors userName here: each must be the userName. */
  emails?: string[];
}

/**
 * The one name the service keeps, from what a request says. Of the forms it
 * gives (`formatted`, given and family name, `displayName`), the first that
 * differs from `current`: a PUT that changes only displayName (and repeats the
 * old name.formatted) renames the user. Undefined when it gives none, or
 * none that changes anything.
 */
export function nameOf(fields: UserFields, current?: string): string | undefined {
  const parts = [fields.givenName, fields.familyName].filter((part) => part?.trim());
  const candidates = [fields.formatted, parts.length ? parts.join(' ') : undefined, fields.displayName].filter(
    (candidate): candidate is string => candidate !== undefined && candidate.trim() !== '',
  );
  return candidates.find((candidate) => candidate.trim() !== current) ?? (current === undefined ? candidates[0] : undefined);
}

/** Attributes the service shows but never takes from a client. */
const READ_ONLY = new Set(['id', 'meta', 'groups']);
const CORE_PREFIX = `${USER_SCHEMA.toLowerCase()}:`;
const ROLE_PREFIX = `${ROLE_EXTENSION.toLowerCase()}:`;

/** Where a path (or a body's key) points: a core attribute, this service's extension, or an extension it does not know. */
type Target =
  | { readonly kind: 'core'; readonly path: string }
  | { readonly kind: 'resource' }
  | { readonly kind: 'role' }
  | { readonly kind: 'unknown-extension' };

/**
 * RFC 7644 §3.10: an attribute may be named with its schema URN in front
 * (`urn:ietf:params:scim:schemas:core:2.0:User:active`, as some clients send
 * every path); that names the same attribute as `active`.
 */
function targetOf(path: string): Target {
  const lower = path.trim().toLowerCase();
  if (lower === USER_SCHEMA.toLowerCase()) return { kind: 'resource' };
  if (lower.startsWith(CORE_PREFIX)) return { kind: 'core', path: lower.slice(CORE_PREFIX.length) };
  if (lower === ROLE_EXTENSION.toLowerCase()) return { kind: 'role' };
  if (lower.startsWith(ROLE_PREFIX)) {
    const attribute = lower.slice(ROLE_PREFIX.length);
    if (attribute === 'role') return { kind: 'core', path: ROLE_PATH };
    throw new ScimError(400, 'invalidPath', `${ROLE_EXTENSION} has no attribute "${path.slice(ROLE_PREFIX.length)}".`);
  }
  if (lower.startsWith('urn:')) return { kind: 'unknown-extension' };
  return { kind: 'core', path: lower };
}

const ROLE_PATH = 'role (extension)';

function roleValue(value: unknown): Role {
  const text = stringValue(value, 'role').trim().toUpperCase();
  const role = ROLES.get(text);
  if (role) return role;
  throw invalidValue('role must be USER or ADMIN.');
}

/** The addresses in a value sent for `emails` (a list of `{value}`, one `{value}`, or the bare address of `emails[...].value`). */
function emailValues(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((each: unknown) => {
    const address = isObject(each) ? attributeOf(each, 'value') : each;
    return stringValue(address, 'emails.value');
  });
}

/**
 * Applies one attribute (by SCIM path, any case, with or without its schema
 * URN) to `fields`. An explicit PATCH path (`explicit`) at a core attribute
 * this service does not keep is refused with `invalidPath`, never answered
 * 200 with nothing done; in a whole resource (POST, PUT, a PATCH value
 * without a path) such attributes are ignored, as identity providers send
 * their whole default mapping (locale, phone numbers...) and RFC 7643 lets a
 * provider keep a subset. Attributes of extensions the service does not
 * know are ignored everywhere; read-only ones are refused with `mutability`.
 */
function applyAttribute(fields: UserFields, path: string, value: unknown, op: 'add' | 'replace' | 'remove', explicit: boolean): void {
  const target = targetOf(path);
  if (target.kind === 'unknown-extension') return;
  if (target.kind === 'resource' || target.kind === 'role') {
    if (op === 'remove' && target.kind === 'resource') throw new ScimError(400, 'noTarget', 'A remove operation needs an attribute path.');
    if (op === 'remove') {
      fields.role = Role.USER;
      return;
    }
    if (!isObject(value)) throw invalidValue(`${path} must be an object.`);
    if (target.kind === 'role') {
      const role = attributeOf(value, 'role');
      if (role !== undefined) fields.role = roleValue(role);
      return;
    }
    for (const [key, inner] of Object.entries(value)) {
      if (key.toLowerCase() !== 'schemas') applyAttribute(fields, key, inner, op, false);
    }
    return;
  }
  const lower = target.path;
  const remove = op === 'remove';
  const base = lower.split(/[.[]/)[0] ?? '';
  if (READ_ONLY.has(base)) throw new ScimError(400, 'mutability', `${path} is read-only.`);
  switch (lower) {
    case 'username':
      if (remove) throw new ScimError(400, 'mutability', 'userName is required and cannot be removed.');
      fields.email = stringValue(value, 'userName');
      return;
    case 'active':
      if (remove) throw new ScimError(400, 'mutability', 'active cannot be removed; set it to false.');
      fields.active = booleanValue(value, 'active');
      return;
    case 'externalid':
      fields.externalId = remove ? '' : stringValue(value, 'externalId');
      return;
    case 'displayname':
      if (remove) fields.nameRemoved = true;
      else fields.displayName = stringValue(value, 'displayName');
      return;
    case 'name.formatted':
      if (remove) fields.nameRemoved = true;
      else fields.formatted = stringValue(value, 'name.formatted');
      return;
    case 'name.givenname':
      if (remove) fields.nameRemoved = true;
      else fields.givenName = stringValue(value, 'name.givenName');
      return;
    case 'name.familyname':
      if (remove) fields.nameRemoved = true;
      else fields.familyName = stringValue(value, 'name.familyName');
      return;
    case 'name':
      if (remove) {
        fields.nameRemoved = true;
        return;
      }
      if (!isObject(value)) throw invalidValue('name must be an object.');
      for (const [key, inner] of Object.entries(value)) applyAttribute(fields, `name.${key}`, inner, op, false);
      return;
    case ROLE_PATH:
      fields.role = remove ? Role.USER : roleValue(value);
      return;
    default:
      if (base === 'emails') {
        // Shown as the userName's mirror; ignored in a whole resource, checked against the userName when targeted.
        if (!explicit) return;
        if (remove) throw new ScimError(400, 'mutability', 'emails mirrors userName and cannot be removed.');
        fields.emails = [...(fields.emails ?? []), ...emailValues(value)];
        return;
      }
      if (explicit) throw new ScimError(400, 'invalidPath', `"${path}" is not an attribute this service keeps; see /Schemas.`);
      return;
  }
}

/** A full user from a POST or PUT body. */
export function userFromBody(body: Json): UserFields {
  const fields: UserFields = {};
  for (const [key, value] of Object.entries(body)) {
    if (['id', 'meta', 'groups', 'schemas', 'emails'].includes(key.toLowerCase())) continue;
    if (value === null) continue;
    applyAttribute(fields, key, value, 'replace', false);
  }
  if (fields.email === undefined) throw invalidValue('userName is required.');
  return fields;
}

/**
 * The changes of a PatchOp request (RFC 7644 §3.5.2), in the forms Okta
 * (`{"op":"replace","value":{"active":false}}`, no path) and Entra ID
 * (`{"op":"Replace","path":"active","value":"False"}`) send, paths and value
 * keys with or without their schema URN.
 */
export function userPatch(body: Json): UserFields {
  const fields: UserFields = {};
  for (const operation of patchOperations(body)) {
    if (operation.path === null) {
      if (operation.op === 'remove') throw new ScimError(400, 'noTarget', 'A remove operation needs a path.');
      if (!isObject(operation.value)) throw invalidValue('An operation without a path needs an object value.');
      for (const [key, value] of Object.entries(operation.value)) {
        if (key.toLowerCase() === 'schemas') continue;
        applyAttribute(fields, key, value, operation.op, false);
      }
    } else {
      applyAttribute(fields, operation.path, operation.value, operation.op, true);
    }
  }
  return fields;
}

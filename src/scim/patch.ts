import { ScimError, invalidSyntax } from './scim-errors.js';
import { attributeOf, isObject, type Json } from './values.js';

type PatchOp = 'add' | 'replace' | 'remove';

/** One operation of a PatchOp request (RFC 7644 §3.5.2). */
export interface Operation {
  readonly op: PatchOp;
  readonly path: string | null;
  readonly value: unknown;
}

/** The `Operations` of a PatchOp body; the op is case-insensitive, as Entra ID capitalises it. */
export function patchOperations(body: Json): Operation[] {
  const operations = attributeOf(body, 'Operations');
  if (!Array.isArray(operations) || operations.length === 0) {
    throw invalidSyntax('A PATCH body needs a non-empty "Operations" array.');
  }
  return operations.map((raw: unknown) => {
    if (!isObject(raw)) throw invalidSyntax('Each operation must be an object.');
    const op = typeof raw['op'] === 'string' ? raw['op'].toLowerCase() : '';
    if (op !== 'add' && op !== 'replace' && op !== 'remove') {
      throw invalidSyntax('Each operation needs an "op" of add, replace or remove.');
    }
    const path = raw['path'];
    if (path !== undefined && (typeof path !== 'string' || path.trim() === '')) {
      throw new ScimError(400, 'invalidPath', '"path" must be a non-empty string.');
    }
    return { op, path: typeof path === 'string' ? path : null, value: raw['value'] };
  });
}

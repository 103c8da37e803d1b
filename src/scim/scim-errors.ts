import { BadUserInputError, DuplicateError, ForbiddenError, NoSuchRecordError } from '../errors.js';

const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** RFC 7644 §3.12 `scimType` values this service uses. */
export type ScimType =
  'invalidSyntax' | 'invalidValue' | 'invalidFilter' | 'invalidPath' | 'uniqueness' | 'mutability' | 'noTarget' | 'tooMany';

/** A SCIM error response: its status, `scimType` and `detail` are what the client sees. */
export class ScimError extends Error {
  constructor(
    readonly status: number,
    readonly scimType: ScimType | null,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'ScimError';
  }

  static notFound(what: 'User' | 'Group' | 'resource'): ScimError {
    return new ScimError(404, null, `No such ${what}.`);
  }

  body(): Record<string, unknown> {
    return {
      schemas: [ERROR_SCHEMA],
      status: String(this.status),
      ...(this.scimType ? { scimType: this.scimType } : {}),
      detail: this.detail,
    };
  }
}

export const invalidSyntax = (detail: string) => new ScimError(400, 'invalidSyntax', detail);
export const invalidValue = (detail: string) => new ScimError(400, 'invalidValue', detail);
export const invalidFilter = (detail: string) => new ScimError(400, 'invalidFilter', detail);

/** The SCIM attribute a service's field stands for, to name it in `detail`. */
const ATTRIBUTE_OF_FIELD: Record<string, string> = {
  email: 'userName',
  name: 'name',
  role: 'role',
  externalId: 'externalId',
  businessUnitIds: 'groups',
  members: 'members',
};

/**
 * The SCIM answer to an error the admin services threw: a duplicate is 409
 * `uniqueness`; an unknown resource id is 404, exactly as for an id of
 * another organisation; other bad input is 400 `invalidValue`. Anything else
 * is not a client's mistake and is left to the 500 handler.
 */
export function toScimError(error: unknown): ScimError | null {
  if (error instanceof ScimError) return error;
  if (error instanceof DuplicateError) return new ScimError(409, 'uniqueness', error.message);
  if (error instanceof NoSuchRecordError && error.extensions['field'] === 'id') {
    return ScimError.notFound('resource');
  }
  if (error instanceof BadUserInputError) {
    const field = error.extensions['field'];
    const attribute = typeof field === 'string' ? (ATTRIBUTE_OF_FIELD[field] ?? field) : null;
    return invalidValue(attribute ? `${attribute}: ${error.message}` : error.message);
  }
  if (error instanceof ForbiddenError) return new ScimError(403, null, error.message);
  return null;
}

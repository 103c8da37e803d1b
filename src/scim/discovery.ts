/** Schema URNs (RFC 7643 §8.7, RFC 7644 §3) and this service's extension. */
export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ROLE_EXTENSION = 'urn:ietf:params:scim:schemas:extension:ApiTokenService:2.0:User';
const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';
const RESOURCE_TYPE_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
const CONFIG_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';

/** Largest page `GET /Users` and `GET /Groups` return, whatever `count` asks for. */
export const MAX_PAGE = 200;

interface Attribute {
  readonly name: string;
  readonly type: 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime';
  readonly multiValued?: boolean;
  readonly required?: boolean;
  readonly mutability?: 'readOnly' | 'readWrite' | 'immutable';
  readonly uniqueness?: 'none' | 'server';
  readonly caseExact?: boolean;
  readonly canonicalValues?: readonly string[];
  readonly referenceTypes?: readonly string[];
  readonly subAttributes?: readonly Attribute[];
  readonly description: string;
}

function attribute(a: Attribute): Record<string, unknown> {
  return {
    name: a.name,
    type: a.type,
    multiValued: a.multiValued ?? false,
    description: a.description,
    required: a.required ?? false,
    caseExact: a.caseExact ?? false,
    mutability: a.mutability ?? 'readWrite',
    returned: 'default',
    uniqueness: a.uniqueness ?? 'none',
    ...(a.canonicalValues ? { canonicalValues: a.canonicalValues } : {}),
    ...(a.referenceTypes ? { referenceTypes: a.referenceTypes } : {}),
    ...(a.subAttributes ? { subAttributes: a.subAttributes.map(attribute) } : {}),
  };
}

const USER_ATTRIBUTES: readonly Attribute[] = [
  {
    name: 'userName',
    type: 'string',
    required: true,
    uniqueness: 'server',
    description: 'The user’s email address; unique across the service, stored lower-cased.',
  },
  {
    name: 'name',
    type: 'complex',
    description:
      'formatted, or else givenName and familyName, becomes the user’s one name (also shown as displayName); removing it leaves the user unnamed.',
    subAttributes: [
      { name: 'formatted', type: 'string', description: 'The full name.' },
      { name: 'givenName', type: 'string', description: 'Used when formatted is absent.' },
      { name: 'familyName', type: 'string', description: 'Used when formatted is absent.' },
    ],
  },
  {
    name: 'displayName',
    type: 'string',
    description: 'The same one name as name.formatted: setting or removing either sets or removes both.',
  },
  {
    name: 'active',
    type: 'boolean',
    description: 'false deactivates the user: their API token is revoked and their sessions end at once.',
  },
  {
    name: 'emails',
    type: 'complex',
    multiValued: true,
    description: 'One address, the userName. Ignored in a whole resource; a PATCH may only repeat the userName.',
    subAttributes: [
      { name: 'value', type: 'string', description: 'The address (the userName).' },
      { name: 'type', type: 'string', canonicalValues: ['work'], description: 'work.' },
      { name: 'primary', type: 'boolean', description: 'Always true.' },
    ],
  },
  {
    name: 'groups',
    type: 'complex',
    multiValued: true,
    mutability: 'readOnly',
    description: 'The user’s business units; change them through /Groups.',
    subAttributes: [
      { name: 'value', type: 'string', mutability: 'readOnly', description: 'The group id.' },
      { name: '$ref', type: 'reference', referenceTypes: ['Group'], mutability: 'readOnly', description: 'The group’s URL.' },
      { name: 'display', type: 'string', mutability: 'readOnly', description: 'The group name.' },
    ],
  },
];

const GROUP_ATTRIBUTES: readonly Attribute[] = [
  {
    name: 'displayName',
    type: 'string',
    required: true,
    uniqueness: 'server',
    description: 'The business unit’s name, unique per organisation.',
  },
  {
    name: 'members',
    type: 'complex',
    multiValued: true,
    description: 'Users in the business unit.',
    subAttributes: [
      { name: 'value', type: 'string', mutability: 'immutable', description: 'The user id.' },
      { name: '$ref', type: 'reference', referenceTypes: ['User'], mutability: 'immutable', description: 'The user’s URL.' },
      { name: 'display', type: 'string', mutability: 'readOnly', description: 'The user’s email.' },
    ],
  },
];

const ROLE_ATTRIBUTES: readonly Attribute[] = [
  {
    name: 'role',
    type: 'string',
    canonicalValues: ['USER', 'ADMIN'],
    caseExact: true,
    description: 'USER (the default) or ADMIN. SUPPORT cannot be granted over SCIM.',
  },
];

function schema(id: string, name: string, description: string, attributes: readonly Attribute[]) {
  return {
    schemas: [SCHEMA_SCHEMA],
    id,
    name,
    description,
    attributes: attributes.map(attribute),
    meta: { resourceType: 'Schema', location: `/scim/v2/Schemas/${id}` },
  };
}

export const SCHEMAS = [
  schema(USER_SCHEMA, 'User', 'A user of the organisation.', USER_ATTRIBUTES),
  schema(GROUP_SCHEMA, 'Group', 'A business unit of the organisation.', GROUP_ATTRIBUTES),
  schema(ROLE_EXTENSION, 'ApiTokenServiceUser', 'The user’s role in the API token service.', ROLE_ATTRIBUTES),
];

export const RESOURCE_TYPES = [
  {
    schemas: [RESOURCE_TYPE_SCHEMA],
    id: 'User',
    name: 'User',
    endpoint: '/Users',
    description: 'Users of the organisation',
    schema: USER_SCHEMA,
    schemaExtensions: [{ schema: ROLE_EXTENSION, required: false }],
    meta: { resourceType: 'ResourceType', location: '/scim/v2/ResourceTypes/User' },
  },
  {
    schemas: [RESOURCE_TYPE_SCHEMA],
    id: 'Group',
    name: 'Group',
    endpoint: '/Groups',
    description: 'Business units of the organisation',
    schema: GROUP_SCHEMA,
    schemaExtensions: [],
    meta: { resourceType: 'ResourceType', location: '/scim/v2/ResourceTypes/Group' },
  },
];

export const SERVICE_PROVIDER_CONFIG = {
  schemas: [CONFIG_SCHEMA],
  documentationUri: 'https://www.rfc-editor.org/rfc/rfc7644',
  patch: { supported: true },
  bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
  filter: { supported: true, maxResults: MAX_PAGE },
  changePassword: { supported: false },
  sort: { supported: false },
  etag: { supported: false },
  authenticationSchemes: [
    {
      type: 'oauthbearertoken',
      name: 'OAuth Bearer Token',
      description: 'The organisation’s SCIM token: npm run -s admin -- scim-token --organization <name>',
      primary: true,
    },
  ],
  meta: { resourceType: 'ServiceProviderConfig', location: '/scim/v2/ServiceProviderConfig' },
};

/** A ListResponse (RFC 7644 §3.4.2). */
export function listResponse(resources: readonly unknown[], totalResults: number, startIndex: number) {
  return { schemas: [LIST_SCHEMA], totalResults, itemsPerPage: resources.length, startIndex, Resources: resources };
}

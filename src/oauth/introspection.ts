import type { PrincipalResolver } from '../auth/principal-resolver.js';

/** RFC 7662 §2.2. Anything but a live token is exactly `{ active: false }`: no hint why. */
export type IntrospectionResponse =
  | { readonly active: false }
  | {
      readonly active: true;
      readonly sub: string;
      readonly username: string;
      readonly scope: string;
      readonly exp: number;
      readonly iat: number;
      readonly token_type: 'Bearer';
      readonly org: string;
      readonly role: string;
      readonly business_units: readonly string[];
      readonly regions: readonly string[];
    };

const INACTIVE = { active: false } as const;

/**
 * What a token grants right now: its user's current role and business units
 * (a token has no scopes of its own). Goes through the same principal resolver
 * as a request, so it counts as a use and refuses what a request would refuse.
 */
export async function introspect(
  principals: Pick<PrincipalResolver, 'token'>,
  regions: readonly string[],
  secret: string,
): Promise<IntrospectionResponse> {
  const resolved = await principals.token(secret);
  if (!resolved?.token) return INACTIVE;
  const { principal, token } = resolved;
  return {
    active: true,
    sub: principal.userId,
    username: principal.email,
    scope: [`role:${principal.role}`, ...principal.businessUnitIds.map((id) => `bu:${id}`)].join(' '),
    exp: Math.floor(token.expiresAt.getTime() / 1000),
    iat: Math.floor(token.createdAt.getTime() / 1000),
    token_type: 'Bearer',
    org: principal.organizationId,
    role: principal.role,
    business_units: [...principal.businessUnitIds],
    regions: [...regions],
  };
}

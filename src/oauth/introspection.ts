import type { PrincipalResolver, Resolved } from '../credentials/principal-resolver.js';
import { andThen, type MaybePromise } from '../maybe-promise.js';

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

const INACTIVE = JSON.stringify({ active: false } satisfies IntrospectionResponse);

/**
 * What a token grants right now: its user's current role and business units
 * (a token has no scopes of its own). Goes through the same principal resolver
 * as a request, so it counts as a use and refuses what a request would refuse.
 *
 * The answer is JSON text, serialized once per resolved token: the resolver
 * hands out the same object until the token or its user changes, so a
 * resource server asking again about a token costs a cache hit and no
 * serialization.
 */
export class Introspector {
  private readonly answers = new WeakMap<Resolved, string>();

  constructor(
    private readonly principals: Pick<PrincipalResolver, 'token'>,
    private readonly regions: readonly string[],
  ) {}

  answer(secret: string): MaybePromise<string> {
    return andThen(this.principals.token(secret), (resolved) => {
      if (!resolved?.token) return INACTIVE;
      let answer = this.answers.get(resolved);
      if (answer === undefined) this.answers.set(resolved, (answer = JSON.stringify(this.describe(resolved, resolved.token))));
      return answer;
    });
  }

  private describe({ principal }: Resolved, token: NonNullable<Resolved['token']>): IntrospectionResponse {
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
      regions: [...this.regions],
    };
  }
}

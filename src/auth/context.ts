import type { Principal } from './principal.js';
import type { PrincipalResolver } from './principal-resolver.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { ForbiddenError, UnauthenticatedError } from '../errors.js';
import type { TokenEventService } from '../events/token-event.service.js';
import type { TokenService } from '../tokens/token.service.js';
import type { AdminServices } from '../admin/admin-services.js';
import type { UserService } from '../users/user.service.js';
import type { RateLimits } from '../http/rate-limits.js';

/** The services resolvers call; resolvers hold no rules of their own. */
export interface Services {
  readonly config: Config;
  readonly clock: Clock;
  readonly tokens: TokenService;
  /** Who a credential is, now: every credential check goes through it. */
  readonly principals: PrincipalResolver;
  readonly users: UserService;
  readonly events: TokenEventService;
  /** Admin and support controls and reads. */
  readonly admin: AdminServices;
  /** Budgets checked on the resolver path, so HTTP and graphql-ws share them. */
  readonly limits: RateLimits;
}

export interface GraphQLContext {
  /** Null for an anonymous request (allowed only for introspection). */
  readonly principal: Principal | null;
  readonly services: Services;
}

export function requirePrincipal(ctx: GraphQLContext): Principal {
  if (!ctx.principal) throw new UnauthenticatedError();
  return ctx.principal;
}

/** Minting tokens needs a person: an API token may not create its own successor. */
export function requireSession(ctx: GraphQLContext): Principal {
  const principal = requirePrincipal(ctx);
  if (principal.via !== 'session') {
    throw new ForbiddenError('An API token cannot generate API tokens; sign in to the profile page instead.');
  }
  return principal;
}

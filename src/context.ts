import type { Principal } from './auth/principal.js';
import type { PrincipalResolver } from './credentials/principal-resolver.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { TokenEventService } from './events/token-event.service.js';
import type { TokenService } from './tokens/token.service.js';
import type { AdminServices } from './admin/admin-services.js';
import type { UserService } from './users/user.service.js';
import type { RateLimits } from './http/rate-limits.js';

/**
 * The services resolvers call; resolvers hold no rules of their own. It lives
 * with the composition root (app.ts builds it) because it names every
 * feature's service: inside a feature folder it would make that folder and
 * every other import each other.
 */
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

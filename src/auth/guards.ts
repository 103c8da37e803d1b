import { ForbiddenError, UnauthenticatedError } from '../errors.js';
import type { Principal } from './principal.js';

/** What a guard needs of a request's context (the GraphQL context is one, see src/context.ts). */
export interface Authenticated {
  /** Null for an anonymous request (allowed only for introspection). */
  readonly principal: Principal | null;
}

export function requirePrincipal(ctx: Authenticated): Principal {
  if (!ctx.principal) throw new UnauthenticatedError();
  return ctx.principal;
}

/** Minting tokens needs a person: an API token may not create its own successor. */
export function requireSession(ctx: Authenticated): Principal {
  const principal = requirePrincipal(ctx);
  if (principal.via !== 'session') {
    throw new ForbiddenError('An API token cannot generate API tokens; sign in to the profile page instead.');
  }
  return principal;
}

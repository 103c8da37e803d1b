import { InvalidTokenError } from '../errors.js';
import type { TokenService } from '../tokens/token.service.js';
import { looksLikeApiToken } from '../tokens/token-format.js';
import type { UserService } from '../users/user.service.js';
import { principalOf, principalUserOf } from './principal-of.js';
import type { Principal } from './principal.js';
import type { SessionVerifier } from './session.js';

/** Turns an `Authorization` value into a principal: a session JWT or an API token. */
export class Authenticator {
  constructor(
    private readonly sessions: SessionVerifier,
    private readonly tokens: TokenService,
    private readonly users: UserService,
  ) {}

  /**
   * Null when no credential was sent. A credential that was sent but does not
   * authenticate throws `InvalidTokenError`, whatever the reason.
   */
  async authenticate(authorization: string | undefined): Promise<Principal | null> {
    if (authorization === undefined || authorization.trim() === '') return null;
    const match = /^Bearer +(\S+)\s*$/i.exec(authorization);
    const credential = match?.[1];
    if (!credential) throw new InvalidTokenError();
    const principal = looksLikeApiToken(credential)
      ? await this.tokens.authenticate(credential)
      : await this.session(credential);
    if (!principal) throw new InvalidTokenError();
    return principal;
  }

  private async session(jwt: string): Promise<Principal | null> {
    const userId = await this.sessions.verify(jwt);
    const user = userId ? await this.users.findActive(userId) : null;
    return user ? principalOf(principalUserOf(user), 'session', null) : null;
  }
}

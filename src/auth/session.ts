import { randomBytes } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, SignJWT, type JWTVerifyGetKey } from 'jose';
import type { Config } from '../config.js';
import { devSecret } from '../dev-secret.js';

const SESSION_LIFETIME = '12h';

/**
 * Verifies session JWTs from the identity provider: by a shared HS256 secret,
 * or by the provider's JWKS where `SESSION_JWKS_URL` is set.
 */
export class SessionVerifier {
  private readonly key: Uint8Array | JWTVerifyGetKey;

  constructor(
    private readonly secret: Uint8Array | null,
    private readonly config: Config['session'],
  ) {
    if (config.jwksUrl) this.key = createRemoteJWKSet(new URL(config.jwksUrl));
    else if (secret) this.key = secret;
    else throw new Error('A session secret or JWKS URL is required');
  }

  /** The user id (`sub`) of a valid session, or null for anything else. */
  async verify(jwt: string): Promise<string | null> {
    try {
      const options = {
        ...(this.config.issuer ? { issuer: this.config.issuer } : {}),
        ...(this.config.audience ? { audience: this.config.audience } : {}),
      };
      const { payload } =
        this.key instanceof Uint8Array
          ? await jwtVerify(jwt, this.key, { ...options, algorithms: ['HS256'] })
          : await jwtVerify(jwt, this.key, options);
      return typeof payload.sub === 'string' ? payload.sub : null;
    } catch {
      return null;
    }
  }

  /** Signs a session for local use (the `session` CLI and tests). */
  async sign(user: { id: string; email: string }): Promise<string> {
    if (!this.secret) throw new Error('Sessions can only be signed locally with SESSION_SECRET');
    let jwt = new SignJWT({ email: user.email })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user.id)
      .setIssuedAt()
      .setExpirationTime(SESSION_LIFETIME);
    if (this.config.issuer) jwt = jwt.setIssuer(this.config.issuer);
    if (this.config.audience) jwt = jwt.setAudience(this.config.audience);
    return jwt.sign(this.secret);
  }
}

/**
 * The HS256 secret: `SESSION_SECRET` when set; otherwise (never in
 * production, which config refuses) one generated on first use and kept in
 * `<dataDir>/session-secret`, so the server and the `session` CLI agree.
 */
export function sessionSecret(config: Config): Uint8Array | null {
  if (config.session.secret) return new TextEncoder().encode(config.session.secret);
  if (config.session.jwksUrl) return null;
  const { value } = devSecret(config.dataDir, 'session-secret', () => randomBytes(32).toString('base64url'));
  return new TextEncoder().encode(value);
}

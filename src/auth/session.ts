import { randomBytes } from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify, SignJWT, type JWTVerifyGetKey } from 'jose';
import type { Config } from '../config.js';
import { refused, verified, type Verified } from '../credential-outcome.js';
import { devSecret } from '../dev-secret.js';

/** Seconds of clock difference tolerated between the identity provider and this service. */
const CLOCK_TOLERANCE_S = 30;

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

  /**
   * The user id (`sub`) of a valid session, or null for anything else. A
   * session must say when it was issued and when it expires (one without
   * `exp` would never expire), may live at most `SESSION_MAX_AGE` (checked
   * both as `exp - iat` and as the age since `iat`, so a long-lived session is
   * refused even while fresh), and must carry `SESSION_ISSUER` /
   * `SESSION_AUDIENCE` when they are set.
   */
  async verify(jwt: string): Promise<string | null> {
    const answer = await this.check(jwt);
    return answer.outcome === 'OK' ? answer.value : null;
  }

  /** As `verify`, saying why a JWT is refused: `EXPIRED` past its `exp` or `SESSION_MAX_AGE`, `MALFORMED` otherwise. */
  async check(jwt: string): Promise<Verified<string>> {
    const maxAgeS = Math.floor(this.config.maxAge.ms / 1000);
    try {
      const options = {
        requiredClaims: ['exp', 'iat', 'sub'],
        maxTokenAge: maxAgeS,
        clockTolerance: CLOCK_TOLERANCE_S,
        ...(this.config.issuer ? { issuer: this.config.issuer } : {}),
        ...(this.config.audience ? { audience: this.config.audience } : {}),
      };
      const { payload } =
        this.key instanceof Uint8Array
          ? await jwtVerify(jwt, this.key, { ...options, algorithms: ['HS256'] })
          : await jwtVerify(jwt, this.key, options);
      const { exp, iat, sub } = payload;
      if (exp === undefined || iat === undefined || exp - iat > maxAgeS || typeof sub !== 'string') return refused('MALFORMED');
      return verified(sub);
    } catch (error) {
      // jose says JWTExpired for a passed `exp` and for an `iat` older than `maxTokenAge`.
      return refused(error instanceof errors.JWTExpired ? 'EXPIRED' : 'MALFORMED');
    }
  }

  /** Signs a session for local use (the `session` CLI and tests). */
  async sign(user: { id: string; email: string }): Promise<string> {
    if (!this.secret) throw new Error('Sessions can only be signed locally with SESSION_SECRET');
    // One reading of the clock for both claims: jose reads it again for each, and a second
    // ticking between the two made `exp - iat` one more than SESSION_MAX_AGE (refused, MALFORMED).
    const issuedAt = Math.floor(Date.now() / 1000);
    let jwt = new SignJWT({ email: user.email })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user.id)
      .setIssuedAt(issuedAt)
      // As long as verification allows: the CLI's sessions pass the rules this service enforces.
      .setExpirationTime(issuedAt + Math.floor(this.config.maxAge.ms / 1000));
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

/**
 * What production should be told at start about its session settings: without
 * an issuer and audience, any JWT signed with the same key (by another service
 * sharing the secret or the identity provider) is accepted as a session here.
 */
export function sessionConfigWarnings(config: Config): string[] {
  if (config.env !== 'production') return [];
  const missing = [config.session.issuer ? null : 'SESSION_ISSUER', config.session.audience ? null : 'SESSION_AUDIENCE'].filter(
    (name): name is string => name !== null,
  );
  return missing.length
    ? [`${missing.join(' and ')} not set: session JWTs are accepted from any issuer and for any audience that shares the signing key`]
    : [];
}

import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config, IntrospectionClientConfig } from '../config.js';
import { devSecret } from '../dev-secret.js';
import { sha256 } from '../sha256.js';
import { refused, verified, type Verified } from '../credential-outcome.js';

const DEV_CLIENT_ID = 'dev-introspector';
/** Compared against when the client id is unknown, so a wrong id costs the same time as a wrong secret. */
const DUMMY_DIGEST = sha256('no such client');

/** The clients allowed to call `POST /oauth/introspect`, checked by HTTP Basic. */
export class IntrospectionClients {
  private readonly digests: Map<string, Buffer>;
  /**
   * Client ids by the SHA-256 of the `Authorization` values a client sends
   * when it follows RFC 6749 §2.3.1, or does not form-encode (`curl -u`): such
   * a header costs one hash. Keyed by a digest, so the lookup's timing says
   * nothing about a secret.
   */
  private readonly headers: Map<string, string>;

  constructor(clients: readonly IntrospectionClientConfig[]) {
    this.digests = new Map(clients.map((client) => [client.id, sha256(client.secret)]));
    this.headers = new Map(
      clients.flatMap(({ id, secret }) =>
        [`${id}:${secret}`, `${formEncode(id)}:${formEncode(secret)}`].map(
          (pair) => [sha256(`Basic ${Buffer.from(pair, 'utf8').toString('base64')}`, 'base64'), id] as const,
        ),
      ),
    );
  }

  /**
   * The client id for a valid `Authorization: Basic` value, else null. Per
   * RFC 6749 §2.3.1 the id and secret are form-encoded before base64; the raw
   * text is accepted too, since `curl -u id:secret` does not encode. Secrets
   * are compared as SHA-256 digests in constant time.
   */
  authenticate(authorization: string | undefined): string | null {
    const answer = this.verify(authorization);
    return answer.outcome === 'OK' ? answer.value : null;
  }

  /**
   * As `authenticate`, saying why not: `MALFORMED` (not `Basic id:secret`),
   * `UNKNOWN` (no such client, or the wrong secret: not told apart).
   */
  verify(authorization: string | undefined): Verified<string> {
    if (authorization === undefined) return refused('MALFORMED');
    const known = this.headers.get(sha256(authorization, 'base64'));
    if (known !== undefined) return verified(known);
    const match = /^Basic +([A-Za-z0-9+/]+={0,2})\s*$/i.exec(authorization);
    if (!match?.[1]) return refused('MALFORMED');
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    if (decoded.indexOf(':') <= 0) return refused('MALFORMED');
    const raw = splitOnce(decoded);
    const candidates = [raw, raw.map(formDecode) as [string, string]];
    for (const [id, secret] of candidates) {
      const expected = this.digests.get(id);
      const matches = timingSafeEqual(sha256(secret), expected ?? DUMMY_DIGEST);
      if (expected && matches) return verified(id);
    }
    return refused('UNKNOWN');
  }
}

/**
 * The configured clients. With none configured outside production, one
 * development client is generated on first use and kept in
 * `<dataDir>/introspection-client` (like the session secret), and the log says
 * how to call the endpoint with it. In production, none means nobody.
 */
export function loadIntrospectionClients(config: Config, logger: Logger): IntrospectionClients {
  if (config.introspectionClients.length > 0 || config.env === 'production') {
    return new IntrospectionClients(config.introspectionClients);
  }
  const { file, value } = devSecret(
    config.dataDir,
    'introspection-client',
    () => `${DEV_CLIENT_ID}:${randomBytes(24).toString('base64url')}`,
  );
  const [id, secret] = splitOnce(value);
  // The log names the file, not the secret.
  logger.info(
    { introspectionClient: id, file },
    `INTROSPECTION_CLIENTS is not set: a development client is in ${file}. Try: ` +
      `curl -u "$(cat ${file})" -d token=YOUR_API_TOKEN http://localhost:${config.port}/oauth/introspect`,
  );
  return new IntrospectionClients([{ id, secret }]);
}

/** `application/x-www-form-urlencoded` encoding of one value (RFC 6749 Appendix B). */
function formEncode(text: string): string {
  return encodeURIComponent(text).replace(/%20/g, '+');
}

function formDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

function splitOnce(text: string): [string, string] {
  const colon = text.indexOf(':');
  return [text.slice(0, colon), text.slice(colon + 1)];
}

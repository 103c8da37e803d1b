import type { Authenticator } from '../auth/authenticator.js';
import { bearerCredential } from '../auth/bearer.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../errors.js';
import type { TokenEventHub } from '../events/event-hub.js';
import { andThen, type MaybePromise } from '../maybe-promise.js';
import { isWellFormedToken, looksLikeApiToken } from '../tokens/token-format.js';
import type { Metrics } from './metrics.js';

/**
 * The authenticator, counting each check by credential kind and result,
 * without a line of metrics inside the authentication code itself. Results:
 * `ok`; `malformed` (an API token whose checksum fails: never reached the
 * database); `rejected` (unknown, revoked, expired, or its user inactive);
 * `error` (the check itself failed, e.g. the database was down).
 */
export function measuredAuthenticator(metrics: Pick<Metrics, 'authentications'>, inner: Authenticator): Authenticator {
  return {
    // As synchronous as the inner check: a cached credential costs no promise here either.
    authenticate(authorization, address) {
      const ok = (principal: Principal | null) => {
        countAuthentication(metrics, authorization, 'ok');
        return principal;
      };
      const failed = (error: unknown): never => {
        countAuthentication(metrics, authorization, error instanceof AppError ? 'refused' : 'error');
        throw error;
      };
      let principal: MaybePromise<Principal | null>;
      try {
        principal = inner.authenticate(authorization, address);
      } catch (error) {
        return failed(error);
      }
      return andThen(principal, ok, failed);
    },
  };
}

/**
 * Counts one credential check, over HTTP or in a socket's `connection_init`.
 * A refused API token whose checksum fails counts as `malformed` (it never
 * reached the database), any other refusal as `rejected`.
 */
export function countAuthentication(
  metrics: Pick<Metrics, 'authentications'>,
  authorization: string | undefined,
  outcome: 'ok' | 'refused' | 'error',
): void {
  const credential = bearerCredential(authorization);
  const kind =
    authorization === undefined || authorization.trim() === '' ? 'none' : credential && looksLikeApiToken(credential) ? 'api_token' : 'session';
  const malformed = kind === 'api_token' && credential !== null && !isWellFormedToken(credential);
  const result = outcome === 'refused' ? (malformed ? 'malformed' : 'rejected') : outcome;
  metrics.authentications.inc({ kind, result });
}

/** The event hub, counting what is published on it. */
export function countingHub(hub: TokenEventHub, metrics: Pick<Metrics, 'eventsPublished'>): TokenEventHub {
  return {
    publish(event) {
      metrics.eventsPublished.inc({ kind: event.kind });
      return hub.publish(event);
    },
    listen: (userId, listener) => hub.listen(userId, listener),
    onMessage: (watcher) => hub.onMessage(watcher),
    onResync: (watcher) => hub.onResync(watcher),
    healthy: () => hub.healthy(),
    ready: () => hub.ready(),
    close: () => hub.close(),
  };
}

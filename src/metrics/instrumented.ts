import type { Authenticator } from '../auth/authenticator.js';
import type { Principal } from '../auth/principal.js';
import { credentialKindOf } from '../credentials/principal-resolver.js';
import type { CredentialKind, CredentialOutcome } from '../credential-outcome.js';
import { InvalidTokenError } from '../errors.js';
import type { TokenEventHub } from '../events/event-hub.js';
import { andThen, type MaybePromise } from '../maybe-promise.js';
import type { Metrics } from './metrics.js';

/**
 * The authenticator, counting each check by credential kind and outcome,
 * without a line of metrics inside the authentication code itself. The kind
 * and outcome are the verifier's own (see credential-outcome.ts): a refusal
 * carries them on its `InvalidTokenError`; `error` is a check that itself
 * failed (e.g. the database was down).
 */
export function measuredAuthenticator(metrics: Pick<Metrics, 'authentications'>, inner: Authenticator): Authenticator {
  return {
    // As synchronous as the inner check: a cached credential costs no promise here either.
    authenticate(authorization, options) {
      const ok = (principal: Principal | null) => {
        metrics.authentications.inc({ kind: principal ? kindOfPrincipal(principal) : 'none', result: 'ok' });
        return principal;
      };
      const failed = (error: unknown): never => {
        if (error instanceof InvalidTokenError) countAuthentication(metrics, error.credentialKind ?? 'session', error.outcome);
        else metrics.authentications.inc({ kind: credentialKindOf(authorization ?? ''), result: 'error' });
        throw error;
      };
      let principal: MaybePromise<Principal | null>;
      try {
        principal = inner.authenticate(authorization, options);
      } catch (error) {
        return failed(error);
      }
      return andThen(principal, ok, failed);
    },
  };
}

function kindOfPrincipal(principal: Principal): CredentialKind {
  return principal.via === 'token' ? 'api_token' : principal.via === 'scim' ? 'scim_token' : 'session';
}

/**
 * Counts one credential check (HTTP, a socket's `connection_init`, SCIM,
 * introspection, `/metrics`) by the verifier's kind and outcome: the result
 * label is the outcome in lower case (`ok`, `malformed`, `unknown`, ...).
 */
export function countAuthentication(
  metrics: Pick<Metrics, 'authentications'>,
  kind: CredentialKind | 'none',
  outcome: CredentialOutcome,
): void {
  metrics.authentications.inc({ kind, result: outcome.toLowerCase() });
}

/** The event hub, counting what is published on it. */
export function countingHub(hub: TokenEventHub, metrics: Pick<Metrics, 'eventsPublished'>): TokenEventHub {
  return {
    publish(events) {
      for (const event of events) metrics.eventsPublished.inc({ kind: event.kind });
      return hub.publish(events);
    },
    receive: (event) => hub.receive(event),
    delivered: (eventId) => hub.delivered(eventId),
    memberSince: () => hub.memberSince(),
    listen: (userId, listener) => hub.listen(userId, listener),
    onMessage: (watcher) => hub.onMessage(watcher),
    onResync: (watcher) => hub.onResync(watcher),
    healthy: () => hub.healthy(),
    ready: () => hub.ready(),
    close: () => hub.close(),
  };
}

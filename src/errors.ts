import { GraphQLError } from 'graphql';
import type { CredentialKind, CredentialRefusal } from './credential-outcome.js';

/** The closed set of error codes a client can act on (`extensions.code`). */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'API_TOKEN_EXISTS'
  | 'API_TOKEN_NOT_FOUND'
  | 'API_TOKENS_DISABLED'
  | 'USER_INACTIVE'
  | 'RATE_LIMITED';

/** An error meant for the client: its message and code are shown as they are. */
export class AppError extends GraphQLError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    extensions: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { ...extensions, code } });
  }
}

export class UnauthenticatedError extends AppError {
  constructor(message = 'Authentication required: send Authorization: Bearer <session or API token>.') {
    super('UNAUTHENTICATED', message);
  }
}

/**
 * A bearer credential that is malformed, unknown, revoked or expired. One
 * message for all of them, so an attacker learns nothing about which; RFC 6750
 * asks for 401 with `WWW-Authenticate: Bearer error="invalid_token"`, which the
 * HTTP layer (src/http/server.ts) answers; over graphql-ws the socket is refused.
 */
export class InvalidTokenError extends AppError {
  /**
   * Why it was refused and by which verifier: read by metrics, logs and the
   * `WWW-Authenticate` `error_description`, never shown in the body.
   */
  constructor(
    readonly outcome: CredentialRefusal = 'MALFORMED',
    readonly credentialKind: CredentialKind | null = null,
  ) {
    super('UNAUTHENTICATED', 'The bearer credential is invalid, expired or revoked.');
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'You are not allowed to do this.') {
    super('FORBIDDEN', message);
  }
}

export class BadUserInputError extends AppError {
  constructor(message: string, field?: string) {
    super('BAD_USER_INPUT', message, field ? { field } : {});
  }
}

/**
 * An id the caller cannot see. Deliberately the same answer whether the row
 * does not exist or belongs to another organisation, so one tenant cannot
 * probe another's ids.
 */
export class NoSuchRecordError extends BadUserInputError {
  constructor(what: 'user' | 'business unit', field: string) {
    super(`No such ${what}.`, field);
  }
}

export class ApiTokenExistsError extends AppError {
  constructor() {
    super('API_TOKEN_EXISTS', 'You already have an API token. Revoke it (revokeApiToken) or replace it (regenerateApiToken) first.');
  }
}

export class ApiTokenNotFoundError extends AppError {
  constructor(message = 'There is no such API token.') {
    super('API_TOKEN_NOT_FOUND', message);
  }
}

export class ApiTokensDisabledError extends AppError {
  constructor(reason: string | null) {
    super('API_TOKENS_DISABLED', `API tokens are disabled for your account${reason ? `: ${reason}` : ''}. Contact support to enable them.`);
  }
}

/**
 * The account was deactivated while the request was on its way: its
 * credential authenticated a moment ago, but nothing may be issued to an
 * inactive user (checked under the user's lock, so a deactivation that
 * commits first always wins).
 */
export class UserInactiveError extends AppError {
  constructor() {
    super('USER_INACTIVE', 'Your account has been deactivated; no API token can be issued to it.');
  }
}

/**
 * Too many attempts in the current window. `retryAfterSeconds` says when the
 * next one is allowed, so a client backs off instead of retrying blindly.
 */
export class RateLimitedError extends AppError {
  constructor(readonly retryAfterSeconds: number) {
    super('RATE_LIMITED', `Too many requests; try again in ${retryAfterSeconds} s.`, { retryAfterSeconds });
  }
}

/**
 * Too many live operations on one socket, or for one user on this instance.
 * The socket stays open: completing an operation makes room for another.
 */
export class TooManySubscriptionsError extends AppError {
  constructor(scope: 'socket' | 'user', max: number) {
    super(
      'RATE_LIMITED',
      scope === 'socket'
        ? `This socket already has ${max} operations running; complete one before starting another.`
        : `You already have ${max} operations running on this server; complete one before starting another.`,
      { limit: max },
    );
  }
}

/**
 * A value that must be unique (an email, a business unit name) is taken. A
 * BAD_USER_INPUT in GraphQL; its own class so SCIM can answer 409 `uniqueness`.
 */
export class DuplicateError extends BadUserInputError {}

/**
 * Reports a client error on `field` instead: services name plain attribute
 * names (`email`), and each API layer says where that attribute sits in its
 * own request (`input.email` in GraphQL). The error is thrown fresh per call,
 * so renaming it in place changes nobody else's copy.
 */
export function reportOn<E extends BadUserInputError>(error: E, field: string): E {
  error.extensions['field'] = field;
  return error;
}

/**
 * A request refused at the HTTP layer before any GraphQL runs, with its HTTP
 * status and a stable code; outside the closed set above because no resolver
 * raises it.
 */
export class HttpRequestError extends GraphQLError {
  constructor(
    readonly code: 'BAD_REQUEST' | 'TOKEN_IN_URL',
    readonly status: number,
    message: string,
    headers: Readonly<Record<string, string>> = {},
  ) {
    super(message, { extensions: { code, http: { status, headers: new Map(Object.entries(headers)) } } });
  }
}

/** Subscriptions need a socket; over HTTP one would run once as a query and fail inside. */
export class SubscriptionOverHttpError extends HttpRequestError {
  constructor() {
    super('BAD_REQUEST', 405, 'Subscriptions are served over graphql-ws (ws:// or wss:// on this same path), not over HTTP.', {
      allow: 'GET, POST',
    });
  }
}

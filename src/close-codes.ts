/**
 * Every code a `/graphql` socket is closed with, shared by the server
 * (src/http/websocket/) and the page (web/src/api.ts); the README's
 * "Close codes" table says the same. No other file writes a close code as a
 * number.
 *
 * Three kinds:
 * - WebSocket's own (RFC 6455 §7.4.1);
 * - graphql-ws's own (its `CloseCode` enum), which the service sends with
 *   graphql-ws's meaning, or which graphql-ws sends by itself;
 * - the service's own, in 4800-4899, a range graphql-ws does not use: its
 *   client treats several of its 44xx codes as fatal (never retried), so a
 *   code of ours there would read as one of them. graphql-ws's client retries
 *   the service's own codes with its back-off.
 *
 * No imports: the page bundles this file as it is.
 */
export const CLOSE_CODES = {
  /** The service is shutting down; reconnect (to another instance). */
  GOING_AWAY: 1001,
  /** A message over the size limit (64 KiB), closed by the WebSocket library. */
  MESSAGE_TOO_BIG: 1009,
  /** graphql-ws: a frame that is not a message a client may send. */
  BAD_REQUEST: 4400,
  /** graphql-ws: subscribed before `connection_ack`. */
  UNAUTHORIZED: 4401,
  /** graphql-ws: the credential was refused, or is no longer valid (revoked, expired, user deactivated). */
  FORBIDDEN: 4403,
  /** graphql-ws: no `connection_init` in time. */
  CONNECTION_INIT_TIMEOUT: 4408,
  /** graphql-ws: the server failed. */
  INTERNAL_SERVER_ERROR: 4500,
  /** Ours: the client address spent `RATE_LIMIT_AUTH_FAILURES`; retry after the window. */
  TOO_MANY_FAILED_AUTHENTICATIONS: 4801,
  /** Ours: the socket sent more than `WS_MAX_MESSAGES` messages within `WS_MESSAGE_WINDOW`. */
  TOO_MANY_MESSAGES: 4802,
  /** Ours: the user or the client address already holds as many sockets as allowed. */
  TOO_MANY_SOCKETS: 4803,
} as const;

/** The first and last code of the service's own range. */
export const OWN_CLOSE_CODE_RANGE = { first: 4800, last: 4899 } as const;

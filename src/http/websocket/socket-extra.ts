import type { ServerOptions } from 'graphql-ws';
import type { WebSocket } from 'ws';
import type { Watch } from '../../credentials/credential-watcher.js';
import { CLOSE_CODES } from '../../close-codes.js';

/** What graphql-ws keeps per socket (its `ctx.extra`), from the connection on. */
export interface SocketExtra {
  readonly socket: WebSocket;
  /** The client address, read from the upgrade request (which is not kept). */
  readonly ip: string;
  /** The socket's credential, watched from `connection_init` on. */
  watched?: Watch;
  untrack?: () => void;
  /** Frees this socket's place among its user's (WS_MAX_SOCKETS_PER_USER). */
  releaseUser?: () => void;
  [key: PropertyKey]: unknown;
}

/** The graphql-ws server's options, with our per-socket `extra`. */
export type ProtocolOptions = ServerOptions<Record<string, unknown>, SocketExtra>;

export function closeForbidden(socket: WebSocket, reason: string): void {
  if (socket.readyState === socket.OPEN) socket.close(CLOSE_CODES.FORBIDDEN, reason);
}

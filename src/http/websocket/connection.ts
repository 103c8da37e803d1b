import type { IncomingMessage } from 'node:http';
import type { Server } from 'graphql-ws';
import type { Logger } from 'pino';
import type { WebSocket, WebSocketServer } from 'ws';
import { CLOSE_CODES } from '../../close-codes.js';
import type { WebSocketLimits } from '../../config.js';
import { addressKey } from '../address-key.js';
import { MessageBudget, MessageTurns, SocketCounts } from '../socket-guards.js';
import { isClientMessage } from '../ws-messages.js';
import type { SocketExtra } from './socket-extra.js';

export interface ConnectionOptions {
  readonly protocol: Server<SocketExtra>;
  readonly limits: WebSocketLimits;
  readonly logger: Logger;
  /** The client address of the upgrade request, by the same proxy rule as HTTP. */
  readonly clientIp: (request: IncomingMessage) => string;
  /** Answers the keep-alive's pings (./keep-alive.ts). */
  readonly markAlive: (this: WebSocket) => void;
}

/**
 * graphql-ws's own `use/ws` adapter, with client mistakes (an oversized
 * message, a dropped link) logged through our logger instead of console, and
 * the per-address socket cap and per-socket message budget on top.
 * The upgrade request is not kept: nothing needs it after the handshake, and
 * holding it cost every socket its headers and parser state.
 */
export function acceptConnections(wss: WebSocketServer, options: ConnectionOptions): void {
  const { protocol, limits, logger, clientIp, markAlive } = options;
  const addressSockets = new SocketCounts(limits.maxSocketsPerAddress);
  wss.on('connection', (socket, request) => {
    const ip = clientIp(request);
    const releaseAddress = addressSockets.acquire(addressKey(ip));
    if (!releaseAddress) {
      socket.close(CLOSE_CODES.TOO_MANY_SOCKETS, 'Too many sockets from this address');
      return;
    }
    socket.once('close', releaseAddress);
    // Every message counts, graphql-ws's and WebSocket's own pings alike; past the budget the socket is closed.
    const budget = new MessageBudget(limits.maxMessages, limits.messageWindow.ms);
    const overBudget = (): boolean => {
      if (budget.take()) return false;
      if (socket.readyState === socket.OPEN) socket.close(CLOSE_CODES.TOO_MANY_MESSAGES, 'Too many messages');
      return true;
    };
    socket.on('ping', overBudget);
    const turns = new MessageTurns();
    socket.once('error', (error) => {
      logger.debug({ err: error }, 'websocket client error');
      if (socket.readyState === socket.OPEN) socket.close(CLOSE_CODES.INTERNAL_SERVER_ERROR, 'Internal server error');
    });
    socket.on('pong', markAlive);
    const closed = protocol.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== socket.OPEN) {
              resolve();
              return;
            }
            socket.send(data, (error) => (error ? reject(error) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', (data) => {
            // A socket closing (over its budget, or refused) is not answered any more.
            if (socket.readyState !== socket.OPEN || overBudget()) return;
            turns.run(() => {
              if (socket.readyState !== socket.OPEN) return;
              // ws hands text frames over as Buffers (or Buffer lists); their text is the message.
              // eslint-disable-next-line @typescript-eslint/no-base-to-string
              const text = String(data);
              // graphql-ws throws on a message only a server may send (`next`, `error`, ...), which would
              // read as our failure (INTERNAL_SERVER_ERROR); it is the client's, as graphql-ws's own check of a frame is.
              if (!isClientMessage(text)) {
                socket.close(CLOSE_CODES.BAD_REQUEST, 'Invalid message received');
                return;
              }
              handle(text).catch((error: unknown) => {
                logger.error({ err: error }, 'graphql-ws message handling failed');
                socket.close(CLOSE_CODES.INTERNAL_SERVER_ERROR, 'Internal server error');
              });
            });
          }),
      },
      { socket, ip },
    );
    socket.once('close', (code, reason) => void closed(code, String(reason)));
  });
  // The WebSocket server repeats its HTTP server's errors; a failed listen is
  // already the rejection of app.start(), said once by whoever started it.
  wss.on('error', (error: NodeJS.ErrnoException) => {
    if (error.syscall !== 'listen') logger.error({ err: error }, 'websocket server error');
  });
}

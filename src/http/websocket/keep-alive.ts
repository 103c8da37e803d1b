import type { WebSocket, WebSocketServer } from 'ws';

/**
 * One timer for every socket's keep-alive: each round pings every socket, and
 * one that did not answer the previous ping is dropped. Sockets answer with
 * `socket.on('pong', markAlive)`, one function for all instead of a closure each.
 */
export function keepAlive(wss: WebSocketServer, intervalMs: number): { markAlive: (this: WebSocket) => void; stop(): void } {
  const unanswered = new WeakSet<WebSocket>();
  function markAlive(this: WebSocket): void {
    unanswered.delete(this);
  }
  const timer = setInterval(() => {
    for (const socket of wss.clients) {
      if (unanswered.has(socket)) {
        socket.terminate();
        continue;
      }
      unanswered.add(socket);
      socket.ping();
    }
  }, intervalMs);
  timer.unref();
  return { markAlive, stop: () => clearInterval(timer) };
}

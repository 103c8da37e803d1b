/** The graphql-transport-ws message types a client may send; the rest are the server's. */
const CLIENT_MESSAGE_TYPES: ReadonlySet<string> = new Set(['connection_init', 'ping', 'pong', 'subscribe', 'complete']);

/**
 * Whether a frame is a message a client may send, by its type only; graphql-ws
 * checks the rest of its shape and closes with BAD_REQUEST (src/close-codes.ts) when it is wrong. False for
 * anything that is not a JSON object with such a type.
 */
export function isClientMessage(text: string): boolean {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return false;
  }
  if (typeof message !== 'object' || message === null) return false;
  const type = (message as { type?: unknown }).type;
  return typeof type === 'string' && CLIENT_MESSAGE_TYPES.has(type);
}

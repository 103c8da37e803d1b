/**
 * Anything shaped like a credential this service issues or accepts, wherever
 * it sits in a text: an API token (`own_…`, also a partial or mistyped one),
 * a SCIM token (`scim_…`), and a JWT (three base64url parts, the first a JSON
 * header, so `eyJ…`). Loose on purpose: a log line loses nothing it needs by
 * losing a token-looking word, and a near-miss of a token is still a secret.
 */
const SECRET_SHAPES = /\bown_[0-9A-Za-z]{16,}|\bscim_[A-Za-z0-9_-]{16,}|\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;

/** `text` with every token-shaped string replaced by `[redacted]`. */
export function redactSecrets(text: string): string {
  // Most lines carry none: test first, so they are not copied.
  SECRET_SHAPES.lastIndex = 0;
  if (!SECRET_SHAPES.test(text)) return text;
  return text.replace(SECRET_SHAPES, '[redacted]');
}

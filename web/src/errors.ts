/** What the page says for each `extensions.code`: words a person can act on, never the code itself. */
const MESSAGES: Record<string, string> = {
  API_TOKEN_EXISTS: 'You already have an API token. Regenerate it to get a new one, or revoke it first.',
  API_TOKENS_DISABLED: 'API tokens are turned off for your account. Contact support to turn them back on.',
  API_TOKEN_NOT_FOUND: 'Your API token no longer exists: it was revoked or replaced elsewhere.',
  RATE_LIMITED: 'Too many attempts in a short time. Wait a minute, then try again.',
  UNAUTHENTICATED: 'Your session has expired. Sign in again.',
  FORBIDDEN: 'You are not allowed to do this.',
  USER_INACTIVE: 'Your account has been deactivated. Contact your administrator.',
};

export const OFFLINE = 'You appear to be offline, or the service cannot be reached. Check your connection and try again.';
const UNKNOWN = 'Something went wrong on our side. Try again in a moment.';

export function humanMessage(code: string): string {
  if (code === 'OFFLINE') return OFFLINE;
  return MESSAGES[code] ?? UNKNOWN;
}

/**
 * What the page says when the service closes its live connection with the FORBIDDEN close code,
 * by the close reason the service gives (src/credentials/credential-watcher.ts names it
 * after the event: "user deactivated"). Anything else: the session ended.
 */
export function sessionEndedMessage(closeReason: string | undefined): string {
  if (closeReason === 'user deactivated') {
    return 'Your account was deactivated by an administrator, so you were signed out. Contact your administrator if this is a mistake.';
  }
  return humanMessage('UNAUTHENTICATED');
}

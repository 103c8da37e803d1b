/**
 * Where the page keeps the session: this tab's sessionStorage, never
 * localStorage, so it ends with the tab. The explorer at /graphql reads the
 * same key to prefill its Authorization header (src/http/graphiql.ts).
 */
export const SESSION_STORAGE_KEY = 'api-token-session';

export function storedSession(): string | null {
  try {
    return sessionStorage.getItem(SESSION_STORAGE_KEY);
  } catch {
    return null;
  }
}

export function saveSession(session: string): void {
  try {
    sessionStorage.setItem(SESSION_STORAGE_KEY, session);
  } catch {
    // Storage refused (private mode): the session then lives in memory only, for this page load.
  }
}

export function clearSession(): void {
  try {
    sessionStorage.removeItem(SESSION_STORAGE_KEY);
  } catch {
    // Nothing stored.
  }
}

/**
 * In production the product links here with `#session=<jwt>`. The fragment
 * never reaches a server or a Referer; it is consumed once and removed from
 * the address bar and history entry so it is not bookmarked or shared.
 */
export function takeSessionFromFragment(): string | null {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const session = params.get('session');
  if (session === null) return null;
  history.replaceState(history.state, '', location.pathname + location.search);
  return session.trim() === '' ? null : session;
}

export interface DemoUser {
  readonly email: string;
  readonly name: string;
  readonly role: string;
  readonly organization: string;
}

/**
 * The demo users to sign in as; null when the service has no development
 * sign-in (production). The service says so in the page's
 * `api-token-dev-sign-in` meta tag, so a production page never asks.
 */
export async function demoUsers(): Promise<readonly DemoUser[] | null> {
  if (document.querySelector('meta[name="api-token-dev-sign-in"]')?.getAttribute('content') !== 'on') return null;
  const response = await fetch('/dev/session', { headers: { accept: 'application/json' } });
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`GET /dev/session: ${response.status}`);
  const body = (await response.json()) as { users: DemoUser[] };
  return body.users;
}

/** Development sign-in: the service signs a session for a demo user. */
export async function devSignIn(email: string): Promise<string> {
  const response = await fetch('/dev/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ email }),
  });
  const body = (await response.json()) as { session?: string };
  if (!response.ok || !body.session) throw new Error(`POST /dev/session: ${response.status}`);
  return body.session;
}

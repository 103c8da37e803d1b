import { Api, LiveEvents, OperationError } from './api.js';
import { openDialog } from './dialog.js';
import { h, type Child } from './dom.js';
import { humanMessage, sessionEndedMessage } from './errors.js';
import { listInWords } from './format.js';
import { showNewToken } from './new-token-dialog.js';
import {
  EventsCursor,
  Generate,
  PageState,
  Regenerate,
  Revoke,
  type ApiTokenEvent,
  type GeneratedToken,
  type PageStateData,
} from './operations.js';
import { clearSession, demoUsers, devSignIn, saveSession, storedSession, takeSessionFromFragment, type DemoUser } from './session.js';
import { layout, profileView, signInView } from './view.js';

const root = document.getElementById('app') as HTMLElement;

interface Signed {
  readonly session: string;
  readonly api: Api;
  readonly live: LiveEvents;
  data: PageStateData | null;
  warning: { daysLeft: number; expiresAt: string | null } | null;
  liveText: string;
}

/** The page's state; every change goes through `render()`. */
let users: readonly DemoUser[] | null = null;
let signed: Signed | null = null;
let alertText: string | null = null;
let noticeText: string | null = null;

function code(error: unknown): string {
  return error instanceof OperationError ? error.code : 'OFFLINE';
}

/** Rebuilds the page, keeping focus on the control that had it (by `data-key`). */
function render(): void {
  const focusedKey =
    document.activeElement instanceof HTMLElement && root.contains(document.activeElement)
      ? document.activeElement.dataset['key']
      : undefined;
  const header: Child = signed?.data
    ? h(
        'nav',
        { 'aria-label': 'Account' },
        // A new tab: the explorer is a page of its own, and this one (with its live updates) stays open.
        // sessionStorage is copied into a tab opened from this one, so the explorer gets the session.
        users !== null
          ? h('a', { href: '/graphql', target: '_blank', rel: 'opener', 'data-key': 'explorer' }, 'GraphQL explorer (opens in a new tab)')
          : null,
        h('span', {}, `Signed in as ${signed.data.me.email}`),
        h('button', { type: 'button', class: 'button link', 'data-key': 'sign-out', onclick: signOut }, 'Sign out'),
      )
    : null;
  const content: Child[] = signed
    ? signed.data
      ? profileView(signed.data, signed.warning, signed.liveText, new Date(), { generate, regenerate, revoke })
      : [h('h1', { tabindex: '-1', 'data-key': 'heading' }, 'Your profile'), h('p', {}, 'Loading…')]
    : signInView(users, (email) => void signIn(email));
  root.replaceChildren(layout({ header, alert: alertText, notice: noticeText, content }));
  if (focusedKey) root.querySelector<HTMLElement>(`[data-key="${CSS.escape(focusedKey)}"]`)?.focus();
}

function focusTarget(): HTMLElement | null {
  return root.querySelector<HTMLElement>('[data-key="token-heading"]') ?? root.querySelector<HTMLElement>('h1');
}

async function signIn(email: string): Promise<void> {
  try {
    const session = await devSignIn(email);
    saveSession(session);
    alertText = null;
    startProfile(session);
  } catch {
    alertText = humanMessage('OFFLINE');
    render();
  }
}

function signOut(): void {
  endSession();
  noticeText = 'You are signed out.';
  render();
  focusTarget()?.focus();
}

function endSession(): void {
  signed?.live.stop();
  signed = null;
  clearSession();
  document.querySelectorAll('dialog').forEach((dialog) => dialog.close());
}

/** The service ended the session: say why when it said so (a deactivation), else that it expired. */
function sessionExpired(reason?: string): void {
  endSession();
  noticeText = null;
  alertText = sessionEndedMessage(reason);
  render();
}

/** Shows a failed operation in words; an expired session goes back to sign-in. */
function fail(error: unknown): void {
  const errorCode = code(error);
  if (errorCode === 'UNAUTHENTICATED') {
    sessionExpired();
    return;
  }
  alertText = humanMessage(errorCode);
  noticeText = null;
  render();
}

function startProfile(session: string): void {
  const api = new Api(session);
  const live = new LiveEvents(session, {
    onEvent,
    onDisconnected: () => setLive('Live updates paused: reconnecting…'),
    onReconnected: () => {
      setLive('Live updates on.');
      void refresh();
    },
    onUnauthenticated: (reason) => sessionExpired(reason),
  });
  const current: Signed = { session, api, live, data: null, warning: null, liveText: 'Live updates on.' };
  signed = current;
  render();
  void startLive(current)
    .then(refresh)
    .then(() => focusTarget()?.focus());
}

/**
 * Subscribes from the newest event there is before the page reads its state. A
 * subscribe that was sent is not yet one the service holds, so subscribing first
 * is not enough: an event in between would be missed. With `after`, the service
 * replays it, however late the subscription reaches it.
 */
async function startLive(current: Signed): Promise<void> {
  try {
    const { latestApiTokenEventId } = await current.api.query(EventsCursor, {});
    if (signed === current) current.live.start(latestApiTokenEventId);
  } catch (error) {
    fail(error);
    // Still signed in (offline, say): live updates from now on, as the state read will be.
    if (signed === current) current.live.start(null);
  }
}

function setLive(text: string): void {
  if (!signed) return;
  signed.liveText = text;
  render();
}

async function refresh(): Promise<void> {
  const current = signed;
  if (!current) return;
  try {
    current.data = await current.api.query(PageState, {});
    if (!current.data.myApiToken) current.warning = null;
    if (signed === current) render();
  } catch (error) {
    if (signed === current) fail(error);
  }
}

const actorText = (event: ApiTokenEvent): string =>
  event.actor && event.actor !== 'system' && event.actor !== signed?.data?.me.email ? ` by ${event.actor}` : '';

/** Events done elsewhere (another tab, support, the sweeper) show here without a reload. */
function onEvent(event: ApiTokenEvent): void {
  if (!signed) return;
  switch (event.kind) {
    case 'EXPIRY_WARNING':
      signed.warning = { daysLeft: event.daysLeft ?? 0, expiresAt: event.expiresAt };
      break;
    case 'REVOKED':
      signed.warning = null;
      noticeText = `Your API token was revoked${actorText(event)}. It no longer works in any region.`;
      break;
    case 'EXPIRED':
      signed.warning = null;
      noticeText = 'Your API token expired and was deleted. Generate a new one to keep using the API.';
      break;
    case 'ACCESS_DISABLED':
      signed.warning = null;
      noticeText = `API tokens were turned off for your account${actorText(event)}.`;
      break;
    case 'ACCESS_ENABLED':
      noticeText = `API tokens were turned back on for your account${actorText(event)}.`;
      break;
    case 'GENERATED':
      // A new, working token: what was said about the previous one (revoked, expired) no longer applies.
      signed.warning = null;
      noticeText = null;
      break;
  }
  void refresh();
}

function generate(): void {
  const current = signed;
  if (!current) return;
  void (async () => {
    try {
      const { generateApiToken } = await current.api.mutate(Generate, {});
      alertText = null;
      noticeText = null;
      showNewToken(generateApiToken, focusTarget);
    } catch (error) {
      fail(error);
    }
    await refresh();
  })();
}

function regenerate(): void {
  const current = signed;
  if (!current?.data) return;
  const regions = listInWords(current.data.apiTokenPolicy.regions);
  let regenerated: GeneratedToken | null = null;
  openDialog({
    title: 'Regenerate your API token?',
    body: [
      h('p', {}, `Your current token stops working at once, in every region (${regions}). A new token is created and shown once.`),
      h('p', {}, 'Update every script that uses the current token with the new one.'),
    ],
    actions: [
      {
        label: 'Regenerate',
        kind: 'primary',
        onClick: async () => {
          try {
            const { regenerateApiToken } = await current.api.mutate(Regenerate, {});
            alertText = null;
            noticeText = null;
            regenerated = regenerateApiToken;
          } catch (error) {
            fail(error);
          }
          void refresh();
        },
      },
      { label: 'Cancel' },
    ],
    fallbackFocus: focusTarget,
    // The confirmation is gone before the new token's dialog opens and takes focus.
    onClose: () => {
      if (regenerated) showNewToken(regenerated, focusTarget);
      regenerated = null;
    },
  });
}

function revoke(): void {
  const current = signed;
  const token = current?.data?.myApiToken;
  if (!current || !token) return;
  const regions = listInWords(current.data?.apiTokenPolicy.regions ?? []);
  openDialog({
    title: 'Revoke your API token?',
    body: [
      h('p', {}, `Revoking cannot be undone. The token ${token.hint} stops working at once and is revoked in all regions (${regions}).`),
      h('p', {}, 'Scripts that use it will be refused until you give them a new token.'),
    ],
    actions: [
      {
        label: 'Revoke',
        kind: 'danger',
        onClick: async () => {
          try {
            // With the id: a page showing an old token cannot revoke a newer one made elsewhere.
            await current.api.mutate(Revoke, { id: token.id });
            alertText = null;
            noticeText = 'Your API token was revoked. It no longer works in any region.';
          } catch (error) {
            fail(error);
          }
          await refresh();
        },
      },
      { label: 'Cancel' },
    ],
    fallbackFocus: focusTarget,
  });
}

/**
 * A session from a `#session=` link is taken only by a tab that is signed
 * out. A tab already signed in keeps its account: otherwise any page could
 * link here with its own session and have you act, unawares, in another
 * account (login CSRF). The link is dropped from the address bar either way.
 */
const SWITCH_REFUSED = 'A sign-in link was not used: this tab is already signed in. Sign out first, then open the link again.';

/** Whether to sign in with `fromFragment`; when not, says why. */
function acceptLinkedSession(fromFragment: string, current: string | null): boolean {
  if (current === null || current === fromFragment) return true;
  alertText = SWITCH_REFUSED;
  noticeText = null;
  return false;
}

/** A `#session=` that arrives without a reload (a link followed within this page). */
function onHashChange(): void {
  const fromFragment = takeSessionFromFragment();
  if (!fromFragment) return;
  if (!acceptLinkedSession(fromFragment, signed?.session ?? null)) {
    render();
    return;
  }
  if (signed?.session === fromFragment) return;
  saveSession(fromFragment);
  alertText = null;
  noticeText = null;
  startProfile(fromFragment);
}

async function boot(): Promise<void> {
  window.addEventListener('hashchange', onHashChange);
  const fromFragment = takeSessionFromFragment();
  const stored = storedSession();
  const linked = fromFragment && acceptLinkedSession(fromFragment, stored) ? fromFragment : null;
  if (linked) saveSession(linked);
  try {
    users = await demoUsers();
  } catch {
    users = null;
    alertText = humanMessage('OFFLINE');
  }
  const session = linked ?? stored;
  if (session) startProfile(session);
  else render();
}

void boot();

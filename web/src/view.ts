import { h, type Child } from './dom.js';
import { durationInWords, formatDateTime, isoDurationMs, listInWords, plural, timeLeftInWords } from './format.js';
import type { PageStateData, Policy, TokenFields } from './operations.js';
import type { DemoUser } from './session.js';

/** The page's chrome: landmarks, the live regions for errors and notices, and the content. */
export function layout(options: { header: Child; alert: string | null; notice: string | null; content: readonly Child[] }): HTMLElement {
  return h(
    'div',
    { class: 'page' },
    h('header', { class: 'top' }, h('p', { class: 'product' }, 'API tokens'), options.header),
    h(
      'main',
      { id: 'main' },
      // Always present, so screen readers announce text put into them later.
      h('div', { role: 'alert', class: options.alert ? 'message error' : 'message', 'data-region': 'alert' }, options.alert ?? ''),
      h('div', { role: 'status', class: options.notice ? 'message notice' : 'message', 'data-region': 'status' }, options.notice ?? ''),
      ...options.content,
    ),
  );
}

export function signInView(users: readonly DemoUser[] | null, onSignIn: (email: string) => void): Child[] {
  if (users === null) {
    return [
      h('h1', { tabindex: '-1', 'data-key': 'heading' }, 'Sign in'),
      h('p', {}, 'Sign in to the product, then open Edit Profile: it brings you here with your session.'),
    ];
  }
  return [
    h('h1', { tabindex: '-1', 'data-key': 'heading' }, 'Sign in as'),
    h('p', {}, 'Development sign-in: choose a demo user. This list does not exist in production.'),
    h(
      'ul',
      { class: 'users' },
      ...users.map((user) =>
        h(
          'li',
          {},
          h(
            'button',
            { type: 'button', class: 'button secondary', 'data-key': `sign-in-${user.email}`, onclick: () => onSignIn(user.email) },
            `${user.name} (${user.email}, ${user.role.toLowerCase()}, ${user.organization})`,
          ),
        ),
      ),
    ),
  ];
}

export interface TokenActions {
  readonly generate: () => void;
  readonly regenerate: () => void;
  readonly revoke: () => void;
}

export function profileView(
  data: PageStateData,
  warning: { daysLeft: number; expiresAt: string | null } | null,
  live: string,
  now: Date,
  actions: TokenActions,
): Child[] {
  return [
    h('h1', { tabindex: '-1', 'data-key': 'heading' }, 'Your profile'),
    h('p', {}, `${data.me.name} · ${data.me.email}`),
    h(
      'section',
      { 'aria-labelledby': 'api-token-heading', class: 'card' },
      h('h2', { id: 'api-token-heading', tabindex: '-1', 'data-key': 'token-heading' }, 'API Token'),
      warning && data.myApiToken ? warningBanner(warning, now) : null,
      ...(data.myApiToken
        ? tokenDetails(data.myApiToken, now, actions)
        : data.apiTokenPolicy.tokensEnabled
          ? noToken(data.apiTokenPolicy, actions)
          : disabled(data.apiTokenPolicy)),
      h('p', { class: 'live' }, live),
    ),
  ];
}

function warningBanner(warning: { daysLeft: number; expiresAt: string | null }, now: Date): HTMLElement {
  // The event's daysLeft is rounded up (10 seconds left is "1 day"): say the time left from expiresAt.
  const left = warning.expiresAt
    ? durationInWords(new Date(warning.expiresAt).getTime() - now.getTime())
    : plural(warning.daysLeft, 'day', 'days');
  return h(
    'div',
    { class: 'banner', 'data-region': 'expiry-warning' },
    h('strong', {}, `Your API token expires in ${left}`),
    warning.expiresAt ? ` (${formatDateTime(warning.expiresAt)})` : '',
    '. Regenerate it, then update your scripts with the new token.',
  );
}

function noToken(policy: Policy, actions: TokenActions): Child[] {
  return [
    h('p', {}, 'Your scripts use an API token to call the product’s APIs as you, with your current role and business units.'),
    h(
      'ul',
      { class: 'rules' },
      h('li', {}, `It expires ${lifetimeInWords(policy)} after it is created, whether it is used or not.`),
      h('li', {}, 'You can have one API token at a time.'),
      h('li', {}, 'It is shown once, when you generate it: store it somewhere safe, like a password.'),
      h('li', {}, `It works in every region: ${listInWords(policy.regions)}.`),
    ),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', class: 'button primary', 'data-key': 'generate', onclick: actions.generate }, 'Generate'),
    ),
  ];
}

/** The token lifetime in words ("180 days", "20 seconds"), never the raw ISO duration. */
function lifetimeInWords(policy: Policy): string {
  const ms = isoDurationMs(policy.lifetime);
  return ms === null ? plural(policy.lifetimeDays, 'day', 'days') : durationInWords(ms);
}

function disabled(policy: Policy): Child[] {
  return [
    h('p', {}, 'API tokens are turned off for your account.'),
    policy.disabledReason ? h('p', {}, `Reason given by support: ${policy.disabledReason}`) : null,
    h('p', {}, 'Contact support to turn them back on.'),
  ];
}

function tokenDetails(token: TokenFields, now: Date, actions: TokenActions): Child[] {
  return [
    h(
      'dl',
      { class: 'details' },
      h('dt', {}, 'Token'),
      h('dd', {}, h('code', {}, token.hint)),
      h('dt', {}, 'Created'),
      h('dd', {}, formatDateTime(token.createdAt)),
      h('dt', {}, 'Expires'),
      h('dd', {}, `${formatDateTime(token.expiresAt)} (${timeLeftInWords(token.expiresAt, now)})`),
      h('dt', {}, 'Last used'),
      h(
        'dd',
        {},
        token.lastUsedAt
          ? `${formatDateTime(token.lastUsedAt)}${token.lastUsedRegion ? ` in region ${token.lastUsedRegion}` : ''}`
          : 'Never',
      ),
      // An address the user does not recognise is how a leaked token shows itself.
      ...(token.lastUsedAddress ? [h('dt', {}, 'Last used from'), h('dd', {}, token.lastUsedAddress)] : []),
    ),
    h('p', {}, 'The secret was shown once, when the token was generated. To get a new one, regenerate the token.'),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', class: 'button primary', 'data-key': 'regenerate', onclick: actions.regenerate }, 'Regenerate'),
      h('button', { type: 'button', class: 'button danger', 'data-key': 'revoke', onclick: actions.revoke }, 'Revoke'),
    ),
  ];
}

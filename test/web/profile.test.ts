import type { Browser, BrowserContext, Page, WebSocketRoute } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { latestEventId, liveSubscriptions } from '../support/ws-client.js';
import { expectAccessible, launchBrowser, newContext, originOf } from './browser.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const GENERATE = 'mutation { generateApiToken { secret token { id hint } } }';

/** The page as a user meets it: one server, one browser, one context per user. */
// Browser tests wait on a real browser and server: on a loaded 2-core machine that is slow, never wrong.
describe('profile page', { timeout: 120_000 }, () => {
  let t: TestApp;
  let browser: Browser;
  let origin: string;
  const clock = new ManualClock(new Date());
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    [t, browser] = await Promise.all([startTestApp({ SESSION_SECRET: '' }, { clock, autoSweep: false }), launchBrowser()]);
    origin = originOf(t.url);
  });
  // A page left open keeps its live subscription and renders every later event: close each
  // test's pages, and let the server drop their subscriptions, so the next test counts only its own.
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
    await expect.poll(() => liveSubscriptions(t)).toBe(0);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  async function openPage(): Promise<Page> {
    const context = await newContext(browser, origin);
    contexts.push(context);
    return context.newPage();
  }

  /**
   * Signs in, then waits until the server holds the page's subscription (`live`: how many
   * pages' subscriptions the server holds then): an event committed before that never reaches the page.
   */
  async function signInAs(page: Page, email: string, live = 1): Promise<void> {
    await page.goto('/');
    await page.getByRole('button', { name: new RegExp(`\\(${email.replace(/\./g, '\\.')},`) }).click();
    await page.getByRole('heading', { name: 'API Token' }).waitFor();
    await expect.poll(() => liveSubscriptions(t)).toBe(live);
  }

  /**
   * Waits until no dialog is left in the document. A closed dialog leaves the
   * accessibility tree at once, which is all that a role locator's "detached"
   * waits for; the page removes it, and moves focus, in its close event, a task later.
   * (A CSS locator, not waitForFunction: a string predicate that must poll is eval'd in the page, which its CSP refuses.)
   */
  const dialogRemoved = (page: Page) => page.locator('dialog').first().waitFor({ state: 'detached' });
  const tokenSection = (page: Page) => page.getByRole('region', { name: 'API Token' });

  // Four axe scans and the browser's first page: about 8 s alone, near 20 s with the whole suite on 2 cores.
  it('signs in as a demo user, generates a token shown once, and keeps only the hint', { timeout: 60_000 }, async () => {
    const page = await openPage();
    await page.goto('/');
    await page.getByRole('heading', { name: 'Sign in as' }).waitFor();
    await expectAccessible(page, 'signed out');

    await signInAs(page, 'alice@example.com');
    const section = tokenSection(page);
    await expect.poll(() => section.textContent()).toContain('expires 180 days after it is created');
    await expectAccessible(page, 'no token');

    const generate = page.getByRole('button', { name: 'Generate', exact: true });
    await generate.click();
    const dialog = page.getByRole('dialog', { name: 'New API Token' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('will not be able to see it again');
    const secretInput = dialog.getByLabel('Your new API token');
    expect(await secretInput.getAttribute('type')).toBe('password');
    const secret = await secretInput.inputValue();
    expect(secret).toMatch(/^own_/);
    await expectAccessible(page, 'new token, hidden');

    await dialog.getByRole('button', { name: 'Show token' }).click();
    expect(await secretInput.getAttribute('type')).toBe('text');
    await dialog.getByRole('button', { name: 'Hide token' }).waitFor();
    await expectAccessible(page, 'new token, shown');

    await dialog.getByRole('button', { name: 'Copy' }).click();
    await dialog.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(secret);

    // The secret works as a bearer credential: it is the real one, not a placeholder.
    const asToken = await t.gql<{ me: { email: string } }>('{ me { email } }', { auth: secret });
    expect(asToken.body.data?.me.email).toBe('alice@example.com');

    await page.keyboard.press('Escape');
    await dialogRemoved(page);
    expect(await page.evaluate<string | null>('document.activeElement?.textContent')).toBe('API Token');
    const hint = await section.locator('code').textContent();
    expect(hint).toMatch(/^own_.*/);
    expect(await page.content()).not.toContain(secret);
    expect(await page.evaluate<boolean>(`[...document.querySelectorAll('input')].some((input) => input.value !== '')`)).toBe(false);
    const stored = await page.evaluate<string>('JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage })');
    expect(stored).not.toContain(secret);
    await expectAccessible(page, 'token present');

    await page.reload();
    await section.locator('code').waitFor();
    expect(await section.locator('code').textContent()).toBe(hint);
    expect(await page.content()).not.toContain(secret);
    await expect.poll(() => section.textContent()).toContain('Last used');
    expect(await section.textContent()).toContain('in region local');
  });

  it('regenerates through a confirmation: a new secret, shown once, and a new hint', async () => {
    const page = await openPage();
    await signInAs(page, 'alice@example.com');
    const section = tokenSection(page);
    const oldHint = await section.locator('code').textContent();
    await page.getByRole('button', { name: 'Regenerate' }).click();
    const confirm = page.getByRole('dialog', { name: 'Regenerate your API token?' });
    expect(await confirm.textContent()).toContain('stops working at once');
    await expectAccessible(page, 'regenerate dialog');
    await confirm.getByRole('button', { name: 'Regenerate' }).click();
    const dialog = page.getByRole('dialog', { name: 'New API Token' });
    await dialog.waitFor();
    const secret = await dialog.getByLabel('Your new API token').inputValue();
    expect(await page.evaluate<string | null>('document.activeElement?.textContent')).toBe('Copy');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialogRemoved(page);
    await expect.poll(() => section.locator('code').textContent()).not.toBe(oldHint);
    expect(secret.endsWith((await section.locator('code').textContent())?.slice(-4) ?? 'missing')).toBe(true);
    expect(await page.content()).not.toContain(secret);
  });

  it('revokes through its dialog: Cancel changes nothing, Revoke deletes the token in all regions', async () => {
    const page = await openPage();
    await signInAs(page, 'alice@example.com');
    const revoke = page.getByRole('button', { name: 'Revoke' });
    await revoke.click();
    const dialog = page.getByRole('dialog', { name: 'Revoke your API token?' });
    await dialog.waitFor();
    const text = (await dialog.textContent()) ?? '';
    expect(text).toContain('cannot be undone');
    expect(text).toContain('all regions');
    await expectAccessible(page, 'revoke dialog');

    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialogRemoved(page);
    expect(await page.evaluate<string | null>('document.activeElement?.textContent')).toBe('Revoke');
    const alice = await t.session('alice@example.com');
    const still = await t.gql<{ myApiToken: { id: string } | null }>('{ myApiToken { id } }', { auth: alice });
    expect(still.body.data?.myApiToken).not.toBeNull();

    await revoke.click();
    await dialog.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('button', { name: 'Generate', exact: true }).waitFor();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('revoked');
    const gone = await t.gql<{ myApiToken: { id: string } | null }>('{ myApiToken { id } }', { auth: alice });
    expect(gone.body.data?.myApiToken).toBeNull();
  });

  it('shows tokens generated and revoked elsewhere live, without a reload', async () => {
    const page = await openPage();
    await signInAs(page, 'bob@example.com');
    const section = tokenSection(page);
    await page.getByRole('button', { name: 'Generate', exact: true }).waitFor();

    const bob = await t.session('bob@example.com');
    const generated = await t.gql<{ generateApiToken: { token: { hint: string } } }>(GENERATE, { auth: bob });
    const hint = generated.body.data?.generateApiToken.token.hint ?? 'missing';
    await expect
      .poll(() =>
        section
          .locator('code')
          .textContent()
          .catch(() => null),
      )
      .toBe(hint);

    // A plain fetch with the session, as another tab or script would.
    const response = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bob}` },
      body: JSON.stringify({ query: 'mutation { revokeApiToken { tokenId } }' }),
    });
    expect(response.status).toBe(200);
    await page.getByRole('button', { name: 'Generate', exact: true }).waitFor();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('revoked');
  });

  it('after a dropped connection resubscribes with after: the last event id, and replays what it missed', async () => {
    const context = await newContext(browser, origin);
    contexts.push(context);
    // Pass the page's socket through to the server, keeping the subscribe messages and a handle to drop it.
    const subscribes: { after?: string | null }[] = [];
    const sockets: WebSocketRoute[] = [];
    await context.routeWebSocket(/\/graphql$/, (ws) => {
      sockets.push(ws);
      const server = ws.connectToServer();
      ws.onMessage((message) => {
        const parsed = JSON.parse(String(message)) as { type: string; payload?: { variables?: { after?: string | null } } };
        if (parsed.type === 'subscribe') subscribes.push(parsed.payload?.variables ?? {});
        server.send(message);
      });
      server.onMessage((message) => ws.send(message));
    });
    const page = await context.newPage();
    await signInAs(page, 'support@example.com');
    await page.getByRole('button', { name: 'Generate', exact: true }).waitFor();
    await expect.poll(() => subscribes.length).toBe(1);

    const support = await t.session('support@example.com');
    await t.gql(GENERATE, { auth: support });
    await page.getByRole('button', { name: 'Revoke' }).waitFor();
    const lastSeen = await latestEventId(t.running.orm);

    await sockets[0]?.close({ code: 1011, reason: 'test drops the connection' });
    await page.getByText('Live updates paused: reconnecting…').waitFor();
    await t.gql('mutation { revokeApiToken { tokenId } }', { auth: support });
    await page.getByRole('button', { name: 'Generate', exact: true }).waitFor();
    // The first from where its state was read (see the next test), then from the last event it saw.
    await expect.poll(() => subscribes).toEqual([{ after: expect.stringMatching(/^\d+$/) as unknown }, { after: lastSeen }]);
    // Only the replayed REVOKED event says so; a plain re-read would just show Generate.
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('revoked');
  });

  it('misses nothing that happens between reading its state and the service holding its subscription', async () => {
    const context = await newContext(browser, origin);
    contexts.push(context);
    // The page's socket passes through, but its subscribe waits until a token was generated elsewhere.
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    await context.routeWebSocket(/\/graphql$/, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((message) => {
        if ((JSON.parse(String(message)) as { type: string }).type === 'subscribe') void released.then(() => server.send(message));
        else server.send(message);
      });
      server.onMessage((message) => ws.send(message));
    });
    const page = await context.newPage();
    await signInAs(page, 'admin@globex.example.com', 0);
    await page.getByRole('button', { name: 'Generate', exact: true }).waitFor();

    const admin = await t.session('admin@globex.example.com');
    const generated = await t.gql<{ generateApiToken: { token: { hint: string } } }>(GENERATE, { auth: admin });
    release();
    // Replayed from the stored events: the subscription started after the page's first read.
    await expect.poll(() => tokenSection(page).locator('code').textContent()).toBe(generated.body.data?.generateApiToken.token.hint);
    await t.gql('mutation { revokeApiToken { tokenId } }', { auth: admin });
  });

  it('warns live before expiry, then shows the expiry', async () => {
    const page = await openPage();
    await signInAs(page, 'carol@globex.example.com');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await page.getByRole('dialog', { name: 'New API Token' }).getByRole('button', { name: 'Close' }).click();
    const section = tokenSection(page);
    await section.locator('code').waitFor();

    clock.advance(175 * DAY - HOUR); // 5 days and an hour left: only the nearest warning (P7D) is sent
    // The page counts the time left from expiresAt with its own clock: keep it at the server's.
    await page.clock.setSystemTime(clock.now());
    await t.running.sweeper.sweep();
    await expect.poll(() => section.textContent()).toContain('Your API token expires in 5 days');
    await expectAccessible(page, 'expiry warning');

    clock.advance(6 * DAY);
    await t.running.sweeper.sweep();
    await page.getByRole('button', { name: 'Generate', exact: true }).waitFor();
    await expect.poll(() => section.textContent()).not.toContain('expires in 5 days');
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('expired');
  });

  it('says in words why tokens are off, and offers no Generate button', async () => {
    const page = await openPage();
    await signInAs(page, 'admin@globex.example.com');
    await page.getByRole('button', { name: 'Generate', exact: true }).waitFor();
    const support = await t.session('support@example.com');
    const me = await t.gql<{ me: { id: string } }>('{ me { id } }', { auth: await t.session('admin@globex.example.com') });
    const disabled = await t.gql(
      'mutation($id: ID!) { setApiTokenAccess(userId: $id, enabled: false, reason: "Security review") { id } }',
      { auth: support, variables: { id: me.body.data?.me.id } },
    );
    expect(disabled.body.errors).toBeUndefined();
    const section = tokenSection(page);
    await expect.poll(() => section.textContent()).toContain('Security review');
    expect(await page.getByRole('button', { name: 'Generate', exact: true }).count()).toBe(0);
    await expectAccessible(page, 'tokens disabled');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in as' }).waitFor();
    expect(await page.evaluate<string | null>("sessionStorage.getItem('api-token-session')")).toBeNull();
  });

  it('explains errors in words: a token made elsewhere unseen, being offline, an expired session', async () => {
    const context = await newContext(browser, origin);
    contexts.push(context);
    // No live updates for this page, so it still offers Generate after a token was made elsewhere.
    await context.routeWebSocket(/\/graphql$/, () => {});
    const page = await context.newPage();
    await signInAs(page, 'admin@example.com', 0);
    await page.getByRole('button', { name: 'Generate', exact: true }).waitFor();
    await t.gql(GENERATE, { auth: await t.session('admin@example.com') });
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent()).toContain('You already have an API token');
    expect(await alert.textContent()).not.toContain('API_TOKEN_EXISTS');
    await expectAccessible(page, 'error shown');
    await page.getByRole('button', { name: 'Revoke' }).waitFor();

    // No operation raises RATE_LIMITED yet; the page must still say it in words when one does.
    await page.route('**/graphql', (route) =>
      route.request().postData()?.includes('regenerateApiToken')
        ? route.fulfill({ json: { errors: [{ message: 'slow down', extensions: { code: 'RATE_LIMITED' } }] } })
        : route.fallback(),
    );
    await page.getByRole('button', { name: 'Regenerate' }).click();
    await page.getByRole('dialog', { name: 'Regenerate your API token?' }).getByRole('button', { name: 'Regenerate' }).click();
    await expect.poll(() => alert.textContent()).toContain('Too many attempts');
    await page.unrouteAll();

    await context.setOffline(true);
    await page.getByRole('button', { name: 'Regenerate' }).click();
    await page.getByRole('dialog', { name: 'Regenerate your API token?' }).getByRole('button', { name: 'Regenerate' }).click();
    await expect.poll(() => alert.textContent()).toContain('offline');
    await context.setOffline(false);

    await page.evaluate("sessionStorage.setItem('api-token-session', 'not-a-session')");
    await page.reload();
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('Your session has expired. Sign in again.');
    await page.getByRole('heading', { name: 'Sign in as' }).waitFor();
    expect(await page.evaluate<string | null>("sessionStorage.getItem('api-token-session')")).toBeNull();
    await expectAccessible(page, 'session expired');
  });

  it('clears "your API token was revoked" in every tab once Regenerate brings a new token', async () => {
    const alice = await t.session('alice@example.com');
    const before = await t.gql<{ myApiToken: { id: string } | null }>('{ myApiToken { id } }', { auth: alice });
    if (!before.body.data?.myApiToken) await t.gql(GENERATE, { auth: alice });
    const [here, there] = [await openPage(), await openPage()];
    await signInAs(here, 'alice@example.com');
    await signInAs(there, 'alice@example.com', 2);
    await tokenSection(there).locator('code').waitFor();

    await here.getByRole('button', { name: 'Regenerate' }).click();
    await here.getByRole('dialog', { name: 'Regenerate your API token?' }).getByRole('button', { name: 'Regenerate' }).click();
    await here.getByRole('dialog', { name: 'New API Token' }).getByRole('button', { name: 'Close' }).click();
    await dialogRemoved(here);
    const now = await t.gql<{ myApiToken: { hint: string } }>('{ myApiToken { hint } }', { auth: alice });
    const hint = now.body.data?.myApiToken.hint;
    expect(hint).toMatch(/^own_/);

    // Each tab heard REVOKED then GENERATED: it ends on the new token with no word about a revoked one.
    for (const page of [here, there]) {
      const shown = () =>
        page.evaluate<{ hint: string | null; status: string | null }>(
          "({ hint: document.querySelector('section code')?.textContent ?? null, status: document.querySelector('[role=status]')?.textContent ?? null })",
        );
      await expect.poll(shown, { timeout: 15_000 }).toEqual({ hint, status: '' });
    }
  });

  it('says the account was deactivated, not that the session expired', async () => {
    const page = await openPage();
    await signInAs(page, 'bob@example.com');
    const bob = await t.running.services.users.findByEmail('bob@example.com');
    const deactivated = await t.gql('mutation ($id: ID!) { deactivateUser(id: $id) { id } }', {
      auth: await t.session('admin@example.com'),
      variables: { id: bob?.id },
    });
    expect(deactivated.body.errors).toBeUndefined();
    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 15_000 }).toContain('Your account was deactivated');
    await page.getByRole('heading', { name: 'Sign in as' }).waitFor();
    await expectAccessible(page, 'deactivated');
  });
});

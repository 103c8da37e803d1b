import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/users/seed.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { liveSubscriptions } from '../support/ws-client.js';
import { ALLOW_FULFILLED_DOCUMENTS_ON_LOCALHOST, expectAccessible, launchBrowser, newContext, originOf } from './browser.js';

/** Every request a page makes, so a test can show none leaves the service's origin. */
function recordRequests(page: Page, urls: string[] = []): string[] {
  page.on('request', (request) => urls.push(request.url()));
  page.on('websocket', (socket) => urls.push(socket.url()));
  return urls;
}

/** Same origin, or data:/blob: URLs the page made itself; ws: to the same host and port. */
function offOrigin(urls: readonly string[], origin: string): string[] {
  const wsOrigin = origin.replace(/^http/, 'ws');
  return urls.filter(
    (url) => !url.startsWith(`${origin}/`) && !url.startsWith(`${wsOrigin}/`) && !url.startsWith('data:') && !url.startsWith('blob:'),
  );
}

/**
 * A strict Content-Security-Policy on every document, as a hardened deployment
 * would send: the page and the explorer must work under it (no inline script,
 * nothing from another origin). Monaco injects <style> elements, hence
 * 'unsafe-inline' for styles only.
 */
const STRICT_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "frame-ancestors 'none'",
].join('; ');

async function enforceStrictCsp(context: BrowserContext): Promise<void> {
  await context.route('**/*', async (route) => {
    if (route.request().resourceType() !== 'document') return route.fallback();
    const response = await route.fetch();
    await route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': STRICT_CSP } });
  });
}

/** What the browser refused under the CSP, from its console. */
function cspViolations(page: Page, refused: string[] = []): string[] {
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) refused.push(message.text());
  });
  return refused;
}

describe('GraphiQL explorer and the production page', { timeout: 120_000 }, () => {
  let dev: TestApp;
  let production: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    [dev, production, browser] = await Promise.all([
      // Development sign-in only where nothing looks deployed: no SESSION_SECRET of its own.
      startTestApp({ SESSION_SECRET: '' }),
      startTestApp({ NODE_ENV: 'production', GRAPHQL_EXPLORER: 'false' }),
      launchBrowser([ALLOW_FULFILLED_DOCUMENTS_ON_LOCALHOST]),
    ]);
    await seedDemo(production.running.orm, new Date());
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all([dev?.stop(), production?.stop()]);
  });

  it('loads offline from this service, with the session of the page, and runs a query and a subscription', async () => {
    const origin = originOf(dev.url);
    const context = await newContext(browser, origin);
    await enforceStrictCsp(context);
    let page = await context.newPage();
    const requests = recordRequests(page);
    const refused = cspViolations(page);

    await page.goto('/');
    await page.getByRole('button', { name: /\(alice@example\.com,/ }).click();
    await page.getByRole('heading', { name: 'API Token' }).waitFor();
    // The explorer opens in a new tab (with this tab's session), and leaves the profile page open.
    const profile = page;
    const [explorer] = await Promise.all([context.waitForEvent('page'), profile.getByRole('link', { name: 'GraphQL explorer' }).click()]);
    if (!explorer) throw new Error('no explorer tab');
    page = explorer;
    recordRequests(page, requests);
    cspViolations(page, refused);
    await page.waitForURL('**/graphql');
    expect(profile.url()).toBe(`${origin}/`);
    const run = page.getByRole('button', { name: /Execute query/ });
    await run.waitFor();

    await run.click();
    await expect.poll(() => page.locator('.result-window').textContent(), { timeout: 10_000 }).toContain('alice@example.com');

    // A subscription over graphql-ws on the same URL, authenticated with the same session.
    const editor = page.locator('.graphiql-query-editor .monaco-editor').first();
    await editor.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.insertText('subscription { apiTokenEvents { kind actor } }');
    // A token generated before the server holds the subscription would never reach it (no `after:` here): wait for it.
    const subscribed = await liveSubscriptions(dev);
    await run.click();
    await expect.poll(() => page.locator('.result-window').textContent(), { timeout: 10_000 }).not.toContain('alice@example.com');
    await expect.poll(() => liveSubscriptions(dev)).toBe(subscribed + 1);
    await dev.gql('mutation { generateApiToken { token { id } } }', { auth: await dev.session('alice@example.com') });
    await expect.poll(() => page.locator('.result-window').textContent(), { timeout: 10_000 }).toContain('GENERATED');

    expect(offOrigin(requests, origin)).toEqual([]);
    expect(requests.some((url) => url.startsWith(origin.replace(/^http/, 'ws')))).toBe(true);
    expect(refused).toEqual([]);
    // The session stays in this tab: GraphiQL does not persist headers.
    const local = await page.evaluate<string>('JSON.stringify({ ...localStorage })');
    expect(local).not.toContain(await page.evaluate<string>("sessionStorage.getItem('api-token-session') ?? 'none'"));

    // And a way back to the profile page.
    await page.getByRole('link', { name: 'Back to your profile' }).click();
    await page.waitForURL(`${origin}/`);
    await page.getByRole('heading', { name: 'API Token' }).waitFor();
    await context.close();
  });

  it('in production takes the session from the #session fragment and removes it from the address', async () => {
    const origin = originOf(production.url);
    const context = await newContext(browser, origin);
    const page = await context.newPage();
    const requests = recordRequests(page);
    const session = await production.session('bob@example.com');

    await page.goto(`/#session=${session}`);
    await page.getByRole('heading', { name: 'API Token' }).waitFor();
    expect(page.url()).toBe(`${origin}/`);
    expect(await page.getByRole('button', { name: /Sign in as/ }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'GraphQL explorer' }).count()).toBe(0);
    await expectAccessible(page, 'production, signed in');

    await page.reload();
    await page.getByRole('button', { name: 'Generate', exact: true }).waitFor();
    expect(offOrigin(requests, origin)).toEqual([]);

    const fresh = await context.newPage();
    const freshRequests = recordRequests(fresh);
    await fresh.goto('/');
    await fresh.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await fresh.textContent('main')).toContain('Sign in to the product');
    await expectAccessible(fresh, 'production, signed out');
    // The page knows from its HTML that production has no development sign-in: it never asks (a 404 in every log).
    expect([...requests, ...freshRequests].filter((url) => url.includes('/dev/session'))).toEqual([]);
    await context.close();
  });
});

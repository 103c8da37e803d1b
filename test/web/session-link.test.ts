import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { launchBrowser, newContext, originOf } from './browser.js';

/** What the browser refused under the service's own CSP, from its console. */
function cspViolations(page: Page): string[] {
  const refused: string[] = [];
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) refused.push(message.text());
  });
  return refused;
}

const storedSession = (page: Page) => page.evaluate<string | null>("sessionStorage.getItem('api-token-session')");
const signedInAs = (page: Page) => page.getByRole('navigation', { name: 'Account' }).textContent();

/** `#session=` links: taken by a signed-out tab, never by one signed in as someone else. */
describe('a #session= link', { timeout: 120_000 }, () => {
  let t: TestApp;
  let browser: Browser;
  let origin = '';
  beforeAll(async () => {
    // No SESSION_SECRET: development sign-in is on only where the deployment does not look real.
    [t, browser] = await Promise.all([startTestApp({ SESSION_SECRET: '' }), launchBrowser()]);
    origin = originOf(t.url);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  async function signedInPage(email: string): Promise<{ page: Page; refused: string[] }> {
    const page = await (await newContext(browser, origin)).newPage();
    const refused = cspViolations(page);
    await page.goto('/');
    await page.getByRole('button', { name: new RegExp(`\\(${email.replace(/\./g, '\\.')},`) }).click();
    await page.getByRole('heading', { name: 'API Token' }).waitFor();
    return { page, refused };
  }

  it('opened in a tab signed in as someone else: keeps the account, says why, and drops the link', async () => {
    const { page, refused } = await signedInPage('alice@example.com');
    const alice = await storedSession(page);
    const bob = await t.session('bob@example.com');

    // A fresh load of the link in this tab (sessionStorage survives it).
    await page.goto('about:blank');
    await page.goto(`${origin}/#session=${bob}`);
    await page.getByRole('heading', { name: 'API Token' }).waitFor();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('this tab is already signed in');
    expect(await signedInAs(page)).toContain('alice@example.com');
    expect(await storedSession(page)).toBe(alice);
    expect(page.url()).toBe(`${origin}/`);
    expect(refused).toEqual([]);
  });

  it('arriving without a reload (same-document navigation): refused while signed in, and gone from the address bar', async () => {
    const { page } = await signedInPage('alice@example.com');
    const alice = await storedSession(page);
    const bob = await t.session('bob@example.com');

    await page.evaluate(`location.hash = ${JSON.stringify(`session=${bob}`)}`);
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('this tab is already signed in');
    expect(page.url()).toBe(`${origin}/`);
    expect(await signedInAs(page)).toContain('alice@example.com');
    expect(await storedSession(page)).toBe(alice);
  });

  it('arriving without a reload in a signed-out tab: signs in, and is gone from the address bar', async () => {
    const page = await (await newContext(browser, origin)).newPage();
    await page.goto('/');
    await page.getByRole('heading', { name: 'Sign in as' }).waitFor();
    const bob = await t.session('bob@example.com');

    await page.evaluate(`location.hash = ${JSON.stringify(`session=${bob}`)}`);
    await page.getByRole('heading', { name: 'API Token' }).waitFor();
    await expect.poll(() => signedInAs(page)).toContain('bob@example.com');
    expect(page.url()).toBe(`${origin}/`);
    expect(await storedSession(page)).toBe(bob);
  });
});

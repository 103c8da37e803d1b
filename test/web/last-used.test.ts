import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { generate } from '../support/tokens.js';
import { expectAccessible, launchBrowser, newContext, originOf } from './browser.js';

/** The page shows where the token was last used from, so a user can spot a use that was not theirs. */
describe('profile page: last used from', () => {
  let t: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    // Behind a proxy on loopback: the script's address is the one it forwards. No SESSION_SECRET: development sign-in.
    [t, browser] = await Promise.all([startTestApp({ TRUST_PROXY: 'loopback', SESSION_SECRET: '' }), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('shows the address of the last use next to its time and region', { timeout: 60_000 }, async () => {
    const { secret } = await generate(t, 'alice@example.com');
    const used = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}`, 'x-forwarded-for': '198.51.100.42' },
      body: JSON.stringify({ query: '{ me { email } }' }),
    });
    expect(used.status).toBe(200);

    const context = await newContext(browser, originOf(t.url));
    const page = await context.newPage();
    await page.goto('/');
    await page.getByRole('button', { name: /\(alice@example\.com,/ }).click();
    const section = page.getByRole('region', { name: 'API Token' });
    await section.getByText('Last used from').waitFor();

    const details = await section.locator('dl').innerText();
    expect(details).toMatch(/Last used from\s+198\.51\.100\.42/);
    expect(details).toContain('in region local');
    await expectAccessible(page, 'token with a last-used address');
    await context.close();
  });
});

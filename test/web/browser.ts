import { existsSync } from 'node:fs';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';

/**
 * Debian's Chromium (installed by .ci/run); no browser is ever downloaded. Its headless shell
 * (package chromium-headless-shell: the same Chromium, Blink and V8, without the desktop browser
 * around them; what Playwright itself runs for headless) when installed: the browser tests cost
 * 21.6 CPU-s with it against 39.1 with /usr/bin/chromium, whose every navigation and new page took
 * about 0.8 CPU-s. TEST_CHROMIUM names another build (TEST_CHROMIUM=/usr/bin/chromium for the full one).
 */
const CHROMIUM =
  process.env['TEST_CHROMIUM'] ||
  (existsSync('/usr/bin/chromium-headless-shell') ? '/usr/bin/chromium-headless-shell' : '/usr/bin/chromium');

export function launchBrowser(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', ...extraArgs] });
}

/**
 * A document that Playwright fulfils (to add a header) counts for Chromium's
 * Local Network Access checks as coming from nowhere, and its WebSocket to
 * 127.0.0.1 is then blocked; a real deployment serves its own headers.
 */
export const ALLOW_FULFILLED_DOCUMENTS_ON_LOCALHOST = '--disable-features=LocalNetworkAccessChecks';

/** A context at the app's origin, allowed to use the clipboard as a user who clicked Copy would. */
export async function newContext(browser: Browser, origin: string): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL: origin, locale: 'en-GB', timezoneId: 'UTC' });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  return context;
}

/** Fails with the rule ids and elements when axe-core finds any accessibility violation. */
// Legacy mode runs axe.run() in the page itself. The default runs each frame's part and then
// opens a blank page to finish, about a second per scan here; our pages have no cross-origin frames.
export async function expectAccessible(page: Page, state: string): Promise<void> {
  const { violations } = await new AxeBuilder({ page }).setLegacyMode(true).analyze();
  const found = violations.map((v) => `${v.id} (${v.impact ?? ''}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(found, `axe-core violations in state "${state}"`).toEqual([]);
}

/** The origin a test app's page is served from. */
export const originOf = (graphqlUrl: string): string => new URL(graphqlUrl).origin;

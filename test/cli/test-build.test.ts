import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { TEST_WEB_DIR } from '../support/test-build.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Every file under `dir` with its modification time; none when `dir` does not exist. */
async function files(dir: string): Promise<{ path: string; mtimeMs: number }[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return Promise.all(
    entries
      .filter((entry) => entry.isFile())
      .map(async (entry) => {
        const path = join(entry.parentPath, entry.name);
        return { path, mtimeMs: (await stat(path)).mtimeMs };
      }),
  );
}

/** `npm test` while `npm start` runs must leave alone the files that server serves. */
describe("the suite's own build", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('serves the page the suite built into dist-test/, not dist/', async () => {
    const html = await (await fetch(new URL('/', t.url))).text();
    expect(html).toBe(await readFile(join(TEST_WEB_DIR, 'index.html'), 'utf8'));
    // What search results and link previews show for the page.
    expect(html).toMatch(/<meta name="description" content="[^"]{50,}" \/>/);
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect((await stat(join(TEST_WEB_DIR, script ?? ''))).isFile()).toBe(true);
  });

  it('has written nothing under dist/ since this run began', async () => {
    const started = inject('runStartedAt');
    const written = (await files(join(ROOT, 'dist'))).filter((file) => file.mtimeMs >= started).map((file) => file.path);
    expect(written).toEqual([]);
  });
});

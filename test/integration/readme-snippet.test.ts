import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { latestEventId } from '../support/ws-client.js';

const ROOT = new URL('../../', import.meta.url);

/** The first ```js block after the `readme-snippet: events.mjs` marker in README.md, byte for byte. */
async function readmeSnippet(): Promise<string> {
  const readme = await readFile(new URL('README.md', ROOT), 'utf8');
  const marker = readme.indexOf('<!-- readme-snippet: events.mjs');
  const match = /```js\n([\s\S]*?)```/.exec(readme.slice(marker));
  if (marker === -1 || !match?.[1]) throw new Error('README.md has no events.mjs snippet');
  return match[1];
}

describe('the README subscription script', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('runs as written on Node 20 and prints the events after AFTER', async () => {
    const session = await t.session('alice@example.com');
    const after = await latestEventId(t.running.orm);
    await t.gql('mutation { generateApiToken { token { id } } }', { auth: session });
    await t.gql('mutation { revokeApiToken { tokenId } }', { auth: session });

    // Inside the package, so `graphql-ws` and `ws` resolve as they do for a reader who saves it here.
    const dir = new URL('dist/readme-snippet/', ROOT);
    await mkdir(dir, { recursive: true });
    const file = new URL(`events-${randomUUID()}.mjs`, dir);
    await writeFile(file, await readmeSnippet());
    const child = spawn(process.execPath, [file.pathname], {
      env: { ...process.env, SESSION: session, AFTER: after, GRAPHQL_WS_URL: t.url.replace(/^http/, 'ws') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      const kinds = await new Promise<string[]>((resolve, reject) => {
        child.on('exit', (code) => reject(new Error(`events.mjs exited with ${code}: ${stderr}`)));
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          const events = stdout.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as { kind: string; id: string });
          if (events.length >= 2) resolve(events.map((event) => event.kind));
        });
      });
      expect(kinds).toEqual(['GENERATED', 'REVOKED']);
      expect(stderr).toBe('');
    } finally {
      child.kill();
      await rm(file, { force: true });
    }
  });
});

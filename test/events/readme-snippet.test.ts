import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, TEST_METRICS_TOKEN, type TestApp } from '../support/test-app.js';
import { generate } from '../support/tokens.js';
import { latestEventId } from '../support/ws-client.js';

const ROOT = new URL('../..', import.meta.url);

/** The first ```js block after the `readme-snippet: events.mjs` marker in README.md, byte for byte. */
async function readmeSnippet(): Promise<string> {
  const readme = await readFile(new URL('README.md', ROOT), 'utf8');
  const marker = readme.indexOf('<!-- readme-snippet: events.mjs');
  const match = /```js\n([\s\S]*?)```/.exec(readme.slice(marker));
  if (marker === -1 || !match?.[1]) throw new Error('README.md has no events.mjs snippet');
  return match[1];
}

interface Script {
  readonly child: ChildProcess;
  /** Resolves with the kinds of the first `count` events printed. */
  readonly events: (count: number) => Promise<string[]>;
  readonly exited: Promise<number | null>;
  readonly stderr: () => string;
}

describe('the README subscription script', () => {
  let t: TestApp;
  const cleanups: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  afterAll(async () => {
    await t?.stop();
  });

  /** Saves the snippet as a reader would (inside the package, so `graphql-ws` and `ws` resolve) and runs it. */
  async function run(env: Record<string, string>): Promise<Script> {
    const dir = new URL('node_modules/.cache/readme-snippet/', ROOT);
    await mkdir(dir, { recursive: true });
    const file = new URL(`events-${randomUUID()}.mjs`, dir);
    await writeFile(file, await readmeSnippet());
    const child = spawn(process.execPath, [file.pathname], {
      env: { ...process.env, GRAPHQL_WS_URL: t.url.replace(/^http/, 'ws'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(async () => {
      child.kill();
      await rm(file, { force: true });
    });
    let stdout = '';
    let stderr = '';
    // One reader of each stream: every `events()` call waits on the same text (a listener
    // per call would append each chunk once per caller).
    const waiting = new Set<() => void>();
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      for (const check of waiting) check();
    });
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const events = (count: number) =>
      new Promise<string[]>((resolve, reject) => {
        void exited.then((code) => reject(new Error(`events.mjs exited with ${code}: ${stderr}`)));
        const check = () => {
          const kinds = stdout
            .split('\n')
            .filter((line) => line.trim() !== '')
            .map((line) => (JSON.parse(line) as { kind: string }).kind);
          if (kinds.length < count) return;
          waiting.delete(check);
          resolve(kinds);
        };
        waiting.add(check);
        check();
      });
    return { child, events, exited, stderr: () => stderr };
  }

  it('runs as written on Node 20 and prints the events after AFTER', async () => {
    const session = await t.session('alice@example.com');
    const after = await latestEventId(t.running.orm);
    await t.gql('mutation { generateApiToken { token { id } } }', { auth: session });
    await t.gql('mutation { revokeApiToken { tokenId } }', { auth: session });

    const script = await run({ SESSION: session, AFTER: after });
    expect(await script.events(2)).toEqual(['GENERATED', 'REVOKED']);
    expect(script.stderr()).toBe('');
  });

  it('stops at once when its token is revoked, says why in one line, and never reconnects', async () => {
    const after = await latestEventId(t.running.orm);
    const { secret } = await generate(t, 'bob@example.com');
    const script = await run({ SESSION: secret, AFTER: after });
    // GENERATED comes from the replay; replay then live follow with no gap, so the revoke is heard.
    expect(await script.events(1)).toEqual(['GENERATED']);
    await t.gql('mutation { revokeApiToken { tokenId } }', { auth: await t.session('bob@example.com') });

    expect(await script.events(2)).toEqual(['GENERATED', 'REVOKED']);
    // Without its fix, the script retried a 4403 for 40-50 s and then printed a CloseEvent of ~250 lines.
    expect(await script.exited).toBe(1);
    expect(script.stderr()).toBe('events.mjs stopped: closed with 4403 (API token no longer valid)\n');
    // One accepted connection, and no further login with the dead token.
    const metrics = await (await fetch(new URL('/metrics', t.url), { headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` } })).text();
    expect(metrics).not.toMatch(/api_tokens_authentications_total\{kind="api_token",result="unknown"\} [1-9]/);
  });

  it('stops with one line when its credential is refused at connect', async () => {
    const script = await run({ SESSION: 'own_thisIsNotARealTokenButLooksLikeOneAtAll0000' });
    expect(await script.exited).toBe(1);
    expect(script.stderr()).toMatch(/^events\.mjs stopped: closed with 4403 \(Forbidden\)\n$/);
  });
});

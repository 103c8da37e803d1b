import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npmRun, type Run } from '../support/npm-run.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

// The CLI checks its incremental build first (done once per run by test/support/global-setup.ts).
const CLI_TIMEOUT = 180_000;

/** The server and the CLI share these: the CLI's sessions must pass the server's rules. */
const SESSION_RULES = { SESSION_ISSUER: 'https://idp.example.com', SESSION_AUDIENCE: 'api-tokens', SESSION_MAX_AGE: 'PT2H' };

/** `npm run -s session -- <email>` exactly as the README tells a developer to run it. */
function session(email: string | readonly string[], dataDir: string): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'development', DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...SESSION_RULES };
  for (const name of ['SESSION_SECRET', 'SESSION_JWKS_URL', 'DATABASE_URL', 'PORT']) delete env[name];
  return npmRun('session', typeof email === 'string' ? [email] : email, env);
}

describe('the session CLI', () => {
  let dataDir: string;
  let t: TestApp;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'api-tokens-cli-'));
    // As in development: no SESSION_SECRET, so the server and the CLI share the one kept under DATA_DIR.
    t = await startTestApp({ SESSION_SECRET: '', NODE_ENV: 'development', ...SESSION_RULES }, { dataDir });
  });
  afterAll(async () => {
    await t.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it(
    'prints only a session JWT that the server accepts',
    async () => {
      const run = await session('alice@example.com', dataDir);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);

      const res = await t.gql<{ me: { email: string } }>('{ me { email } }', { auth: run.stdout.trim() });
      expect(res.body.data?.me.email).toBe('alice@example.com');
      const claims = JSON.parse(Buffer.from(run.stdout.split('.')[1] ?? '', 'base64url').toString()) as Record<string, number | string>;
      expect(claims).toMatchObject({ iss: SESSION_RULES.SESSION_ISSUER, aud: SESSION_RULES.SESSION_AUDIENCE });
      expect(Number(claims['exp']) - Number(claims['iat'])).toBe(2 * 3_600);
    },
    CLI_TIMEOUT,
  );

  it(
    'prints its usage for --help or -h, wherever it is, and never a session',
    async () => {
      // Three processes at once: each spends most of its time starting npm and node.
      const helps = [['alice@example.com', '--help'], ['-h']];
      const [unknownOption, ...runs] = await Promise.all([
        session(['alice@example.com', '--verbose'], dataDir),
        ...helps.map((args) => session(args, dataDir)),
      ]);
      runs.forEach((run, i) => {
        expect(run.code, helps[i]?.join(' ')).toBe(0);
        expect(run.stdout).toMatch(/^usage: npm run -s session -- <email>\n/);
        expect(run.stdout).not.toMatch(/[\w-]+\.[\w-]+\.[\w-]+\n/);
      });
      expect(unknownOption?.code).toBe(2);
      expect(unknownOption?.stdout).toBe('');
      expect(unknownOption?.stderr).toMatch(/^usage:/);
    },
    CLI_TIMEOUT,
  );

  it(
    'refuses an unknown email with a clear message and a non-zero exit',
    async () => {
      const run = await session('nobody@example.com', dataDir);
      expect(run.code).not.toBe(0);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('nobody@example.com');
      expect(run.stderr).toMatch(/no active user/i);
    },
    CLI_TIMEOUT,
  );
});

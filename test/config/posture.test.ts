import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdminCommand } from '../../src/cli/admin-command.js';
import { systemClock } from '../../src/clock.js';
import { spawn } from 'node:child_process';
import { ConfigError, loadConfig } from '../../src/config.js';
import { Organization } from '../../src/users/organization.entity.js';
import { LogCapture } from '../http/log-capture.js';
import { deadPort } from '../limits/rate-limit-helpers.js';
import { builtServer, startServerProcess } from '../support/built-server.js';
import { eventually } from '../support/eventually.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startTestApp, TEST_SESSION_SECRET, type TestApp } from '../support/test-app.js';

/** `POST /dev/session` as the page sends it. */
function devSignIn(t: TestApp, email: string): Promise<Response> {
  return fetch(new URL('/dev/session', t.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email }),
  });
}

/** The messages logged at warn level (pino: 40). */
function warnings(capture: LogCapture): string[] {
  return capture.lines
    .map((line) => JSON.parse(line) as { level: number; msg: string })
    .filter((line) => line.level === 40)
    .map((line) => line.msg);
}

/** What startTestApp sets that a deployment would not: an empty value means "not set". */
const NO_NODE_ENV = { NODE_ENV: '' };

describe('choosing the posture', () => {
  it('is development on the embedded default with nothing set, and production once anything looks deployed', () => {
    expect(loadConfig({})).toMatchObject({ env: 'development', devSignIn: true, graphqlExplorer: true });
    const secret = 'x'.repeat(32);
    for (const env of [
      { SESSION_SECRET: secret },
      { SESSION_JWKS_URL: 'https://idp.example.com/jwks' },
      { DATABASE_URL: 'postgres://db/tokens', SESSION_SECRET: secret },
    ]) {
      const config = loadConfig(env);
      expect(config, JSON.stringify(env)).toMatchObject({ env: 'production', devSignIn: false, graphqlExplorer: false });
      expect(config.operationLimits.introspection).toBe(false);
      expect(config.posture).toMatch(/^NODE_ENV is not set and /);
    }
  });

  it('refuses PostgreSQL without a session key when NODE_ENV is unset, saying why it counts as production', () => {
    let error: unknown;
    try {
      loadConfig({ DATABASE_URL: 'postgresql://db/tokens' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(
      'SESSION_SECRET or SESSION_JWKS_URL must be set in production (NODE_ENV is not set and DATABASE_URL is PostgreSQL)',
    );
  });

  it('keeps development sign-in off under NODE_ENV=development when the deployment looks real', () => {
    expect(loadConfig({ NODE_ENV: 'development', SESSION_SECRET: 'x'.repeat(32) })).toMatchObject({
      env: 'development',
      devSignIn: false,
      devSignInOff: 'SESSION_SECRET is set',
    });
    expect(loadConfig({ NODE_ENV: 'development', DATABASE_URL: 'postgres://db/tokens' }).devSignInOff).toBe('DATABASE_URL is PostgreSQL');
  });
});

describe('a production-configured deployment that forgot NODE_ENV', () => {
  let db: TestDatabase;
  let t: TestApp;
  const capture = new LogCapture();
  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startTestApp({ ...NO_NODE_ENV, SESSION_SECRET: TEST_SESSION_SECRET, DATABASE_URL: db.url }, { logger: capture.logger });
    const code = await runAdminCommand(['create-organization', '--name', 'Initech', '--admin', 'admin@initech.example'], {
      config: t.config,
      clock: systemClock,
      logger: pino({ level: 'silent' }),
      out: () => undefined,
      err: () => undefined,
    });
    expect(code).toBe(0);
  });
  afterAll(async () => {
    await t?.stop();
    await db?.drop();
  });

  it('runs as production: no development sign-in for its admin, no demo data, and says so at warn level', async () => {
    for (const email of ['admin@initech.example', 'alice@example.com']) {
      const response = await devSignIn(t, email);
      expect(response.status, email).toBe(404);
      expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: 'NOT_FOUND' } }] });
    }
    const organizations = await t.running.orm.em.fork().find(Organization, {});
    expect(organizations.map((o) => o.name)).toEqual(['Initech']);
    expect(warnings(capture)).toContain(
      'Running in the PRODUCTION posture (NODE_ENV is not set and SESSION_SECRET is set, DATABASE_URL is PostgreSQL): ' +
        'no demo data, no development sign-in, no open introspection.',
    );
  });
});

describe('development postures', () => {
  const apps: TestApp[] = [];
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop()));
  });

  it('a fresh clone (nothing set) signs demo users in, and only demo users', async () => {
    const capture = new LogCapture();
    const t = await startTestApp({ ...NO_NODE_ENV, SESSION_SECRET: '' }, { logger: capture.logger });
    apps.push(t);
    expect(warnings(capture).find((msg) => msg.startsWith('Running in the DEVELOPMENT posture'))).toContain(
      'POST /dev/session signs sessions for the demo users',
    );
    const code = await runAdminCommand(['create-organization', '--name', 'Initech', '--admin', 'admin@initech.example'], {
      config: t.config,
      clock: systemClock,
      logger: pino({ level: 'silent' }),
      out: () => undefined,
      err: () => undefined,
    });
    expect(code).toBe(0);

    const demo = await devSignIn(t, 'admin@example.com');
    expect(demo.status).toBe(200);
    const { session } = (await demo.json()) as { session: string };
    expect((await t.gql<{ me: { email: string } }>('{ me { email } }', { auth: session })).body.data?.me.email).toBe('admin@example.com');

    const other = await devSignIn(t, 'admin@initech.example');
    expect(other.status).toBe(400);
    expect(await other.json()).toMatchObject({
      errors: [{ message: 'Development sign-in is for the demo users only.', extensions: { code: 'BAD_USER_INPUT', field: 'email' } }],
    });
  });

  it('NODE_ENV=development with its own SESSION_SECRET seeds the demo but signs nobody in, and says why', async () => {
    const capture = new LogCapture();
    const t = await startTestApp({ NODE_ENV: 'development', SESSION_SECRET: TEST_SESSION_SECRET }, { logger: capture.logger });
    apps.push(t);
    expect((await devSignIn(t, 'alice@example.com')).status).toBe(404);
    expect(await t.running.orm.em.fork().count(Organization, { name: 'Acme' })).toBe(1);
    expect(warnings(capture)).toContain(
      'Running in the DEVELOPMENT posture (NODE_ENV=development): demo data is seeded, development sign-in is off because ' +
        'the deployment looks real (SESSION_SECRET is set), introspection is open. Set NODE_ENV=production for a deployment.',
    );
  });
});

describe('the server process', () => {
  // A process of its own: a few seconds alone, much longer on 2 busy cores.
  it('in production logs its posture and never advises a session for a demo user it does not have', { timeout: 120_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'api-tokens-posture-'));
    const port = await deadPort();
    const server = await startServerProcess(
      builtServer().main,
      {
        HOST: '127.0.0.1',
        PORT: String(port),
        DATA_DIR: dataDir,
        SESSION_SECRET: TEST_SESSION_SECRET,
        LOG_FORMAT: 'json',
        // Production needs both; nothing is mailed in this test.
        SMTP_URL: `smtp://127.0.0.1:${await deadPort()}`,
        PUBLIC_URL: `http://127.0.0.1:${port}/`,
      },
      `http://127.0.0.1:${port}`,
    );
    try {
      await eventually('the listening line', () => server.output().includes('API token service listening on'));
      expect(server.output()).toContain('Running in the PRODUCTION posture (NODE_ENV is not set and SESSION_SECRET is set)');
      expect(server.output()).not.toContain('npm run -s session');
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('production start-up checks', () => {
  const production = { NODE_ENV: 'production', SESSION_SECRET: TEST_SESSION_SECRET };

  it('refuses to serve without SMTP_URL and PUBLIC_URL unless ALLOW_LOCAL_MAIL=true; CLIs do not need them', () => {
    let error: unknown;
    try {
      loadConfig(production, { server: true });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('SMTP_URL and PUBLIC_URL must be set in production (NODE_ENV=production)');
    expect((error as ConfigError).message).toContain('ALLOW_LOCAL_MAIL=true');
    expect(() => loadConfig({ ...production, SMTP_URL: 'smtp://mail.example.com' }, { server: true })).toThrow(
      /PUBLIC_URL must be set in production/,
    );
    expect(
      loadConfig({ ...production, SMTP_URL: 'smtp://mail.example.com', PUBLIC_URL: 'https://tokens.example.com/' }, { server: true }).env,
    ).toBe('production');
    expect(loadConfig({ ...production, ALLOW_LOCAL_MAIL: 'true' }, { server: true }).smtpUrl).toBeNull();
    expect(() => loadConfig({ ...production, ALLOW_LOCAL_MAIL: 'yes' }, { server: true })).toThrow(
      /ALLOW_LOCAL_MAIL must be true or false/,
    );
    // The admin and session CLIs run with the service's environment but send no mail themselves.
    expect(loadConfig(production).env).toBe('production');
    // Development needs neither.
    expect(loadConfig({}, { server: true }).env).toBe('development');
  });

  it('the server process exits with code 2 and names the variables', { timeout: 120_000 }, async () => {
    const child = spawn(process.execPath, [builtServer().main], {
      env: { PATH: process.env['PATH'] ?? '', ...production, PORT: '0', DATA_DIR: join(tmpdir(), 'api-tokens-never-created') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('SMTP_URL and PUBLIC_URL must be set in production');
  });
});

import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npmRun, type Run } from '../support/npm-run.js';
import { runAdminCommand } from '../../src/cli/admin-command.js';
import { systemClock } from '../../src/clock.js';
import { Organization } from '../../src/users/organization.entity.js';
import { User } from '../../src/users/user.entity.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startTestApp, TEST_SESSION_SECRET, type TestApp } from '../support/test-app.js';
import { EVENT_FIELDS, latestEventId, subscribe } from '../support/ws-client.js';
import { PATCH_OP, scimClient } from '../scim/scim-client.js';

const CLI_TIMEOUT = 180_000;

/**
 * The done-when: production posture on an empty PostgreSQL database,
 * onboarding with the admin CLI, a user provisioned over SCIM, and a leaver
 * whose token dies the moment the directory says so.
 */
describe('production onboarding from an empty database', () => {
  let db: TestDatabase;
  let t: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startTestApp({ NODE_ENV: 'production', SESSION_SECRET: TEST_SESSION_SECRET, DATABASE_URL: db.url });
  });
  afterAll(async () => {
    await t?.stop();
    await db?.drop();
  });

  /** The same function `npm run -s admin -- …` runs, against the server's own database. */
  async function admin(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const code = await runAdminCommand(argv, {
      config: t.config,
      clock: systemClock,
      logger: pino({ level: 'silent' }),
      out: (text) => (stdout += text),
      err: (text) => (stderr += text),
    });
    return { code, stdout, stderr };
  }

  it(
    'goes from nothing to a SCIM-provisioned user whose token dies when the directory deactivates them',
    async () => {
      // Production seeds nothing: no one could sign in.
      expect(await t.running.orm.em.fork().count(Organization)).toBe(0);
      expect(await t.running.orm.em.fork().count(User)).toBe(0);

      expect(await admin('create-organization', '--name', 'Acme', '--admin', 'admin@acme.example')).toMatchObject({ code: 0 });
      const issued = await admin('scim-token', '--organization', 'Acme');
      expect(issued.code).toBe(0);
      const directory = scimClient(t, issued.stdout.trim());

      // The first admin signs in with a session from the session CLI, as the README walks through.
      const session = await sessionCli('admin@acme.example', db.url);
      expect(session.stderr).toBe('');
      const me = await t.gql<{ me: { email: string; role: string } }>('{ me { email role } }', { auth: session.stdout.trim() });
      expect(me.body.data?.me).toEqual({ email: 'admin@acme.example', role: 'ADMIN' });

      // The identity provider provisions a user and puts them in a group.
      const created = await directory('POST', '/Users', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: 'dana@acme.example',
        name: { givenName: 'Dana', familyName: 'Example' },
        emails: [{ primary: true, value: 'dana@acme.example', type: 'work' }],
        externalId: '00u-dana',
        active: true,
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const dana = String(created.body?.['id']);
      const group = await directory('POST', '/Groups', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
        displayName: 'Engineering',
        members: [{ value: dana }],
      });
      expect(group.status, JSON.stringify(group.body)).toBe(201);

      // Dana signs in and generates a token, which carries the unit the directory gave her.
      const danaSession = await t.session('dana@acme.example');
      const generated = await t.gql<{ generateApiToken: { secret: string } }>('mutation { generateApiToken { secret } }', {
        auth: danaSession,
      });
      const secret = generated.body.data?.generateApiToken.secret ?? '';
      expect(secret).toMatch(/^own_/);
      const withToken = await t.gql<{ me: { businessUnits: { name: string }[] } }>('{ me { businessUnits { name } } }', { auth: secret });
      expect(withToken.body.data?.me.businessUnits).toEqual([{ name: 'Engineering' }]);
      const socket = subscribe(t.url, secret, `subscription($after: ID) { apiTokenEvents(after: $after) { ${EVENT_FIELDS} } }`, {
        after: await latestEventId(t.running.orm),
      });
      await socket.connected;

      // The directory says Dana left (Entra ID's form).
      const left = await directory('PATCH', `/Users/${dana}`, {
        schemas: [PATCH_OP],
        Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
      });
      expect(left.status).toBe(200);

      const refused = await t.gql('{ me { email } }', { auth: secret });
      expect(refused.status).toBe(401);
      expect(await socket.closed).toBe(4403);
      const [revoked] = await socket.waitFor(1);
      expect(revoked).toMatchObject({ kind: 'REVOKED', actor: 'scim' });
      await socket.dispose();
    },
    CLI_TIMEOUT,
  );
});

/** `npm run -s session -- <email>` in production posture against the test database. */
function sessionCli(email: string, databaseUrl: string): Promise<Run> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    SESSION_SECRET: TEST_SESSION_SECRET,
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'warn',
  };
  return npmRun('session', [email], env);
}

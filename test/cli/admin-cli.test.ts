import { describe, expect, it } from 'vitest';
import { npmRun } from '../support/npm-run.js';
import { parseAdminArgs } from '../../src/cli/admin-command.js';
import { openDatabase } from '../../src/db/orm.js';
import { ScimToken } from '../../src/scim/scim-token.entity.js';
import { Organization } from '../../src/users/organization.entity.js';
import { User } from '../../src/users/user.entity.js';
import { adminCli } from './admin-cli-runner.js';
import { TEST_SESSION_SECRET } from '../support/test-app.js';

// The CLI compiles the project with tsc first; on a busy machine that takes a while.
const CLI_TIMEOUT = 180_000;

describe('admin CLI arguments', () => {
  it('reads each command and its options, in both --option value and --option=value forms', () => {
    expect(parseAdminArgs(['create-organization', '--name', 'Acme', '--admin=admin@acme.example'])).toEqual({
      kind: 'create-organization',
      name: 'Acme',
      admin: 'admin@acme.example',
      adminName: null,
    });
    expect(parseAdminArgs(['create-organization', '--admin', 'a@b.example', '--name', 'Acme Corp', '--admin-name', 'Ada'])).toMatchObject({
      name: 'Acme Corp',
      adminName: 'Ada',
    });
    expect(parseAdminArgs(['scim-token', '--organization', 'Acme'])).toEqual({ kind: 'scim-token', organization: 'Acme' });
    expect(parseAdminArgs(['revoke-scim-token', '--organization=Acme'])).toEqual({ kind: 'revoke-scim-token', organization: 'Acme' });
    expect(parseAdminArgs([])).toEqual({ kind: 'help' });
    expect(parseAdminArgs(['--help'])).toEqual({ kind: 'help' });
  });

  it.each([
    [['make-coffee'], /unknown command "make-coffee"/i],
    [['create-organization', '--name', 'Acme'], /needs --admin/],
    [['create-organization'], /needs --name and --admin/],
    [['create-organization', '--name'], /--name needs a value/],
    [['create-organization', '--name', '--admin', 'a@b.example'], /--name needs a value/],
    [['create-organization', '--name', 'A', '--name', 'B', '--admin', 'a@b.example'], /--name is given twice/],
    [['create-organization', '--name', ' ', '--admin', 'a@b.example'], /--name must not be empty/],
    [['scim-token', '--organization', 'Acme', '--force'], /scim-token has no option --force/],
    [['scim-token', 'Acme'], /unexpected argument "Acme"/i],
  ])('refuses %j', (argv, message) => {
    expect(() => parseAdminArgs(argv)).toThrow(message);
  });
});

describe('admin CLI commands on an empty database', () => {
  const { run, out, err, config, dataDir } = adminCli('api-tokens-admin-cli-');

  it('creates the organisation and its admin once; a second run changes nothing and says so', async () => {
    expect(await run('create-organization', '--name', 'Acme', '--admin', 'Admin@Acme.example')).toBe(0);
    expect(out.join('')).toBe('Created organisation Acme with admin admin@acme.example.\n');
    expect(await run('create-organization', '--name', 'Acme', '--admin', 'admin@acme.example')).toBe(0);
    expect(out.join('')).toMatch(/already exist; nothing changed/);
    expect(await run('create-organization', '--name', 'Acme', '--admin', 'second@acme.example', '--admin-name', 'Second Admin')).toBe(0);
    expect(out.join('')).toMatch(/already existed; added admin second@acme.example/);

    const orm = await openDatabase(config().databaseUrl);
    try {
      const em = orm.em.fork();
      expect(await em.count(Organization)).toBe(1);
      const admins = await em.find(User, {}, { orderBy: { email: 'asc' } });
      expect(admins.map((user) => [user.email, user.name, user.role])).toEqual([
        ['admin@acme.example', 'admin', 'ADMIN'],
        ['second@acme.example', 'Second Admin', 'ADMIN'],
      ]);
    } finally {
      await orm.close();
    }
  });

  it('refuses an admin email of another organisation and invalid input, with exit code 1', async () => {
    expect(await run('create-organization', '--name', 'Globex', '--admin', 'admin@acme.example')).toBe(1);
    expect(err.join('')).toMatch(/admin@acme.example already belongs to another organisation; nothing was changed/);
    expect(await run('create-organization', '--name', 'Globex', '--admin', 'not-an-email')).toBe(1);
    expect(err.join('')).toMatch(/email address.*\(--admin\)/);
    expect(await run('create-organization', '--name', 'x'.repeat(201), '--admin', 'a@globex.example')).toBe(1);
    expect(err.join('')).toMatch(/\(--name\)/);
    expect(await run('create-organization', '--name', 'Acme')).toBe(2);
    expect(err.join('')).toMatch(/needs --admin[\s\S]*usage:/);
  });

  it('prints a SCIM token alone on stdout, rotates it on the next run, and revokes it', async () => {
    expect(await run('scim-token', '--organization', 'Acme')).toBe(0);
    const first = out.join('');
    expect(first).toMatch(/^scim_[\w-]{43}[0-9A-Za-z]{6}\n$/);
    expect(err.join('')).toMatch(/Issued the SCIM token of Acme/);
    expect(await run('scim-token', '--organization', 'Acme')).toBe(0);
    const second = out.join('');
    expect(second).not.toBe(first);
    expect(err.join('')).toMatch(/previous one no longer works/);

    const orm = await openDatabase(config().databaseUrl);
    try {
      const tokens = await orm.em.fork().find(ScimToken, {});
      expect(tokens).toHaveLength(1);
      expect(JSON.stringify(tokens)).not.toContain(second.trim());
    } finally {
      await orm.close();
    }

    expect(await run('revoke-scim-token', '--organization', 'Acme')).toBe(0);
    expect(out.join('')).toBe('Revoked the SCIM token of Acme.\n');
    expect(await run('revoke-scim-token', '--organization', 'Acme')).toBe(0);
    expect(out.join('')).toMatch(/had no SCIM token; nothing changed/);
    expect(await run('scim-token', '--organization', 'Nowhere')).toBe(1);
    expect(err.join('')).toMatch(/No organisation named "Nowhere"/);
  });

  it(
    'runs as `npm run -s admin -- …`',
    async () => {
      const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production', DATA_DIR: dataDir(), SESSION_SECRET: TEST_SESSION_SECRET };
      delete env['DATABASE_URL'];
      const npm = (...argv: string[]) => npmRun('admin', argv, env);
      // One run: each compiles the project first. The other exit codes are tested in-process above.
      const again = await npm('create-organization', '--name', 'Acme', '--admin', 'admin@acme.example');
      expect(again).toMatchObject({ code: 0, stderr: '' });
      expect(again.stdout).toMatch(/nothing changed/);
    },
    CLI_TIMEOUT,
  );
});

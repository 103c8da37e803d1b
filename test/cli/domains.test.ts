import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrganizationDomains } from '../../src/admin/domains.js';
import { AuditEvent } from '../../src/audit/audit-event.entity.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { Changes } from '../../src/audit/changes.js';
import { parseAdminArgs } from '../../src/cli/admin-command.js';
import { systemClock } from '../../src/clock.js';
import { openDatabase } from '../../src/db/orm.js';
import { expectError } from '../admin/admin-helpers.js';
import { expectScimError, scimClient, scimToken } from '../scim/scim-client.js';
import { adminCli } from './admin-cli-runner.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('organisation domains with the admin CLI', () => {
  const { run, out, err, config } = adminCli('api-tokens-domains-cli-');

  it('reads the domain commands', () => {
    expect(parseAdminArgs(['add-domain', '--organization', 'Acme', '--domain', 'acme.example'])).toEqual({
      kind: 'add-domain',
      organization: 'Acme',
      domain: 'acme.example',
    });
    expect(parseAdminArgs(['list-domains', '--organization=Acme'])).toEqual({ kind: 'list-domains', organization: 'Acme' });
    expect(() => parseAdminArgs(['remove-domain', '--organization', 'Acme'])).toThrow(/needs --domain/);
  });

  it('adds, lists and removes domains; one organisation per domain; new admins only at the organisation’s domains', async () => {
    expect(await run('create-organization', '--name', 'Acme', '--admin', 'admin@acme.example')).toBe(0);
    expect(await run('create-organization', '--name', 'Globex', '--admin', 'admin@globex.example')).toBe(0);

    expect(await run('list-domains', '--organization', 'Acme')).toBe(0);
    expect(out.join('')).toBe('');
    expect(err.join('')).toMatch(/no domains/);
    expect(await run('add-domain', '--organization', 'Acme', '--domain', 'ACME.example')).toBe(0);
    expect(out.join('')).toMatch(/Added acme.example to Acme/);
    expect(await run('add-domain', '--organization', 'Acme', '--domain', 'acme.example')).toBe(0);
    expect(out.join('')).toMatch(/already has acme.example; nothing changed/);
    expect(await run('add-domain', '--organization', 'Globex', '--domain', 'acme.example')).toBe(1);
    expect(err.join('')).toMatch(/acme.example belongs to another organisation; nothing was changed/);
    expect(await run('add-domain', '--organization', 'Acme', '--domain', 'x,acme.example')).toBe(1);
    expect(err.join('')).toMatch(/\(--domain\)/);
    expect(await run('add-domain', '--organization', 'Initech', '--domain', 'initech.example')).toBe(1);
    expect(err.join('')).toMatch(/No organisation named "Initech"/);
    expect(await run('add-domain', '--organization', 'Acme', '--domain', 'acme.example.org')).toBe(0);
    expect(await run('list-domains', '--organization', 'Acme')).toBe(0);
    expect(out.join('')).toBe('acme.example\nacme.example.org\n');

    // Globex (no domains) cannot put an admin at Acme's domain; Acme can only use its own.
    expect(await run('create-organization', '--name', 'Globex', '--admin', 'intruder@acme.example')).toBe(1);
    expect(err.join('')).toMatch(/belongs to another organisation.*\(--admin\)/);
    expect(await run('create-organization', '--name', 'Acme', '--admin', 'second@gmail.example')).toBe(1);
    expect(err.join('')).toMatch(/one of the organisation’s domains: acme.example, acme.example.org/);
    expect(await run('create-organization', '--name', 'Acme', '--admin', 'second@acme.example')).toBe(0);

    // Globex's existing admin is told about, not removed, when Globex's domain is claimed by Acme.
    expect(await run('add-domain', '--organization', 'Acme', '--domain', 'globex.example')).toBe(0);
    expect(err.join('')).toMatch(/1 user\(s\) of other organisations already have addresses at globex.example; they keep their accounts/);
    expect(await run('remove-domain', '--organization', 'Acme', '--domain', 'globex.example')).toBe(0);
    expect(out.join('')).toBe('Removed globex.example from Acme.\n');
    expect(await run('remove-domain', '--organization', 'Acme', '--domain', 'globex.example')).toBe(0);
    expect(out.join('')).toMatch(/did not have globex.example; nothing changed/);

    const orm = await openDatabase(config().databaseUrl);
    try {
      const actions = (
        await orm.em.fork().find(AuditEvent, { action: { $in: ['DOMAIN_ADDED', 'DOMAIN_REMOVED'] } }, { orderBy: { id: 'asc' } })
      ).map((event) => [event.action, event.reason]);
      expect(actions).toEqual([
        ['DOMAIN_ADDED', 'Domain acme.example (admin CLI)'],
        ['DOMAIN_ADDED', 'Domain acme.example.org (admin CLI)'],
        ['DOMAIN_ADDED', 'Domain globex.example (admin CLI)'],
        ['DOMAIN_REMOVED', 'Domain globex.example (admin CLI)'],
      ]);
    } finally {
      await orm.close();
    }
  });
});

describe('users are created only under their organisation’s domains', () => {
  let t: TestApp;
  let domains: OrganizationDomains;
  const CREATE_USER = 'mutation ($input: CreateUserInput!) { createUser(input: $input) { id email } }';
  beforeAll(async () => {
    t = await startTestApp();
    domains = new OrganizationDomains(new Changes(t.running.orm, new AuditLog(t.config.region), () => undefined), systemClock);
    // The demo seed has no domains: Acme keeps today's behaviour; Globex verifies its own.
    expect(await domains.add('Globex', 'globex.example.com')).toMatchObject({ kind: 'added' });
  });
  afterAll(async () => {
    await t.stop();
  });

  /** An admin with units must give a new user one of theirs. */
  async function unitsOf(session: string): Promise<string[]> {
    const me = await t.gql<{ me: { businessUnits: { id: string }[] } }>('{ me { businessUnits { id } } }', { auth: session });
    return (me.body.data?.me.businessUnits ?? []).slice(0, 1).map((unit) => unit.id);
  }

  it('an organisation without domains cannot take another organisation’s domain (GraphQL and SCIM)', async () => {
    const admin = await t.session('admin@example.com');
    expectError(
      await t.gql(CREATE_USER, { auth: admin, variables: { input: { email: 'ceo@globex.example.com', name: 'Not Theirs' } } }),
      'BAD_USER_INPUT',
      'input.email',
    );
    const acme = scimClient(t, await scimToken(t, 'Acme'));
    expectScimError(await acme('POST', '/Users', { userName: 'cfo@globex.example.com' }), 400, 'invalidValue');
    // Nor move an existing user there.
    const created = await acme('POST', '/Users', { userName: 'mover@example.com' });
    expect(created.status).toBe(201);
    expectScimError(
      await acme('PATCH', `/Users/${String(created.body?.['id'])}`, {
        Operations: [{ op: 'replace', path: 'userName', value: 'mover@globex.example.com' }],
      }),
      400,
      'invalidValue',
    );
    // Its other addresses work as before.
    const ok = await t.gql(CREATE_USER, {
      auth: admin,
      variables: { input: { email: 'dana@example.com', name: 'Dana', businessUnitIds: await unitsOf(admin) } },
    });
    expect(ok.body.errors).toBeUndefined();
  });

  it('an organisation with domains creates users only there, and its existing users keep working', async () => {
    const admin = await t.session('admin@globex.example.com');
    expectError(
      await t.gql(CREATE_USER, { auth: admin, variables: { input: { email: 'x@example.com', name: 'Elsewhere' } } }),
      'BAD_USER_INPUT',
      'input.email',
    );
    const ok = await t.gql(CREATE_USER, {
      auth: admin,
      variables: { input: { email: 'new@globex.example.com', name: 'New', businessUnitIds: await unitsOf(admin) } },
    });
    expect(ok.body.errors).toBeUndefined();
    const globex = scimClient(t, await scimToken(t, 'Globex'));
    expect((await globex('POST', '/Users', { userName: 'scim@globex.example.com' })).status).toBe(201);
    expectScimError(await globex('POST', '/Users', { userName: 'scim@sub.globex.example.com' }), 400, 'invalidValue');
    const me = await t.gql('{ me { email } }', { auth: await t.session('carol@globex.example.com') });
    expect(me.body.data).toEqual({ me: { email: 'carol@globex.example.com' } });
  });
});

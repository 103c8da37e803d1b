import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEvent } from '../../src/audit/audit-event.entity.js';
import { OutboxMessage } from '../../src/mail/outbox-message.entity.js';
import { auditRows, generateToken, untilSessionsCount, userId } from '../admin/admin-helpers.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { EVENT_FIELDS, latestEventId, subscribe } from '../support/ws-client.js';
import { PATCH_OP, ROLE_EXTENSION, expectScimError, scimClient, scimToken } from './scim-client.js';
import { queuedContent } from '../mail/mail-app.js';

/** Okta's documented create-user request (SCIM 2.0 reference: "Create the user"). */
function oktaUser(email: string, externalId: string) {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: email,
    name: { givenName: 'Test', familyName: 'User' },
    emails: [{ primary: true, value: email, type: 'work' }],
    displayName: 'Test User',
    locale: 'en-US',
    externalId,
    groups: [],
    password: '1mz050nq',
    active: true,
  };
}

/** Entra ID's documented create-user request (with its enterprise extension, which we ignore). */
function entraUser(email: string) {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
    externalId: `entra-${email}`,
    userName: email,
    active: true,
    emails: [{ primary: true, type: 'work', value: email }],
    meta: { resourceType: 'User' },
    name: { formatted: 'Entra Person', familyName: 'Person', givenName: 'Entra' },
    roles: [],
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Finance' },
  };
}

describe('SCIM /Users', () => {
  let t: TestApp;
  let acme: ReturnType<typeof scimClient>;
  let globex: ReturnType<typeof scimClient>;
  beforeAll(async () => {
    t = await startTestApp();
    acme = scimClient(t, await scimToken(t, 'Acme'));
    globex = scimClient(t, await scimToken(t, 'Globex'));
  });
  afterAll(async () => {
    await t.stop();
  });

  it('creates a user the way Okta does: look up by userName, POST, then find by userName and externalId', async () => {
    const email = 'okta.user@acme.example';
    const lookup = await acme('GET', `/Users?filter=${encodeURIComponent(`userName eq "${email}"`)}&startIndex=1&count=100`);
    expect(lookup.status).toBe(200);
    expect(lookup.body).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: 0,
      itemsPerPage: 0,
      startIndex: 1,
      Resources: [],
    });

    const created = await acme('POST', '/Users', oktaUser(email, '00u1okta'));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    const id = String(created.body?.['id']);
    expect(created.headers.get('location')).toBe(`${new URL(t.url).origin}/scim/v2/Users/${id}`);
    expect(created.body).toMatchObject({
      id,
      userName: email,
      externalId: '00u1okta',
      name: { formatted: 'Test User' },
      active: true,
      emails: [{ value: email, type: 'work', primary: true }],
      groups: [],
      [ROLE_EXTENSION]: { role: 'USER' },
      meta: { resourceType: 'User' },
    });
    // The password Okta sends is not kept anywhere; nor is anything else outside our schema.
    expect(JSON.stringify(created.body)).not.toContain('1mz050nq');

    const byName = await acme('GET', `/Users?filter=${encodeURIComponent(`userName eq "OKTA.User@acme.example"`)}`);
    expect(byName.body).toMatchObject({ totalResults: 1, Resources: [{ id, userName: email }] });
    const byExternal = await acme('GET', `/Users?filter=${encodeURIComponent('externalId eq "00u1okta"')}`);
    expect(byExternal.body).toMatchObject({ totalResults: 1, Resources: [{ id }] });
    // Entra ID may match on the work email instead.
    const byEmail = await acme('GET', `/Users?filter=${encodeURIComponent(`emails[type eq "work"].value eq "${email}"`)}`);
    expect(byEmail.body).toMatchObject({ totalResults: 1, Resources: [{ id }] });
    const one = await acme('GET', `/Users/${id}`);
    expect(one.body).toMatchObject({ id, userName: email });

    // The new user can sign in at once, as a USER of Acme; the audit trail names the directory.
    const me = await t.gql<{ me: { email: string; role: string } }>('{ me { email role } }', { auth: await t.session(email) });
    expect(me.body.data?.me).toEqual({ email, role: 'USER' });
    expect((await auditRows(t, id))[0]).toMatchObject({ action: 'USER_CREATED', actorKind: 'scim', actorLabel: 'scim', actorUserId: null });
  });

  it('answers a duplicate userName with 409 uniqueness, and grants the role from our extension', async () => {
    const duplicate = await acme('POST', '/Users', oktaUser('ALICE@example.com', 'x'));
    expectScimError(duplicate, 409, 'uniqueness');

    const admin = await acme('POST', '/Users', { ...entraUser('entra.admin@acme.example'), [ROLE_EXTENSION]: { role: 'ADMIN' } });
    expect(admin.status).toBe(201);
    expect(admin.body).toMatchObject({ [ROLE_EXTENSION]: { role: 'ADMIN' }, name: { formatted: 'Entra Person' } });

    expectScimError(
      await acme('POST', '/Users', { ...entraUser('sup@acme.example'), [ROLE_EXTENSION]: { role: 'SUPPORT' } }),
      400,
      'invalidValue',
    );
    expectScimError(
      await acme('POST', '/Users', { ...entraUser('odd@acme.example'), [ROLE_EXTENSION]: { role: 'OWNER' } }),
      400,
      'invalidValue',
    );
    expect(await t.running.services.users.findByEmail('sup@acme.example')).toBeNull();
  });

  it('deactivates on Okta’s PATCH (no path, {"active":false}): the token is refused at once and its socket closed', async () => {
    const bob = await userId(t, 'bob@example.com');
    const token = await generateToken(t, 'bob@example.com');
    const socket = subscribe(t.url, token.secret, `subscription($after: ID) { apiTokenEvents(after: $after) { ${EVENT_FIELDS} } }`, {
      after: await latestEventId(t.running.orm),
    });
    await socket.connected;

    const res = await acme('PATCH', `/Users/${bob}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', value: { active: false } }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ id: bob, active: false });

    const call = await t.gql('{ me { email } }', { auth: token.secret });
    expect(call.status).toBe(401);
    expect(await socket.closed).toBe(4403);
    const rows = (await auditRows(t, bob)).slice(-2);
    expect(rows.map((row) => [row.action, row.actorKind])).toEqual([
      ['USER_DEACTIVATED', 'scim'],
      ['REVOKED', 'scim'],
    ]);
    // Bob is told, and told who did it; the mail is queued with the revocation itself.
    const em = t.running.orm.em.fork();
    const mail = await em.findOneOrFail(OutboxMessage, { recipient: 'bob@example.com', kind: 'REVOKED' }, { orderBy: { id: 'desc' } });
    const { text, html } = await queuedContent(em, mail);
    expect(text).toMatch(/Revoked by:\s+your organisation’s identity provider \(directory sync\)/);
    expect(`${text}${html}`).not.toContain(token.secret);
  });

  it('deactivates and re-activates on Entra ID’s PATCH ("Replace", "False"/"True"); re-activation brings no token back', async () => {
    const alice = await userId(t, 'alice@example.com');
    const token = await generateToken(t, 'alice@example.com');
    const off = await acme('PATCH', `/Users/${alice}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
    });
    expect(off.body).toMatchObject({ active: false });
    expect((await t.gql('{ me { email } }', { auth: token.secret })).status).toBe(401);

    const on = await acme('PATCH', `/Users/${alice}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Replace', path: 'active', value: 'True' }],
    });
    expect(on.body).toMatchObject({ active: true });
    expect((await t.gql('{ me { email } }', { auth: token.secret })).status).toBe(401);
    // Sessions issued before the deactivation stay refused (README, deactivation): sign a new one past the bound.
    await untilSessionsCount(t, alice);
    const session = await t.session('alice@example.com');
    const mine = await t.gql('{ myApiToken { id } }', { auth: session });
    expect(mine.body.data).toEqual({ myApiToken: null });
    expect((await auditRows(t, alice)).at(-1)).toMatchObject({ action: 'USER_REACTIVATED', actorKind: 'scim' });
  });

  it('changes name, userName and role with Entra’s path forms and PUT; a role change applies to the next request', async () => {
    const created = await acme('POST', '/Users', entraUser('rename.me@acme.example'));
    const id = String(created.body?.['id']);
    const session = await t.session('rename.me@acme.example');
    const patched = await acme('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'Replace', path: 'name.formatted', value: 'Renamed Person' },
        { op: 'Add', path: `${ROLE_EXTENSION}:role`, value: 'ADMIN' },
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'Rename.Me@acme.example' },
      ],
    });
    expect(patched.body).toMatchObject({
      name: { formatted: 'Renamed Person' },
      [ROLE_EXTENSION]: { role: 'ADMIN' },
      userName: 'rename.me@acme.example',
    });
    const me = await t.gql<{ me: { role: string; name: string } }>('{ me { role name } }', { auth: session });
    expect(me.body.data?.me).toEqual({ role: 'ADMIN', name: 'Renamed Person' });

    const put = await acme('PUT', `/Users/${id}`, {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      id,
      userName: 'renamed@acme.example',
      name: { givenName: 'Put', familyName: 'Person' },
      active: true,
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toMatchObject({
      userName: 'renamed@acme.example',
      name: { formatted: 'Put Person' },
      [ROLE_EXTENSION]: { role: 'ADMIN' },
    });
    expect(put.body?.['externalId']).toBeUndefined();
    expectScimError(await acme('PUT', `/Users/${id}`, { userName: 'bob@example.com' }), 409, 'uniqueness');
    expectScimError(await acme('PUT', `/Users/${id}`, { id: 'another', userName: 'x@acme.example' }), 400, 'mutability');
  });

  it('DELETE deactivates (204), and the user reads back as inactive', async () => {
    const created = await acme('POST', '/Users', oktaUser('leaver@acme.example', 'leaver'));
    const id = String(created.body?.['id']);
    const session = await t.session('leaver@acme.example');
    const res = await acme('DELETE', `/Users/${id}`);
    expect(res.status).toBe(204);
    expect(res.body).toBeNull();
    expect((await t.gql('{ me { email } }', { auth: session })).status).toBe(401);
    expect((await acme('GET', `/Users/${id}`)).body).toMatchObject({ active: false });
  });

  it('pages with startIndex and count, with stable totals', async () => {
    for (const n of [1, 2, 3]) expect((await acme('POST', '/Users', oktaUser(`page${n}@acme.example`, `page${n}`))).status).toBe(201);
    const all = await acme('GET', '/Users');
    const total = Number(all.body?.['totalResults']);
    expect(total).toBeGreaterThanOrEqual(7);
    const ids = (all.body?.['Resources'] as { id: string }[]).map((user) => user.id);
    expect(ids).toHaveLength(total);

    const pages: string[] = [];
    for (let start = 1; start <= total; start += 2) {
      const page = await acme('GET', `/Users?startIndex=${start}&count=2`);
      expect(page.body).toMatchObject({ totalResults: total, startIndex: start });
      const resources = page.body?.['Resources'] as { id: string }[];
      expect(page.body?.['itemsPerPage']).toBe(resources.length);
      pages.push(...resources.map((user) => user.id));
    }
    expect(pages).toEqual(ids);
    expect((await acme('GET', '/Users?count=0')).body).toMatchObject({ totalResults: total, itemsPerPage: 0, Resources: [] });
    expect((await acme('GET', `/Users?startIndex=${total + 5}`)).body).toMatchObject({ totalResults: total, itemsPerPage: 0 });
    // The vendor's support staff filed under Acme are not the directory's to see.
    const support = await acme('GET', `/Users?filter=${encodeURIComponent('userName eq "support@example.com"')}`);
    expect(support.body).toMatchObject({ totalResults: 0 });
  });

  it('refuses unsupported filters with 400 invalidFilter, bad paging with invalidValue', async () => {
    for (const filter of ['userName co "a"', 'userName eq "a" and active eq true', 'title eq "x"', 'userName eq', 'userName eq 5']) {
      expectScimError(await acme('GET', `/Users?filter=${encodeURIComponent(filter)}`), 400, 'invalidFilter');
    }
    expectScimError(await acme('GET', `/Users?filter=${encodeURIComponent('userName eq "a"')}&filter=x`), 400, 'invalidFilter');
    expectScimError(await acme('GET', '/Users?count=ten'), 400, 'invalidValue');
  });

  it('refuses malformed bodies and operations with invalidSyntax / invalidValue / mutability', async () => {
    const admin = await userId(t, 'admin@example.com');
    expectScimError(await acme('POST', '/Users', undefined, { rawBody: '{"userName": ' }), 400, 'invalidSyntax');
    expectScimError(await acme('POST', '/Users', ['not', 'an', 'object']), 400, 'invalidSyntax');
    expectScimError(await acme('POST', '/Users', { name: { formatted: 'No Username' } }), 400, 'invalidValue');
    expectScimError(await acme('POST', '/Users', { userName: 'not an email' }), 400, 'invalidValue');
    expectScimError(await acme('POST', '/Users', { userName: 42 }), 400, 'invalidValue');
    expectScimError(await acme('PATCH', `/Users/${admin}`, { schemas: [PATCH_OP] }), 400, 'invalidSyntax');
    expectScimError(
      await acme('PATCH', `/Users/${admin}`, { Operations: [{ op: 'move', path: 'active', value: false }] }),
      400,
      'invalidSyntax',
    );
    expectScimError(
      await acme('PATCH', `/Users/${admin}`, { Operations: [{ op: 'replace', path: 'active', value: 'maybe' }] }),
      400,
      'invalidValue',
    );
    expectScimError(await acme('PATCH', `/Users/${admin}`, { Operations: [{ op: 'replace', path: 'id', value: 'x' }] }), 400, 'mutability');
    expectScimError(await acme('PATCH', `/Users/${admin}`, { Operations: [{ op: 'remove' }] }), 400, 'noTarget');
    expectScimError(await acme('POST', '/Users', undefined, { rawBody: 'userName=x', contentType: 'text/plain' }), 415);
    // Plain application/json is accepted too.
    const json = await acme('POST', '/Users', oktaUser('json@acme.example', 'json'), { contentType: 'application/json' });
    expect(json.status).toBe(201);
    // None of the refused requests changed anything.
    expect((await acme('GET', `/Users/${admin}`)).body).toMatchObject({ id: admin, active: true, userName: 'admin@example.com' });
    expect(await t.running.orm.em.fork().count(AuditEvent, { subjectUserId: admin, actorKind: 'scim' })).toBe(0);
  });

  it('answers 401 without the organisation’s token and 404 for another organisation’s user, exactly as for a made-up id', async () => {
    const alice = await userId(t, 'alice@example.com');
    // Without a credential, no error code (RFC 6750 §3.1); with one, the verifier's outcome as error_description.
    const challenges: [string | null, string][] = [
      [null, 'Bearer realm="scim"'],
      ['scim_wrong', 'Bearer realm="scim", error="invalid_token", error_description="The credential is malformed."'],
      [
        `scim_${'A'.repeat(43)}`,
        'Bearer realm="scim", error="invalid_token", error_description="The credential is unknown or was revoked."',
      ],
    ];
    for (const [token, challenge] of challenges) {
      const res = await scimClient(t, token)('GET', '/Users');
      expectScimError(res, 401);
      expect(res.headers.get('www-authenticate')).toBe(challenge);
    }
    const theirs = await globex('GET', `/Users/${alice}`);
    const madeUp = await globex('GET', '/Users/00000000-0000-4000-8000-000000000000');
    const notAnId = await globex('GET', '/Users/nope');
    for (const res of [theirs, madeUp, notAnId]) expectScimError(res, 404);
    expect(theirs.body).toEqual(madeUp.body);
    expect(theirs.body).toEqual(notAnId.body);
    expectScimError(await globex('PATCH', `/Users/${alice}`, { Operations: [{ op: 'replace', value: { active: false } }] }), 404);
    expectScimError(await globex('DELETE', `/Users/${alice}`), 404);
    const stillActive = await acme('GET', `/Users/${alice}`);
    expect(stillActive.body).toMatchObject({ id: alice });
  });
});

import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { userId } from '../admin/admin-helpers.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { PATCH_OP, ROLE_EXTENSION, expectScimError, scimClient, scimToken } from './scim-client.js';

const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

type Json = Record<string, unknown>;

/** A request with a Host header of the caller's choosing, which fetch cannot send. */
function withHost(
  url: string,
  token: string,
  method: string,
  path: string,
  host: string,
  body?: unknown,
): Promise<{ status: number; location: string | undefined; body: Json }> {
  const target = new URL(`/scim/v2${path}`, url);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method,
        headers: {
          host,
          authorization: `Bearer ${token}`,
          ...(payload === undefined ? {} : { 'content-type': 'application/scim+json', 'content-length': Buffer.byteLength(payload) }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body: JSON.parse(text) as Json }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('SCIM never answers 200 for a change it did not make', () => {
  let t: TestApp;
  let acme: ReturnType<typeof scimClient>;
  let token: string;
  beforeAll(async () => {
    t = await startTestApp();
    token = await scimToken(t, 'Acme');
    acme = scimClient(t, token);
  });
  afterAll(async () => {
    await t.stop();
  });

  async function newUser(email: string): Promise<string> {
    const created = await acme('POST', '/Users', { schemas: [CORE_USER], userName: email, name: { formatted: 'Some One' } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return String(created.body?.['id']);
  }

  it('deprovisions with a path qualified by the core schema URN (RFC 7644 §3.10)', async () => {
    const id = await newUser('urn.leaver@acme.example');
    const session = await t.session('urn.leaver@acme.example');
    const res = await acme('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: `${CORE_USER}:active`, value: false }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ active: false });
    expect((await t.gql('{ me { email } }', { auth: session })).status).toBe(401);
  });

  it('honours fully qualified value keys and paths for every core and extension attribute', async () => {
    const id = await newUser('urn.keys@acme.example');
    const res = await acme('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'replace', value: { [`${CORE_USER}:active`]: false, [`${CORE_USER}:name.formatted`]: 'Qualified Name' } },
        { op: 'replace', path: `${CORE_USER}:userName`, value: 'urn.renamed@acme.example' },
        { op: 'add', path: `${CORE_USER}:externalId`, value: 'ext-1' },
        { op: 'replace', path: `${ROLE_EXTENSION}:role`, value: 'ADMIN' },
        { op: 'replace', path: `${ENTERPRISE}:department`, value: 'Unknown extensions are ignored' },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      active: false,
      userName: 'urn.renamed@acme.example',
      externalId: 'ext-1',
      displayName: 'Qualified Name',
      [ROLE_EXTENSION]: { role: 'ADMIN' },
    });
  });

  it('refuses a path at a core attribute it does not keep (400 invalidPath), and then changes nothing', async () => {
    const id = await newUser('urn.refused@acme.example');
    for (const path of [
      'title',
      `${CORE_USER}:nickName`,
      'name.middleName',
      'phoneNumbers[type eq "work"].value',
      `${ROLE_EXTENSION}:level`,
    ]) {
      const res = await acme('PATCH', `/Users/${id}`, {
        schemas: [PATCH_OP],
        Operations: [
          { op: 'replace', path: 'active', value: false },
          { op: 'replace', path, value: 'x' },
        ],
      });
      expectScimError(res, 400, 'invalidPath');
    }
    expectScimError(
      await acme('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: `${CORE_USER}:groups`, value: [] }] }),
      400,
      'mutability',
    );
    // emails mirrors userName: repeating it is fine, another address is not silently dropped.
    expectScimError(
      await acme('PATCH', `/Users/${id}`, {
        schemas: [PATCH_OP],
        Operations: [{ op: 'replace', path: 'emails[type eq "work"].value', value: 'other@acme.example' }],
      }),
      400,
      'mutability',
    );
    expect((await acme('GET', `/Users/${id}`)).body).toMatchObject({ active: true, userName: 'urn.refused@acme.example' });
  });

  it('DELETE with Content-Type: application/scim+json and no body deactivates (an empty body is no body)', async () => {
    for (const [email, rawBody] of [
      ['empty.body@acme.example', ''],
      ['no.body@acme.example', undefined],
    ] as const) {
      const id = await newUser(email);
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' };
      const res = await fetch(new URL(`/scim/v2/Users/${id}`, t.url), {
        method: 'DELETE',
        headers,
        ...(rawBody === undefined ? {} : { body: rawBody }),
      });
      expect(res.status, await res.clone().text()).toBe(204);
      expect((await acme('GET', `/Users/${id}`)).body).toMatchObject({ active: false });
    }
    // A PATCH still needs its body.
    const admin = await userId(t, 'admin@example.com');
    expectScimError(await acme('PATCH', `/Users/${admin}`, undefined, { rawBody: '' }), 400, 'invalidSyntax');
    expectScimError(
      await acme('PATCH', `/Users/${admin}`, undefined, { rawBody: '', contentType: 'application/json' }),
      400,
      'invalidSyntax',
    );
  });

  it('a group PATCH or PUT that renames and adds a member out of scope commits nothing', async () => {
    const created = await acme('POST', '/Groups', { schemas: [GROUP], displayName: 'Atomic' });
    const id = String(created.body?.['id']);
    const outsider = await userId(t, 'carol@globex.example.com');
    const alice = await userId(t, 'alice@example.com');
    const patch = await acme('PATCH', `/Groups/${id}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'replace', path: 'displayName', value: 'Renamed Anyway' },
        { op: 'add', path: 'members', value: [{ value: alice }, { value: outsider }] },
      ],
    });
    expectScimError(patch, 400, 'invalidValue');
    const pathless = await acme('PATCH', `/Groups/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', value: { displayName: 'Renamed Anyway', members: [{ value: outsider }] } }],
    });
    expectScimError(pathless, 400, 'invalidValue');
    const put = await acme('PUT', `/Groups/${id}`, {
      schemas: [GROUP],
      displayName: 'Renamed Anyway',
      members: [{ value: alice }, { value: outsider }],
    });
    expectScimError(put, 400, 'invalidValue');
    expect((await acme('GET', `/Groups/${id}`)).body).toMatchObject({ displayName: 'Atomic', members: [] });
    // A group path the service cannot apply is not a silent 200 either.
    expectScimError(
      await acme('PATCH', `/Groups/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'externalId', value: 'x' }] }),
      400,
      'invalidPath',
    );
    const qualified = await acme('PATCH', `/Groups/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: `${GROUP}:displayName`, value: 'Qualified' }],
    });
    expect(qualified.body).toMatchObject({ displayName: 'Qualified' });
  });

  it('a user PATCH or PUT that changes attributes and active together commits both or neither', async () => {
    const id = await newUser('together@acme.example');
    const users = t.running.services.admin.users;
    // The deactivation fails after the rename was made: the rename must not stay.
    const failing = vi.spyOn(users, 'deactivateUser').mockRejectedValue(new Error('the database went away'));
    try {
      const patch = await acme('PATCH', `/Users/${id}`, {
        schemas: [PATCH_OP],
        Operations: [
          { op: 'replace', path: 'displayName', value: 'Half Done' },
          { op: 'replace', path: 'active', value: false },
        ],
      });
      expect(patch.status).toBe(500);
      const put = await acme('PUT', `/Users/${id}`, { userName: 'together.moved@acme.example', displayName: 'Half Done', active: false });
      expect(put.status).toBe(500);
    } finally {
      failing.mockRestore();
    }
    expect((await acme('GET', `/Users/${id}`)).body).toMatchObject({
      userName: 'together@acme.example',
      displayName: 'Some One',
      active: true,
    });
  });

  it('builds Location, meta.location and $ref from the listen address, never from the Host header', async () => {
    const res = await withHost(t.url, token, 'POST', '/Users', 'evil.example', { userName: 'host.header@acme.example' });
    expect(res.status).toBe(201);
    const origin = new URL(t.url).origin.replace('localhost', '127.0.0.1');
    expect(res.location).toBe(`${origin}/scim/v2/Users/${String(res.body['id'])}`);
    expect(JSON.stringify(res.body)).not.toContain('evil.example');
  });

  it('removes displayName and name, and a PUT that changes only displayName renames', async () => {
    const id = await newUser('names@acme.example');
    const current = await acme('GET', `/Users/${id}`);
    const put = await acme('PUT', `/Users/${id}`, { ...current.body, displayName: 'Only Display Changed' });
    expect(put.body).toMatchObject({ displayName: 'Only Display Changed', name: { formatted: 'Only Display Changed' } });
    for (const path of ['displayName', 'name']) {
      await acme('PATCH', `/Users/${id}`, {
        schemas: [PATCH_OP],
        Operations: [{ op: 'replace', path: 'displayName', value: 'Named Again' }],
      });
      const removed = await acme('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'remove', path }] });
      expect(removed.status, JSON.stringify(removed.body)).toBe(200);
      expect(removed.body?.['displayName']).toBeUndefined();
      expect(removed.body?.['name']).toBeUndefined();
    }
  });

  it('shows meta.lastModified, and it moves when the user changes', async () => {
    const id = await newUser('modified@acme.example');
    const before = (await acme('GET', `/Users/${id}`)).body?.['meta'] as Json;
    expect(before['lastModified']).toBe(before['created']);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const after = (
      await acme('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'Changed' }] })
    ).body?.['meta'] as Json;
    expect(Date.parse(String(after['lastModified']))).toBeGreaterThan(Date.parse(String(before['lastModified'])));
    const group = (await acme('POST', '/Groups', { schemas: [GROUP], displayName: 'Dated' })).body as Json;
    const created = group['meta'] as Json;
    expect(created['lastModified']).toBe(created['created']);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const joined = (
      await acme('PATCH', `/Groups/${String(group['id'])}`, {
        schemas: [PATCH_OP],
        Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }],
      })
    ).body?.['meta'] as Json;
    expect(Date.parse(String(joined['lastModified']))).toBeGreaterThan(Date.parse(String(created['lastModified'])));
    const member = (await acme('GET', `/Users/${id}`)).body?.['meta'] as Json;
    expect(member['lastModified']).toBe(joined['lastModified']);
  });

  it('answers attributes and excludedAttributes on Users, and POST /Users/.search', async () => {
    const id = await newUser('projected@acme.example');
    const only = await acme('GET', `/Users/${id}?attributes=userName,${CORE_USER}:name.formatted`);
    expect(only.body).toEqual({
      schemas: [CORE_USER, ROLE_EXTENSION],
      id,
      userName: 'projected@acme.example',
      name: { formatted: 'Some One' },
    });
    const without = await acme('GET', `/Users/${id}?excludedAttributes=groups,emails,${ROLE_EXTENSION}:role`);
    expect(without.body).toMatchObject({ id, userName: 'projected@acme.example', [ROLE_EXTENSION]: {} });
    expect(without.body?.['groups']).toBeUndefined();
    expect(without.body?.['emails']).toBeUndefined();
    const search = await acme('POST', '/Users/.search', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
      filter: 'userName eq "projected@acme.example"',
      attributes: ['userName'],
      startIndex: 1,
      count: 10,
    });
    expect(search.status, JSON.stringify(search.body)).toBe(200);
    expect(search.body).toMatchObject({ totalResults: 1, Resources: [{ id, userName: 'projected@acme.example' }] });
    expect((search.body?.['Resources'] as Json[])[0]?.['emails']).toBeUndefined();
  });

  it('/Schemas declares every attribute a User and a Group carry', async () => {
    const schemas = (await acme('GET', '/Schemas')).body?.['Resources'] as { id: string; attributes: Json[] }[];
    const declared = new Map(schemas.map((schema) => [schema.id, schema.attributes]));
    const common = new Set(['schemas', 'id', 'externalId', 'meta']);
    const undeclared: string[] = [];
    const check = (value: Json, attributes: Json[], where: string) => {
      for (const [key, inner] of Object.entries(value)) {
        const attribute = attributes.find((each) => String(each['name']).toLowerCase() === key.toLowerCase());
        if (!attribute) {
          undeclared.push(`${where}${key}`);
          continue;
        }
        const subs = attribute['subAttributes'] as Json[] | undefined;
        for (const item of Array.isArray(inner) ? inner : [inner]) {
          if (subs && typeof item === 'object' && item !== null) check(item as Json, subs, `${where}${key}.`);
        }
      }
    };
    const id = await newUser('declared@acme.example');
    await acme('POST', '/Groups', { schemas: [GROUP], displayName: 'Declared', members: [{ value: id }] });
    const user = (await acme('GET', `/Users/${id}`)).body as Json;
    const group = (
      (await acme('GET', `/Groups?filter=${encodeURIComponent('displayName eq "Declared"')}`)).body?.['Resources'] as Json[]
    )[0] as Json;
    for (const [resource, schema] of [
      [user, CORE_USER],
      [group, GROUP],
    ] as const) {
      const core = Object.fromEntries(Object.entries(resource).filter(([key]) => !common.has(key) && !key.startsWith('urn:')));
      check(core, declared.get(schema) ?? [], `${schema}:`);
    }
    check(user[ROLE_EXTENSION] as Json, declared.get(ROLE_EXTENSION) ?? [], `${ROLE_EXTENSION}:`);
    expect(undeclared).toEqual([]);
  });
});

describe('SCIM URLs with PUBLIC_URL set', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ PUBLIC_URL: 'https://tokens.example.com/' });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('builds Location, meta.location and every $ref from PUBLIC_URL', async () => {
    const token = await scimToken(t, 'Acme');
    const user = await withHost(t.url, token, 'POST', '/Users', 'evil.example', { userName: 'public.url@acme.example' });
    const id = String(user.body['id']);
    expect(user.location).toBe(`https://tokens.example.com/scim/v2/Users/${id}`);
    expect(user.body['meta']).toMatchObject({ location: `https://tokens.example.com/scim/v2/Users/${id}` });
    const group = await withHost(t.url, token, 'POST', '/Groups', 'evil.example', { displayName: 'Public', members: [{ value: id }] });
    expect(group.body['members']).toEqual([
      { value: id, display: 'public.url@acme.example', $ref: `https://tokens.example.com/scim/v2/Users/${id}` },
    ]);
    const read = await withHost(t.url, token, 'GET', `/Users/${id}`, 'evil.example');
    expect(read.body['groups']).toEqual([
      { value: String(group.body['id']), display: 'Public', $ref: `https://tokens.example.com/scim/v2/Groups/${String(group.body['id'])}` },
    ]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { ROLE_EXTENSION, expectScimError, scimClient, scimToken } from './scim-client.js';

describe('SCIM discovery and credentials', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('describes itself: ServiceProviderConfig, ResourceTypes and Schemas, as application/scim+json', async () => {
    const client = scimClient(t, await scimToken(t, 'Acme'));
    const config = await client('GET', '/ServiceProviderConfig');
    expect(config.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    expect(config.body).toMatchObject({ patch: { supported: true }, filter: { supported: true }, bulk: { supported: false } });

    const types = await client('GET', '/ResourceTypes');
    expect((types.body?.['Resources'] as { id: string }[]).map((type) => type.id)).toEqual(['User', 'Group']);
    expect((await client('GET', '/ResourceTypes/User')).body).toMatchObject({
      endpoint: '/Users',
      schemaExtensions: [{ schema: ROLE_EXTENSION }],
    });

    const schemas = await client('GET', '/Schemas');
    expect((schemas.body?.['Resources'] as { id: string }[]).map((schema) => schema.id)).toContain(ROLE_EXTENSION);
    expect((await client('GET', `/Schemas/${ROLE_EXTENSION}`)).body).toMatchObject({
      attributes: [{ name: 'role', canonicalValues: ['USER', 'ADMIN'] }],
    });
    expectScimError(await client('GET', '/Schemas/urn:nothing'), 404);
    expectScimError(await client('GET', '/Nothing'), 404);
  });

  it('keeps one token per organisation: issuing again rotates it, revoking ends it', async () => {
    const first = await scimToken(t, 'Globex');
    expect((await scimClient(t, first)('GET', '/Users')).status).toBe(200);
    const second = await scimToken(t, 'Globex');
    expectScimError(await scimClient(t, first)('GET', '/Users'), 401);
    expect((await scimClient(t, second)('GET', '/Users')).status).toBe(200);
    expect(await t.running.scim.revoke('Globex')).toBe(true);
    expectScimError(await scimClient(t, second)('GET', '/Users'), 401);
    expect(await t.running.scim.revoke('Globex')).toBe(false);
    expect(await t.running.scim.issue('Nobody')).toBeNull();
  });

  it('stores only a digest of the token', async () => {
    const secret = await scimToken(t, 'Acme');
    const rows: Record<string, unknown>[] = await t.running.orm.em.getConnection().execute('select * from scim_tokens');
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows)).not.toContain(secret);
    expect(JSON.stringify(rows)).not.toContain(secret.slice(5));
  });
});

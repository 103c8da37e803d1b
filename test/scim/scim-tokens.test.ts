import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScimToken } from '../../src/scim/scim-token.entity.js';
import { createScimSecret, digestScimToken } from '../../src/scim/scim-token-format.js';
import { Organization } from '../../src/users/organization.entity.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { expectScimError, lookupsDuring, scimClient, scimToken } from './scim-client.js';

/** The same token with its last character changed: the checksum no longer matches. */
function withBadChecksum(secret: string): string {
  return `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
}

const MALFORMED = 'Bearer realm="scim", error="invalid_token", error_description="The credential is malformed."';

describe('SCIM tokens: checksum, cache and tokens issued before the checksum', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('issues tokens with a checksum, and refuses one whose checksum fails as malformed, without a database read', async () => {
    const token = await scimToken(t, 'Acme');
    expect(token).toMatch(/^scim_[\w-]{43}[0-9A-Za-z]{6}$/);
    const mistyped = withBadChecksum(token);
    const reads = await lookupsDuring(t, mistyped, async () => {
      const refused = await scimClient(t, mistyped)('GET', '/Users');
      expectScimError(refused, 401);
      expect(refused.headers.get('www-authenticate')).toBe(MALFORMED);
    });
    expect(reads).toBe(0);
    // The spy does see lookups: a well-formed token we never issued is looked up, and unknown.
    const madeUp = createScimSecret().secret;
    expect(await lookupsDuring(t, madeUp, async () => expectScimError(await scimClient(t, madeUp)('GET', '/Users'), 401))).toBe(1);
  });

  it('issues tokens that match the pattern the README gives secret scanners, and no mistyped one does', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const pattern = /```\n(.*)\n```/.exec(readme.slice(readme.indexOf('### SCIM tokens')))?.[1];
    expect(pattern).toContain('scim_');
    for (let i = 0; i < 50; i++) {
      const { secret } = createScimSecret();
      expect(new RegExp(pattern ?? '$^').test(`SCIM_TOKEN=${secret} # oops`)).toBe(true);
    }
  });

  it('answers a repeated request from the cache, without reading the token again', async () => {
    const token = await scimToken(t, 'Globex');
    const globex = scimClient(t, token);
    expect(await lookupsDuring(t, token, async () => expect((await globex('GET', '/Users')).status).toBe(200))).toBe(1);
    expect(await lookupsDuring(t, token, async () => expect((await globex('GET', '/Users')).status).toBe(200))).toBe(0);
    // Rotating on this instance ends the cached token before `issue` returns.
    const rotated = await scimToken(t, 'Globex');
    expectScimError(await globex('GET', '/Users'), 401);
    expect((await scimClient(t, rotated)('GET', '/Users')).status).toBe(200);
  });

  it('keeps a token issued before checksums (no checksum) working until it is rotated', async () => {
    // What the service issued before: `scim_` and 43 base64url characters, stored as their digest.
    const old = `scim_${randomBytes(32).toString('base64url')}`;
    expect(old).toHaveLength(48);
    const em = t.running.orm.em.fork();
    const acme = await em.findOneOrFail(Organization, { name: 'Acme' });
    await em.nativeUpdate(ScimToken, { organization: acme.id }, { digest: digestScimToken(old) });

    const client = scimClient(t, old);
    const users = await client('GET', '/Users?filter=userName%20eq%20%22alice%40example.com%22');
    expect(users.status).toBe(200);
    expect(users.body).toMatchObject({ totalResults: 1 });
    // Its shape is still checked before any read.
    const truncated = old.slice(0, -1);
    expect(await lookupsDuring(t, truncated, async () => expectScimError(await scimClient(t, truncated)('GET', '/Users'), 401))).toBe(0);

    const rotated = await scimToken(t, 'Acme');
    expectScimError(await client('GET', '/Users'), 401);
    expect((await scimClient(t, rotated)('GET', '/Users')).status).toBe(200);
  });
});

describe('failed SCIM tokens and the address budget', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_AUTH_FAILURES: '3/PT1M', TRUST_PROXY: 'loopback' });
  });
  afterAll(async () => {
    await t.stop();
  });

  const usersFrom = (address: string, token: string) =>
    fetch(new URL('/scim/v2/Users', t.url), {
      headers: { authorization: `Bearer ${token}`, accept: 'application/scim+json', 'x-forwarded-for': address },
    });

  it('count like failed API tokens: over the budget an address gets 429, while the real token from another address works', async () => {
    const token = await scimToken(t, 'Acme');
    // Mistyped (malformed) and made-up (unknown) tokens both count.
    for (const guess of [withBadChecksum(token), createScimSecret().secret, withBadChecksum(createScimSecret().secret)]) {
      expect((await usersFrom('203.0.113.1', guess)).status).toBe(401);
    }
    for (const guess of [createScimSecret().secret, withBadChecksum(token)]) {
      const over = await usersFrom('203.0.113.1', guess);
      expect(over.status).toBe(429);
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect((await usersFrom('203.0.113.2', token)).status).toBe(200);
    // That address has its own budget; and the blocked one still serves the organisation's token.
    expect((await usersFrom('203.0.113.2', createScimSecret().secret)).status).toBe(401);
    expect((await usersFrom('203.0.113.1', token)).status).toBe(200);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScimRateLimit } from '../../src/scim/scim-rate-limit.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { expectScimError, scimClient, scimToken } from './scim-client.js';

describe('ScimRateLimit', () => {
  it('lets a burst of the per-minute budget through, then refills at that rate, per organisation', () => {
    let now = 0;
    const limit = new ScimRateLimit(60, () => now);
    for (let i = 0; i < 60; i++) expect(limit.take('acme')).toBe(0);
    expect(limit.take('acme')).toBe(1);
    expect(limit.take('globex')).toBe(0);
    now += 1_000;
    expect(limit.take('acme')).toBe(0);
    expect(limit.take('acme')).toBe(1);
    now += 10 * 60_000;
    for (let i = 0; i < 60; i++) expect(limit.take('acme')).toBe(0);
    expect(limit.take('acme')).toBeGreaterThan(0);
  });
});

describe('SCIM rate limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ SCIM_RATE_LIMIT: '3' });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('answers 429 with Retry-After once an organisation used its budget, and leaves other organisations alone', async () => {
    const acme = scimClient(t, await scimToken(t, 'Acme'));
    const globex = scimClient(t, await scimToken(t, 'Globex'));
    for (let i = 0; i < 3; i++) expect((await acme('GET', '/ServiceProviderConfig')).status).toBe(200);
    const refused = await acme('GET', '/Users');
    expectScimError(refused, 429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await globex('GET', '/Users')).status).toBe(200);
    // A caller without a token is refused before it can spend anyone's budget.
    expectScimError(await scimClient(t, null)('GET', '/Users'), 401);
  });
});

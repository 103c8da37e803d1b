import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { expectScimError, scimClient, scimToken } from './scim-client.js';

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

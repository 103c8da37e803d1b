import type { TestApp } from './test-app.js';

const GENERATE = 'mutation { generateApiToken { secret token { id hint createdAt expiresAt } } }';

export interface Generated {
  readonly secret: string;
  readonly token: { id: string; hint: string; createdAt: string; expiresAt: string };
}

/** Generates (or, with another `query`, regenerates) a token for `email` through the API and returns the payload. */
export async function generate(t: TestApp, email: string, query = GENERATE): Promise<Generated> {
  const res = await t.gql<Record<string, Generated>>(query, { auth: await t.session(email) });
  const payload = res.body.data && Object.values(res.body.data)[0];
  if (!payload) throw new Error(`generate for ${email} failed: ${JSON.stringify(res.body.errors)}`);
  return payload;
}

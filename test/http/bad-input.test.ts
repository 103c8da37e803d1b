import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { subscribe } from '../support/ws-client.js';

const BODY_LIMIT = 4096;

interface Case {
  readonly name: string;
  readonly status: number;
  readonly code: string;
  /** Query string appended to /graphql. */
  readonly search?: string;
  readonly init: (auth: string) => RequestInit;
}

const json = (auth: string, body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: auth },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

const REVOKE = 'mutation($id: ID) { revokeApiToken(id: $id) { tokenId } }';

const CASES: readonly Case[] = [
  {
    name: 'variable of the wrong type (object for ID)',
    status: 400,
    code: 'BAD_USER_INPUT',
    init: (a) => json(a, { query: REVOKE, variables: { id: { a: 1 } } }),
  },
  {
    name: 'variable of the wrong type (boolean for ID)',
    status: 400,
    code: 'BAD_USER_INPUT',
    init: (a) => json(a, { query: REVOKE, variables: { id: true } }),
  },
  {
    name: 'argument literal of the wrong type',
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
    init: (a) => json(a, { query: 'mutation { revokeApiToken(id: [1, 2]) { tokenId } }' }),
  },
  {
    name: 'variables that are not an object',
    status: 400,
    code: 'BAD_REQUEST',
    init: (a) => json(a, { query: '{ me { email } }', variables: '{"id": 1}' }),
  },
  { name: 'query that is not a string', status: 400, code: 'BAD_REQUEST', init: (a) => json(a, { query: 42 }) },
  { name: 'unknown field', status: 400, code: 'GRAPHQL_VALIDATION_FAILED', init: (a) => json(a, { query: '{ me { email password } }' }) },
  {
    name: 'unknown argument',
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
    init: (a) => json(a, { query: '{ myApiToken(secret: true) { id } }' }),
  },
  { name: 'unknown root field', status: 400, code: 'GRAPHQL_VALIDATION_FAILED', init: (a) => json(a, { query: '{ apiTokenSecret }' }) },
  { name: 'GraphQL syntax error', status: 400, code: 'GRAPHQL_PARSE_FAILED', init: (a) => json(a, { query: '{ me { email ' }) },
  { name: 'malformed JSON', status: 400, code: 'BAD_REQUEST', init: (a) => json(a, '{"query": "{ me { email } }"') },
  { name: 'empty JSON body', status: 400, code: 'BAD_REQUEST', init: (a) => json(a, '') },
  { name: 'JSON null body', status: 400, code: 'BAD_REQUEST', init: (a) => json(a, 'null') },
  { name: 'a batch (batching is off)', status: 400, code: 'BAD_REQUEST', init: (a) => json(a, [{ query: '{ me { email } }' }]) },
  {
    name: 'body over BODY_LIMIT',
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    init: (a) => json(a, { query: `{ me { email } } # ${'x'.repeat(BODY_LIMIT)}` }),
  },
  {
    name: 'XML content type',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    init: (a) => ({ ...json(a, '<query/>'), headers: { 'content-type': 'application/xml', authorization: a } }),
  },
  {
    name: 'form content type',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    init: (a) => ({ ...json(a, 'query=%7Bme%7D'), headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: a } }),
  },
  // text/plain is not JSON: refused (without Authorization, Apollo's CSRF protection refuses it first).
  {
    name: 'text/plain content type',
    status: 400,
    code: 'BAD_REQUEST',
    init: (a) => ({ ...json(a, { query: '{ me { email } }' }), headers: { 'content-type': 'text/plain', authorization: a } }),
  },
  {
    name: 'no content type',
    status: 400,
    code: 'BAD_REQUEST',
    init: (a) => ({ ...json(a, { query: '{ me { email } }' }), headers: { authorization: a } }),
  },
  {
    name: 'GET with no query',
    status: 400,
    code: 'BAD_REQUEST',
    init: (a) => ({ method: 'GET', headers: { authorization: a, 'apollo-require-preflight': 'true' } }),
  },
  {
    name: 'GET with no query and no preflight header',
    status: 400,
    code: 'BAD_REQUEST',
    init: (a) => ({ method: 'GET', headers: { authorization: a } }),
  },
  {
    name: 'GET with a mutation',
    status: 405,
    code: 'BAD_REQUEST',
    search: `?query=${encodeURIComponent('mutation { generateApiToken { secret } }')}`,
    init: (a) => ({ method: 'GET', headers: { authorization: a, 'apollo-require-preflight': 'true' } }),
  },
];

describe('bad input', () => {
  let t: TestApp;
  let auth: string;
  beforeAll(async () => {
    t = await startTestApp({ BODY_LIMIT: String(BODY_LIMIT) });
    auth = `Bearer ${await t.session('alice@example.com')}`;
  });
  afterAll(async () => {
    await t.stop();
  });

  it.each(CASES)('$name: $status $code', async ({ status, code, search, init }) => {
    const response = await fetch(`${t.url}${search ?? ''}`, init(auth));
    expect(response.status).toBe(status);
    const body = (await response.json()) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
    expect(body.errors?.[0]?.extensions?.code).toBe(code);
    expect(body.errors?.[0]?.message).toEqual(expect.any(String));
    expect(body.data ?? null).toBeNull();
  });

  it('the same mistakes without credentials are still 4xx, never 500', async () => {
    for (const { name, search, init } of CASES) {
      const request = init('');
      const headers = Object.fromEntries(Object.entries(request.headers ?? {}).filter(([k]) => k !== 'authorization'));
      const response = await fetch(`${t.url}${search ?? ''}`, { ...request, headers });
      expect(response.status, name).toBeGreaterThanOrEqual(400);
      expect(response.status, name).toBeLessThan(500);
    }
  });

  it('answers other methods on /graphql with 405 and unknown paths with 404, in the GraphQL error shape', async () => {
    const put = await fetch(t.url, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, POST');
    expect(((await put.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe('METHOD_NOT_ALLOWED');
    const missing = await fetch(new URL('/nowhere', t.url));
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe('NOT_FOUND');
  });

  it('refuses an operation past the operation limits, over HTTP and over graphql-ws', async () => {
    const many = Array.from({ length: 16 }, (_, i) => `a${i}: me { id }`).join(' ');
    const res = await t.gql(`{ ${many} }`, { auth: auth.slice('Bearer '.length) });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.body.errors?.[0]?.message).toBe('Aliases limit of 15 exceeded, found 16.');

    const fields = Array.from({ length: 16 }, (_, i) => `a${i}: id`).join(' ');
    const socket = subscribe(t.url, auth.slice('Bearer '.length), `subscription { apiTokenEvents { ${fields} } }`);
    await socket.waitFor(1, 5_000);
    expect(JSON.stringify(socket.errors)).toContain('Aliases limit of 15 exceeded');
    await socket.dispose();
  });

  it('the server keeps answering afterwards, and changed nothing', async () => {
    const res = await t.gql<{ me: { email: string }; myApiToken: null }>('{ me { email } myApiToken { id } }', {
      auth: auth.slice('Bearer '.length),
    });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ me: { email: 'alice@example.com' }, myApiToken: null });
    const health = await fetch(new URL('/healthz', t.url));
    expect(health.status).toBe(200);
  });
});

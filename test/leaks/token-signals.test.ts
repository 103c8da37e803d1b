import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiToken } from '../../src/tokens/api-token.entity.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { generate } from '../support/tokens.js';

const MY_TOKEN = '{ myApiToken { id lastUsedAt lastUsedAddress } }';

/** Opens a graphql-ws socket from `forwardedFor` (through the trusted loopback proxy) and returns its connection_ack. */
async function acknowledge(t: TestApp, token: string, forwardedFor: string): Promise<{ type: string; payload?: Record<string, unknown> }> {
  const socket = new WebSocket(t.url.replace(/^http/, 'ws'), 'graphql-transport-ws', { headers: { 'x-forwarded-for': forwardedFor } });
  try {
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const first = new Promise<{ type: string; payload?: Record<string, unknown> }>((resolve, reject) => {
      socket.once('message', (data) => resolve(JSON.parse(String(data)) as never));
      socket.once('close', (code) => reject(new Error(`closed with ${code}`)));
    });
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
    return await first;
  } finally {
    socket.close();
  }
}

async function request(t: TestApp, auth: string, query: string, forwardedFor?: string): Promise<Response> {
  return fetch(t.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${auth}`,
      ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}),
    },
    body: JSON.stringify({ query }),
  });
}

describe('what scripts and users can read about a token in use', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ TRUST_PROXY: 'loopback' });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('sends Api-Token-Expiration on every response to an API-token request, and only then', async () => {
    const { secret, token } = await generate(t, 'alice@example.com');

    const ok = await request(t, secret, '{ me { email } }');
    const refused = await request(t, secret, 'mutation { generateApiToken { secret } }');
    const invalid = await request(t, secret, '{ nope }');

    for (const response of [ok, refused, invalid]) {
      expect(response.headers.get('api-token-expiration')).toBe(token.expiresAt);
    }
    expect(ok.status).toBe(200);
    expect(invalid.status).toBe(400);
    expect((await request(t, await t.session('alice@example.com'), '{ me { email } }')).headers.get('api-token-expiration')).toBeNull();
    const unknown = await request(t, 'own_' + 'C'.repeat(49), '{ me { email } }');
    expect(unknown.status).toBe(401);
    expect(unknown.headers.get('api-token-expiration')).toBeNull();
  });

  it('over graphql-ws, carries the expiry in connection_ack for a token, not for a session', async () => {
    const { secret, token } = await generate(t, 'bob@example.com');

    expect(await acknowledge(t, secret, '198.51.100.1')).toEqual({
      type: 'connection_ack',
      payload: { apiTokenExpiration: token.expiresAt },
    });
    const session = await acknowledge(t, await t.session('bob@example.com'), '198.51.100.1');
    expect(session.type).toBe('connection_ack');
    expect(session.payload?.['apiTokenExpiration']).toBeUndefined();
  });

  it('records the address of the last use, over HTTP and graphql-ws, and writes it with lastUsedAt', async () => {
    const { secret, token } = await generate(t, 'carol@globex.example.com');
    const carol = await t.session('carol@globex.example.com');
    const myToken = async () =>
      ((await (await request(t, carol, MY_TOKEN)).json()) as { data: { myApiToken: { lastUsedAddress: string | null } } }).data.myApiToken;
    expect((await myToken()).lastUsedAddress).toBeNull();

    expect((await request(t, secret, '{ me { email } }', '198.51.100.77')).status).toBe(200);
    // The instance that served the use shows it at once.
    expect((await myToken()).lastUsedAddress).toBe('198.51.100.77');
    await t.running.usage.flush();
    const stored = await t.running.orm.em.fork().findOneOrFail(ApiToken, token.id);
    expect(stored.lastUsedAddress).toBe('198.51.100.77');
    expect(stored.lastUsedAt).not.toBeNull();

    expect((await acknowledge(t, secret, '2001:db8::5')).type).toBe('connection_ack');
    expect((await myToken()).lastUsedAddress).toBe('2001:db8::5');
    await t.running.usage.flush();
    expect((await t.running.orm.em.fork().findOneOrFail(ApiToken, token.id)).lastUsedAddress).toBe('2001:db8::5');

    // Support and admins see it in the listing.
    const admin = await t.session('admin@globex.example.com');
    const listing = (await (await request(t, admin, '{ apiTokens(first: 10) { edges { node { id lastUsedAddress } } } }')).json()) as {
      data: { apiTokens: { edges: { node: { id: string; lastUsedAddress: string | null } }[] } };
    };
    expect(listing.data.apiTokens.edges.map((edge) => edge.node)).toContainEqual({ id: token.id, lastUsedAddress: '2001:db8::5' });
  });

  it('keeps the last address when an introspection counts as a use', async () => {
    const { secret, token } = await generate(t, 'admin@example.com');
    expect((await request(t, secret, '{ me { email } }', '198.51.100.88')).status).toBe(200);
    await t.running.usage.flush();

    await t.running.principals.token(secret);
    await t.running.usage.flush();

    expect((await t.running.orm.em.fork().findOneOrFail(ApiToken, token.id)).lastUsedAddress).toBe('198.51.100.88');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { EVENT_FIELDS, latestEventId, subscribe } from '../support/ws-client.js';

const EVENTS = `subscription { apiTokenEvents { ${EVENT_FIELDS} } }`;
const RESUMABLE = `subscription($after: ID) { apiTokenEvents(after: $after) { ${EVENT_FIELDS} } }`;

function rawSocket(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

function closeCode(socket: WebSocket): Promise<number> {
  return new Promise((resolve) => socket.once('close', (code) => resolve(code)));
}

describe('graphql-ws transport', () => {
  let t: TestApp;
  beforeAll(async () => {
    // The real 3 s connection_init wait, shortened: the test waits for it to pass.
    t = await startTestApp({}, { timeouts: { connectionInitMs: 300 } });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('accepts a socket authenticated with a session or an API token', async () => {
    const session = await t.session('bob@example.com');
    const generated = await t.gql<{ generateApiToken: { secret: string } }>('mutation { generateApiToken { secret } }', { auth: session });
    const secret = generated.body.data?.generateApiToken.secret ?? '';
    const after = await latestEventId(t.running.orm);
    const viaSession = subscribe(t.url, session, RESUMABLE, { after });
    const viaToken = subscribe(t.url, secret, RESUMABLE, { after });
    await Promise.all([viaSession.connected, viaToken.connected]);
    await t.gql('mutation { revokeApiToken { tokenId } }', { auth: session });
    expect((await viaSession.waitFor(1)).map((e) => e['kind'])).toEqual(['REVOKED']);
    expect((await viaToken.waitFor(1)).map((e) => e['kind'])).toEqual(['REVOKED']);
    await viaSession.dispose();
  });

  it('closes a socket that never sends connection_init', async () => {
    const socket = await rawSocket(t.url);
    expect(await closeCode(socket)).toBe(4408);
  });

  it('refuses an oversized message', async () => {
    const socket = await rawSocket(t.url);
    const closed = closeCode(socket);
    socket.send(JSON.stringify({ type: 'connection_init', payload: { padding: 'x'.repeat(200 * 1024) } }));
    expect(await closed).toBe(1009);
  });

  it('rejects a subscription before connection_init is acknowledged', async () => {
    const socket = await rawSocket(t.url);
    const closed = closeCode(socket);
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: EVENTS } }));
    expect(await closed).toBe(4401);
  });
});

describe('with Redis unreachable', () => {
  it('keeps the API answering and fails a subscription with 4500 instead of hanging', async () => {
    const t = await startTestApp({ REDIS_URL: 'redis://127.0.0.1:1' }, { timeouts: { eventsReadyMs: 300 } });
    try {
      const session = await t.session('alice@example.com');
      const generated = await t.gql('mutation { generateApiToken { token { id } } }', { auth: session });
      expect(generated.status).toBe(200);
      expect(generated.body.errors).toBeUndefined();
      const socket = subscribe(t.url, session, EVENTS);
      expect(await socket.closed).toBe(4500);
    } finally {
      await t.stop();
    }
  });
});

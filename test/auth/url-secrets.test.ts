import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loggableUrl } from '../../src/http/url-secrets.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { LogCapture } from '../http/log-capture.js';

describe('credentials in URLs', () => {
  const logs = new LogCapture();
  let t: TestApp;
  let secret: string;
  let session: string;
  const bodies: string[] = [];
  beforeAll(async () => {
    t = await startTestApp({ LOG_LEVEL: 'trace' }, { logger: logs.logger });
    session = await t.session('alice@example.com');
    const generated = await t.gql<{ generateApiToken: { secret: string } }>('mutation { generateApiToken { secret } }', { auth: session });
    secret = generated.body.data?.generateApiToken.secret ?? '';
  });
  afterAll(async () => {
    await t.stop();
  });

  async function call(path: string, init: RequestInit = {}): Promise<{ status: number; body: string }> {
    const response = await fetch(new URL(path, t.url), init);
    const body = await response.text();
    bodies.push(body);
    return { status: response.status, body };
  }

  it('refuses access_token in the query string of /graphql with 400 TOKEN_IN_URL', async () => {
    for (const path of [
      `/graphql?access_token=${secret}&query=${encodeURIComponent('{ me { email } }')}`,
      `/graphql?query=%7B__typename%7D&ACCESS_TOKEN=${secret}`,
      `/graphql?access%5Ftoken=${secret}`,
    ]) {
      const { status, body } = await call(path, { headers: { 'apollo-require-preflight': 'true' } });
      expect(status, path).toBe(400);
      const parsed = JSON.parse(body) as { errors: { message: string; extensions: { code: string } }[] };
      expect(parsed.errors[0]?.extensions.code).toBe('TOKEN_IN_URL');
      expect(parsed.errors[0]?.message).toContain('Authorization: Bearer');
    }
    // A POST with the token in the URL too, even with a valid Authorization header.
    const { status } = await call(`/graphql?access_token=${secret}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${session}` },
      body: JSON.stringify({ query: '{ me { email } }' }),
    });
    expect(status).toBe(400);
  });

  it('refuses token and access_token in the query string of /oauth/* with 400 invalid_request', async () => {
    for (const path of [`/oauth/introspect?token=${secret}`, `/oauth/revoke?token=${secret}`, `/oauth/revoke?access_token=${secret}`]) {
      const { status, body } = await call(path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'token=x',
      });
      expect(status, path).toBe(400);
      expect(JSON.parse(body)).toMatchObject({
        error: 'invalid_request',
        error_description: expect.stringContaining('form-urlencoded body'),
      });
    }
    // Refused before anything ran: the token still works.
    const me = await t.gql<{ me: { email: string } }>('{ me { email } }', { auth: secret });
    expect(me.body.data?.me.email).toBe('alice@example.com');
  });

  it('refuses a graphql-ws handshake with access_token in the URL', async () => {
    const socket = new WebSocket(`${t.url.replace(/^http/, 'ws')}?access_token=${secret}`, 'graphql-transport-ws');
    // Ending a refused handshake makes ws report an error; the status is what this test reads.
    socket.on('error', () => undefined);
    const status = await new Promise<number>((resolve) => {
      socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      socket.once('open', () => resolve(101));
    });
    socket.terminate();
    expect(status).toBe(400);
  });

  it('does not echo a token in a 404 or 405', async () => {
    // Refused whatever the method, before routing.
    expect((await call(`/oauth/introspect?token=${secret}`)).status).toBe(400);
    expect((await call(`/elsewhere?access_token=${secret}`)).status).toBe(404);
    expect((await call(`/graphql?token=${secret}`, { method: 'DELETE' })).status).toBe(405);
  });

  it('the token appears in no response body and no log line', () => {
    expect(logs.lines.length).toBeGreaterThan(10);
    // The log does show the requests, without their query strings.
    expect(logs.lines.some((line) => line.includes('"url":"/oauth/introspect?[redacted]"'))).toBe(true);
    for (const needle of [secret, secret.slice('own_'.length), secret.slice(-20)]) {
      expect(bodies.filter((body) => body.includes(needle))).toEqual([]);
      expect(logs.lines.filter((line) => line.includes(needle))).toEqual([]);
    }
  });

  it('redacts the query string of /oauth/* and of any URL naming a token', () => {
    expect(loggableUrl('/graphql?query=%7Bme%7D')).toBe('/graphql?query=%7Bme%7D');
    expect(loggableUrl('/graphql?access_token=own_x')).toBe('/graphql?[redacted]');
    expect(loggableUrl('/x?refresh%5Ftoken=y')).toBe('/x?[redacted]');
    expect(loggableUrl('/oauth/revoke?anything=1')).toBe('/oauth/revoke?[redacted]');
    expect(loggableUrl('/healthz')).toBe('/healthz');
  });
});

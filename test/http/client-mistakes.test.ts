import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestApp, type TestApp } from '../support/test-app.js';
import { LogCapture } from './log-capture.js';
import { codes, firstAnswer, rawSocket } from './raw-socket.js';

const LISTING = '{ apiTokens(filter: { expiringWithin: "P999999999D" }) { edges { cursor } } }';

describe('client mistakes are client errors', () => {
  const logs = new LogCapture();
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await startTestApp({}, { logger: logs.logger });
    admin = await t.session('admin@example.com');
  });
  afterEach(() => {
    // None of these is the server's fault: nothing may be logged as an error.
    expect(logs.errors()).toEqual([]);
  });
  afterAll(async () => {
    await t.stop();
  });

  it('an absurd duration is BAD_USER_INPUT, over HTTP and graphql-ws', async () => {
    const res = await t.gql(LISTING, { auth: admin });
    expect(res.status).toBe(200);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.expiringWithin' });
    const socket = await rawSocket(t.url, admin);
    const answer = await firstAnswer(socket, '1', LISTING);
    expect(JSON.stringify(answer.payload)).toContain('"code":"BAD_USER_INPUT"');
    await socket.close();
  });

  it('a subscription over HTTP is 405 with a clear message', async () => {
    const res = await t.gql('subscription { apiTokenEvents { id } }', { auth: admin });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, POST');
    expect(errorCode(res)).toBe('BAD_REQUEST');
    expect(res.body.errors?.[0]?.message).toContain('graphql-ws');
    expect(JSON.stringify(res.body)).not.toContain('"http"');
  });

  it('a persisted query with a wrong hash or version is BAD_REQUEST, an unknown one PERSISTED_QUERY_NOT_FOUND', async () => {
    const post = async (body: unknown) => {
      const response = await fetch(t.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
        body: JSON.stringify(body),
      });
      return {
        status: response.status,
        body: (await response.json()) as { errors?: { message: string; extensions?: { code?: string } }[] },
      };
    };
    const wrongHash = await post({ query: '{ me { email } }', extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } });
    expect(wrongHash.status).toBe(400);
    expect(wrongHash.body.errors?.[0]).toEqual({ message: 'provided sha does not match query', extensions: { code: 'BAD_REQUEST' } });
    const badVersion = await post({ extensions: { persistedQuery: { version: 2, sha256Hash: 'a'.repeat(64) } } });
    expect(badVersion.status).toBe(400);
    expect(badVersion.body.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    const unknown = await post({ extensions: { persistedQuery: { version: 1, sha256Hash: 'b'.repeat(64) } } });
    expect(unknown.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it.each([
    ['a `next` message, which only a server sends', { id: '1', type: 'next', payload: { data: {} } }],
    ['an `error` message', { id: '1', type: 'error', payload: [] }],
    ['`connection_ack` from the client', { type: 'connection_ack' }],
    ['an unknown message type', { type: 'hello' }],
    ['a message without a type', { id: '1' }],
    ['invalid JSON', '{"type": "subscribe"'],
    ['a JSON array', '[1, 2]'],
    ['a subscribe without a query', { id: '1', type: 'subscribe', payload: {} }],
  ])('graphql-ws closes with 4400 on %s', async (_name, frame) => {
    const socket = await rawSocket(t.url, admin);
    socket.send(frame);
    expect((await socket.closed).code).toBe(4400);
  });

  it('graphql-ws answers a syntax error with an error message and keeps the socket', async () => {
    const socket = await rawSocket(t.url, admin);
    const answer = await firstAnswer(socket, '1', '{ me { email ');
    expect(answer.type).toBe('error');
    expect(codes(answer)).toEqual(['GRAPHQL_PARSE_FAILED']);
    expect((await firstAnswer(socket, '2', '{ me { email } }')).payload).toEqual({ data: { me: { email: 'admin@example.com' } } });
    await socket.close();
  });

  it('graphql-ws answers an operationName that names no operation with OPERATION_RESOLUTION_FAILURE', async () => {
    const socket = await rawSocket(t.url, admin);
    socket.send({ id: '1', type: 'subscribe', payload: { query: 'query A { me { email } }', operationName: 'B' } });
    const answer = await socket.waitFor((m) => m.id === '1' && m.type === 'error');
    expect(codes(answer)).toEqual(['OPERATION_RESOLUTION_FAILURE']);
    await socket.close();
  });

  it('an unknown path is 404 without echoing the URL', async () => {
    const response = await fetch(new URL('/nowhere/own_marker?x=own_marker2', t.url));
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain('own_marker');
  });
});

import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/users/seed.js';
import { errorCode, startTestApp, TEST_SESSION_SECRET, type TestApp } from '../support/test-app.js';
import { doublingFragments } from './doubling.js';
import { codes, firstAnswer, rawSocket } from '../http/raw-socket.js';

const FULL_INTROSPECTION = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, inputValueDeprecation: true });
const messages = (payload: unknown) => JSON.stringify(payload);

describe('operation limits (development)', () => {
  let t: TestApp;
  let session: string;
  beforeAll(async () => {
    t = await startTestApp({ NODE_ENV: 'development' });
    session = await t.session('alice@example.com');
  });
  afterAll(async () => {
    await t.stop();
  });

  it.each([27, 40])('refuses %i levels of doubling fragments over HTTP and graphql-ws, and /healthz answers meanwhile', async (depth) => {
    const attack = () => t.gql(doublingFragments(depth));
    const [first, health, second] = await Promise.all([attack(), fetch(new URL('/healthz', t.url)), attack()]);
    expect(health.status).toBe(200);
    for (const res of [first, second]) {
      expect(res.status).toBe(400);
      expect(errorCode(res)).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(res.body.errors?.[0]?.message).toMatch(/^Query Cost limit of 20000 exceeded/);
    }

    const socket = await rawSocket(t.url, session);
    const answer = await firstAnswer(socket, '1', doublingFragments(depth));
    expect(answer.type).toBe('error');
    expect(codes(answer)[0]).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(messages(answer.payload)).toContain('Query Cost limit of 20000 exceeded');
    // The socket is still usable.
    expect((await firstAnswer(socket, '2', '{ me { email } }')).payload).toEqual({ data: { me: { email: 'alice@example.com' } } });
    await socket.close();
  });

  it('answers the standard introspection query, over HTTP and graphql-ws', async () => {
    const res = await t.gql<{ __schema: { types: unknown[] } }>(FULL_INTROSPECTION);
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.__schema.types.length).toBeGreaterThan(10);

    const socket = await rawSocket(t.url, session);
    const answer = await firstAnswer(socket, '1', getIntrospectionQuery());
    expect(answer.type).toBe('next');
    expect((answer.payload as { data?: { __schema?: { queryType?: unknown } } }).data?.__schema?.queryType).toEqual({
      name: 'Query',
      kind: 'OBJECT',
    });
    await socket.close();
  });

  it('refuses too many aliases, of __typename too, in the same words on both transports', async () => {
    const query = `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: __typename`).join(' ')} }`;
    const res = await t.gql(query);
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]).toMatchObject({
      message: 'Aliases limit of 15 exceeded, found 16.',
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
    const socket = await rawSocket(t.url, session);
    const answer = await firstAnswer(socket, '1', query);
    expect(answer).toMatchObject({
      type: 'error',
      payload: [{ message: 'Aliases limit of 15 exceeded, found 16.', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }],
    });
    await socket.close();
  });

  it('refuses a document over the token limit on both transports', async () => {
    const query = `{ me { ${'email '.repeat(1_000)} } }`;
    const res = await t.gql(query, { auth: session });
    expect(res.status).toBe(400);
    expect(errorCode(res)).toBe('GRAPHQL_PARSE_FAILED');
    expect(res.body.errors?.[0]?.message).toContain('more that 1000 tokens');
    const socket = await rawSocket(t.url, session);
    const answer = await firstAnswer(socket, '1', query);
    expect(codes(answer)).toEqual(['GRAPHQL_PARSE_FAILED']);
    await socket.close();
  });

  it.each([
    ['__typename repeated 500 times', `{ ${'__typename '.repeat(500)}}`, 'Fields limit of 200 exceeded, found 500.'],
    ['10 unknown directives', `{ __typename ${Array.from({ length: 10 }, (_, i) => `@d${i}`).join(' ')} }`, 'Unknown directive "@d0".'],
  ])('refuses %s with one error, no data, on both transports', async (_name, query, message) => {
    const res = await t.gql(query, { auth: session });
    expect(res.status).toBe(400);
    expect(res.body.data).toBeUndefined();
    expect(res.body.errors).toEqual([{ message, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }]);
    const socket = await rawSocket(t.url, session);
    const answer = await firstAnswer(socket, '1', query);
    expect(answer).toMatchObject({ type: 'error', payload: [{ message, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] });
    expect(answer.payload).toHaveLength(1);
    await socket.close();
    // A known directive, and fields within the limit, still run.
    const fine = await t.gql('{ me @include(if: true) { email } }', { auth: session });
    expect(fine.body).toEqual({ data: { me: { email: 'alice@example.com' } } });
  });

  it('suggests field names in development', async () => {
    const res = await t.gql('{ me { emial } }', { auth: session });
    expect(res.body.errors?.[0]?.message).toContain('Did you mean "email"?');
  });
});

describe('operation limits (production)', () => {
  let t: TestApp;
  let session: string;
  beforeAll(async () => {
    t = await startTestApp({ NODE_ENV: 'production', SESSION_SECRET: TEST_SESSION_SECRET });
    await seedDemo(t.running.orm, new Date());
    session = await t.session('alice@example.com');
  });
  afterAll(async () => {
    await t.stop();
  });

  it('refuses introspection over HTTP and graphql-ws, __typename aside', async () => {
    const res = await t.gql(getIntrospectionQuery(), { auth: session });
    expect(res.status).toBe(400);
    expect(errorCode(res)).toBe('GRAPHQL_VALIDATION_FAILED');
    const socket = await rawSocket(t.url, session);
    for (const [id, query] of [
      ['1', getIntrospectionQuery()],
      ['2', '{ __type(name: "User") { name } }'],
    ] as const) {
      const answer = await firstAnswer(socket, id, query);
      expect(answer.type).toBe('error');
      expect(codes(answer)[0]).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(messages(answer.payload)).toContain('introspection has been disabled');
    }
    expect((await firstAnswer(socket, '3', '{ __typename }')).payload).toEqual({ data: { __typename: 'Query' } });
    await socket.close();
  });

  it('hides "Did you mean" on both transports', async () => {
    const res = await t.gql('{ me { emial } }', { auth: session });
    expect(res.body.errors?.[0]?.message).toBe('Cannot query field "emial" on type "User".');
    const socket = await rawSocket(t.url, session);
    const answer = await firstAnswer(socket, '1', '{ me { emial } }');
    expect(answer.payload).toMatchObject([{ message: 'Cannot query field "emial" on type "User".' }]);
    const badEnum = await firstAnswer(
      socket,
      '2',
      'mutation($r: Role) { createUser(input: { email: "x@example.com", name: "x", role: $r }) { id } }',
      { r: 'ADMN' },
    );
    expect(messages(badEnum.payload)).not.toContain('Did you mean');
    await socket.close();
    const overHttp = await t.gql('mutation($r: Role) { createUser(input: { email: "x@example.com", name: "x", role: $r }) { id } }', {
      auth: session,
      variables: { r: 'ADMN' },
    });
    expect(overHttp.status).toBe(400);
    expect(messages(overHttp.body)).not.toContain('Did you mean');
  });
});

describe('GRAPHQL_INTROSPECTION=true in production', () => {
  it('answers the standard introspection query', async () => {
    const t = await startTestApp({ NODE_ENV: 'production', SESSION_SECRET: TEST_SESSION_SECRET, GRAPHQL_INTROSPECTION: 'true' });
    try {
      const res = await t.gql<{ __schema: { types: unknown[] } }>(getIntrospectionQuery());
      expect(res.status).toBe(200);
      expect(res.body.data?.__schema.types.length).toBeGreaterThan(10);
    } finally {
      await t.stop();
    }
  });
});

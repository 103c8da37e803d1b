import { ApolloClient, HttpLink, InMemoryCache, gql as apolloGql, type TypedDocumentNode } from '@apollo/client';
import { createClient, fetchExchange, gql as urqlGql } from '@urql/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';

const ME = '{ me { email } }';
const ME_DOCUMENT: TypedDocumentNode<{ me: { email: string } }> = apolloGql(ME);

/**
 * The GraphQL clients front-end developers reach for, each with its defaults:
 * urql sends queries as GraphQL-over-HTTP GET, Apollo Client and
 * graphql-request POST JSON. Each must get its data.
 */
describe('GraphQL clients with their defaults', () => {
  let t: TestApp;
  let session: string;
  beforeAll(async () => {
    t = await startTestApp();
    session = await t.session('alice@example.com');
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('urql (@urql/core 6): a query goes as GET and answers', async () => {
    const seen: string[] = [];
    const client = createClient({
      url: t.url,
      exchanges: [fetchExchange],
      fetchOptions: () => ({ headers: { authorization: `Bearer ${session}` } }),
      // Only to observe the method urql chose; the request is urql's own.
      fetch: (input, init) => {
        seen.push(init?.method ?? 'GET');
        return fetch(input, init);
      },
    });
    const result = await client.query(urqlGql(ME), {}).toPromise();
    expect(seen).toEqual(['GET']);
    expect(result.error).toBeUndefined();
    expect(result.data).toEqual({ me: { email: 'alice@example.com' } });
  });

  it('urql: a mutation goes as POST and answers', async () => {
    const client = createClient({
      url: t.url,
      exchanges: [fetchExchange],
      fetchOptions: () => ({ headers: { authorization: `Bearer ${session}` } }),
    });
    const result = await client.mutation(urqlGql('mutation { revokeApiToken { tokenId } }'), {}).toPromise();
    // Alice has no token: the resolver answered, so the request was not refused.
    expect(result.error?.graphQLErrors[0]?.extensions['code']).toBe('API_TOKEN_NOT_FOUND');
  });

  it('Apollo Client 4: a query (POST) answers', async () => {
    const client = new ApolloClient({
      link: new HttpLink({ uri: t.url, headers: { authorization: `Bearer ${session}` } }),
      cache: new InMemoryCache(),
    });
    const result = await client.query({ query: ME_DOCUMENT });
    expect(result.data?.me.email).toBe('alice@example.com');
    client.stop();
  });

  it('Apollo Client 4 with useGETForQueries: a query answers', async () => {
    const client = new ApolloClient({
      link: new HttpLink({ uri: t.url, headers: { authorization: `Bearer ${session}` }, useGETForQueries: true }),
      cache: new InMemoryCache(),
    });
    const result = await client.query({ query: ME_DOCUMENT });
    expect(result.data?.me.email).toBe('alice@example.com');
    client.stop();
  });

  it('graphql-request style: a plain fetch POST of JSON answers', async () => {
    const res = await fetch(t.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        authorization: `Bearer ${session}`,
      },
      body: JSON.stringify({ query: ME }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { me: { email: 'alice@example.com' } } });
  });
});

describe('GraphQL-over-HTTP GET', () => {
  let t: TestApp;
  let auth: string;
  beforeAll(async () => {
    t = await startTestApp();
    auth = `Bearer ${await t.session('alice@example.com')}`;
  });
  afterAll(async () => {
    await t?.stop();
  });

  const get = (query: string, headers: Record<string, string>) => fetch(`${t.url}?query=${encodeURIComponent(query)}`, { headers });

  it('answers a query that carries Authorization, with nothing else', async () => {
    const res = await get(ME, { authorization: auth });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { me: { email: 'alice@example.com' } } });
  });

  it('refuses a mutation over GET with 405, and runs nothing', async () => {
    const res = await get('mutation { generateApiToken { secret } }', { authorization: auth, accept: 'application/json' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    const body = (await res.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe('BAD_REQUEST');
    expect(body.errors[0]?.message).toBe('GET requests only support query operations, not mutation operations');
    const after = await t.gql('{ myApiToken { id } }', { auth: auth.slice('Bearer '.length) });
    expect(after.body.data).toEqual({ myApiToken: null });
  });

  it('still refuses a GET a cross-site page could send without a preflight (no Authorization, no preflight header)', async () => {
    const res = await get(ME, { accept: 'application/json' });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe('BAD_REQUEST');
    expect(body.errors[0]?.message).toContain('authorization');
  });
});

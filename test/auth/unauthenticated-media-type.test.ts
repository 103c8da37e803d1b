import { ApolloClient, CombinedGraphQLErrors, HttpLink, InMemoryCache, ServerError, gql } from '@apollo/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphQLResponseType } from '../../src/http/accept.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const BAD_TOKEN = 'own_thisIsNotARealTokenButLooksLikeOneAtAll0000';

describe('401 for a bad bearer credential honours Accept', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.stop();
  });

  async function post(accept: string | null): Promise<Response> {
    return fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${BAD_TOKEN}`, ...(accept ? { accept } : {}) },
      body: JSON.stringify({ query: '{ me { email } }' }),
    });
  }

  it('answers application/graphql-response+json to a client that prefers it, application/json otherwise', async () => {
    const modern = await post('application/graphql-response+json, application/json;q=0.9');
    expect(modern.status).toBe(401);
    expect(modern.headers.get('content-type')).toBe('application/graphql-response+json; charset=utf-8');
    expect(modern.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token", error_description="/);
    expect(await modern.json()).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });

    for (const accept of [null, 'application/json', '*/*', 'application/json, application/graphql-response+json']) {
      const legacy = await post(accept);
      expect(legacy.status).toBe(401);
      expect(legacy.headers.get('content-type'), String(accept)).toBe('application/json; charset=utf-8');
      await legacy.body?.cancel();
    }
  });

  it('lets Apollo Client 4 surface extensions.code UNAUTHENTICATED instead of a bare HTTP error', async () => {
    const client = new ApolloClient({
      link: new HttpLink({ uri: t.url, headers: { authorization: `Bearer ${BAD_TOKEN}` } }),
      cache: new InMemoryCache(),
    });
    const error = await client
      .query({
        query: gql`
          {
            me {
              email
            }
          }
        `,
      })
      .then(
        () => null,
        (caught: unknown) => caught,
      );
    expect(ServerError.is(error)).toBe(false);
    expect(CombinedGraphQLErrors.is(error)).toBe(true);
    if (!CombinedGraphQLErrors.is(error)) return;
    expect(error.errors[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    client.stop();
  });

  it('negotiates by q-value, with application/json winning a tie', () => {
    expect(graphQLResponseType('application/graphql-response+json')).toContain('graphql-response');
    expect(graphQLResponseType('application/json;q=0.5, application/graphql-response+json')).toContain('graphql-response');
    expect(graphQLResponseType('application/graphql-response+json;q=0.5, application/json')).toContain('application/json');
    expect(graphQLResponseType('text/html')).toContain('application/json');
    expect(graphQLResponseType('application/*')).toContain('application/json');
  });
});

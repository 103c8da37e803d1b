import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiToken } from '../../src/tokens/api-token.entity.js';
import { errorCode, startTestApp, TEST_SESSION_SECRET, type TestApp } from '../support/test-app.js';

interface TypeRef {
  kind: string;
  name: string | null;
  ofType: TypeRef | null;
}
interface RootField {
  name: string;
  args: { name: string; type: TypeRef }[];
  type: TypeRef;
}

const ROOT_FIELDS = `{
  __schema {
    queryType { fields { ...F } }
    mutationType { fields { ...F } }
  }
}
fragment F on __Field { name args { name type { ...T } } type { ...T } }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }`;

const named = (type: TypeRef): TypeRef => (type.ofType ? named(type.ofType) : type);

/** A literal for a required scalar argument, so every field can be called; null when we cannot make one up. */
function literal(type: TypeRef): string | null {
  const base = named(type);
  if (base.kind === 'ENUM') return null;
  switch (base.name) {
    case 'ID':
      return '"00000000-0000-4000-8000-000000000000"';
    case 'String':
      return '"x"';
    case 'Int':
    case 'Float':
      return '1';
    case 'Boolean':
      return 'true';
    default:
      return null;
  }
}

/** `field(args) { __typename }`: the smallest valid call of a root field. */
function call(field: RootField): string | null {
  const args: string[] = [];
  for (const arg of field.args) {
    if (arg.type.kind !== 'NON_NULL') continue;
    const value = literal(arg.type);
    if (value === null) return null;
    args.push(`${arg.name}: ${value}`);
  }
  const selection = ['OBJECT', 'INTERFACE', 'UNION'].includes(named(field.type).kind) ? ' { __typename }' : '';
  return `${field.name}${args.length ? `(${args.join(', ')})` : ''}${selection}`;
}

describe('without credentials (development)', () => {
  let t: TestApp;
  let queries: RootField[] = [];
  let mutations: RootField[] = [];
  beforeAll(async () => {
    t = await startTestApp();
    const res = await t.gql<{ __schema: { queryType: { fields: RootField[] }; mutationType: { fields: RootField[] } } }>(ROOT_FIELDS);
    queries = res.body.data?.__schema.queryType.fields ?? [];
    mutations = res.body.data?.__schema.mutationType.fields ?? [];
  });
  afterAll(async () => {
    await t.stop();
  });

  it('introspection works', async () => {
    const res = await t.gql<{ __schema: { types: unknown[] } }>(getIntrospectionQuery());
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.__schema.types.length).toBeGreaterThan(10);
    expect(queries.map((f) => f.name)).toEqual(expect.arrayContaining(['me', 'myApiToken', 'apiTokenPolicy']));
    expect(mutations.map((f) => f.name)).toEqual(expect.arrayContaining(['generateApiToken', 'regenerateApiToken', 'revokeApiToken']));
  });

  it('every query answers UNAUTHENTICATED', async () => {
    for (const field of queries) {
      const selection = call(field);
      if (selection === null) continue;
      const res = await t.gql(`{ ${selection} }`);
      expect(errorCode(res), field.name).toBe('UNAUTHENTICATED');
      // A nullable field answers `{ field: null }` next to the error; nothing is ever revealed.
      expect(Object.values(res.body.data ?? {}), field.name).toEqual(res.body.data ? [null] : []);
    }
  });

  it('every mutation answers UNAUTHENTICATED and changes nothing', async () => {
    for (const field of mutations) {
      const selection = call(field);
      if (selection === null) continue;
      const res = await t.gql(`mutation { ${selection} }`);
      expect(errorCode(res), field.name).toBe('UNAUTHENTICATED');
      expect(res.body.data ?? null, field.name).toBeNull();
    }
    expect(await t.running.orm.em.fork().count(ApiToken, {})).toBe(0);
  });

  it('an operation mixing introspection and data is refused', async () => {
    const res = await t.gql('{ __typename me { email } }');
    expect(errorCode(res)).toBe('UNAUTHENTICATED');
  });
});

describe('without credentials (NODE_ENV=production)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ NODE_ENV: 'production', SESSION_SECRET: TEST_SESSION_SECRET });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('introspection is refused', async () => {
    for (const query of [getIntrospectionQuery(), '{ __schema { types { name } } }', '{ __type(name: "ApiToken") { name } }']) {
      const res = await t.gql(query);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(errorCode(res)).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(res.body.data ?? null).toBeNull();
    }
  });

  it('operations answer UNAUTHENTICATED', async () => {
    for (const query of ['{ me { email } }', '{ myApiToken { id } }', 'mutation { generateApiToken { secret } }']) {
      expect(errorCode(await t.gql(query)), query).toBe('UNAUTHENTICATED');
    }
  });
});

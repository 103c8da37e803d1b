import { getIntrospectionQuery, parse, type GraphQLSchema } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { checkOperation, type OperationLimits } from '../../src/http/operation-limits.js';
import { buildAppSchema } from '../../src/schema.js';
import { doublingFragments } from './doubling.js';

const DEFAULTS: OperationLimits = loadConfig({}).operationLimits;
const FULL_INTROSPECTION = getIntrospectionQuery({
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
});

let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildAppSchema();
});

function refusals(query: string, limits: Partial<OperationLimits> = {}): string[] {
  const { errors } = checkOperation({ ...DEFAULTS, ...limits }, schema, query);
  return (errors ?? []).map((error) => `${String(error.extensions['code'])}: ${error.message}`);
}

const aliases = (n: number, field = 'id') => Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ');

describe('operation limits', () => {
  it('has safe defaults', () => {
    expect(DEFAULTS).toEqual({
      maxDepth: 15,
      maxAliases: 15,
      maxDirectives: 50,
      maxTokens: 1000,
      maxFields: 200,
      maxCost: 20_000,
      introspection: true,
      hideSuggestions: false,
    });
    expect(loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(32) }).operationLimits).toMatchObject({
      introspection: false,
      hideSuggestions: true,
    });
    expect(
      loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(32), GRAPHQL_INTROSPECTION: 'true' }).operationLimits.introspection,
    ).toBe(true);
  });

  it.each([27, 40])('refuses %i levels of doubling fragments by their cost, without expanding them', (depth) => {
    expect(refusals(doublingFragments(depth))).toEqual([
      expect.stringMatching(/^GRAPHQL_VALIDATION_FAILED: Query Cost limit of 20000 exceeded, found \d/),
      expect.stringMatching(/^GRAPHQL_VALIDATION_FAILED: Query Cost limit of 120000 exceeded/),
    ]);
  });

  it('counts aliases, of __typename too', () => {
    expect(refusals(`{ me { ${aliases(15)} } }`)).toEqual([]);
    expect(refusals(`{ me { ${aliases(16)} } }`)).toEqual(['GRAPHQL_VALIDATION_FAILED: Aliases limit of 15 exceeded, found 16.']);
    expect(refusals(`{ ${aliases(16, '__typename')} }`)).toEqual(['GRAPHQL_VALIDATION_FAILED: Aliases limit of 15 exceeded, found 16.']);
    // Through fragments, counted at every spread.
    expect(refusals(`{ me { ...A ...B } } fragment A on User { ${aliases(8)} } fragment B on User { ...A }`)).toEqual([
      'GRAPHQL_VALIDATION_FAILED: Aliases limit of 15 exceeded, found 16.',
    ]);
  });

  it('limits depth, not counting fragments as a level', () => {
    const query = '{ apiTokens { edges { node { user { businessUnits { name } } } } } }';
    expect(refusals(query, { maxDepth: 6 })).toEqual([]);
    expect(refusals(query, { maxDepth: 5 })).toEqual(['GRAPHQL_VALIDATION_FAILED: Query depth limit of 5 exceeded, found 6.']);
    expect(refusals('{ ...Q } fragment Q on Query { me { ...U } } fragment U on User { id }', { maxDepth: 2 })).toEqual([]);
  });

  it('limits directives', () => {
    const directives = Array.from({ length: 51 }, () => '@include(if: true)').join(' ');
    expect(refusals(`{ me { id ${directives} } }`)).toContain('GRAPHQL_VALIDATION_FAILED: Directives limit of 50 exceeded, found 51.');
  });

  it('refuses a document over the token limit while parsing it', () => {
    const many = `{ me { id } } ${'# x\n'.repeat(10)}` + `query Q { me { ${'id '.repeat(1000)} } }`;
    expect(refusals(many)).toEqual([expect.stringMatching(/^GRAPHQL_PARSE_FAILED: Syntax Error: Document contains more that 1000 tokens/)]);
  });

  it('limits cost, with `first` as a multiplier', () => {
    const page = (first: number) =>
      `{ apiTokens(first: ${first}) { edges { cursor node { id hint createdAt expiresAt lastUsedAt lastUsedRegion user { id email name role active apiTokensEnabled businessUnits { id name } } } } pageInfo { hasNextPage endCursor } } }`;
    // The largest page the service serves, with every field, passes the default.
    expect(refusals(page(100))).toEqual([]);
    expect(refusals(page(100), { maxCost: 1000 })).toEqual([
      expect.stringMatching(/^GRAPHQL_VALIDATION_FAILED: Query Cost limit of 1000 exceeded, found \d/),
    ]);
  });

  it("passes explorers' standard introspection query, and only one copy of it", () => {
    expect(refusals(FULL_INTROSPECTION)).toEqual([]);
    expect(refusals(getIntrospectionQuery())).toEqual([]);
    const twice = FULL_INTROSPECTION.replace('__schema {', 'a: __schema { queryType { name } } b: __schema {');
    expect(
      refusals(`${twice.replace('query IntrospectionQuery {', 'query IntrospectionQuery { c: __schema { ...Everything }')}
      fragment Everything on __Schema { types { ...FullType } directives { name args { ...InputValue } } }`),
    ).toEqual([expect.stringMatching(/Query Cost limit of 120000 exceeded/)]);
  });

  it('bounds introspection depth: nested type lists are refused (graphql) and deep chains too (armor)', () => {
    expect(refusals('{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }')).toEqual([
      'GRAPHQL_VALIDATION_FAILED: Maximum introspection depth exceeded',
    ]);
    const chain = `{ __type(name: "User") { ${'ofType { '.repeat(15)}name${' }'.repeat(15)} } }`;
    expect(refusals(chain)).toEqual([expect.stringMatching(/Query depth limit of 15 exceeded, found 17/)]);
  });

  it('refuses introspection when it is off, __typename aside', () => {
    expect(refusals('{ __schema { queryType { name } } }', { introspection: false })[0]).toMatch(
      /^GRAPHQL_VALIDATION_FAILED: GraphQL introspection has been disabled, but the requested query contained the field "__schema"/,
    );
    expect(refusals('{ __typename }', { introspection: false })).toEqual([]);
  });

  it('hides "Did you mean" when asked to', () => {
    expect(refusals('{ me { emial } }')).toEqual([
      'GRAPHQL_VALIDATION_FAILED: Cannot query field "emial" on type "User". Did you mean "email"?',
    ]);
    expect(refusals('{ me { emial } }', { hideSuggestions: true })).toEqual([
      'GRAPHQL_VALIDATION_FAILED: Cannot query field "emial" on type "User".',
    ]);
  });

  it('answers a syntax error instead of throwing', () => {
    expect(refusals('{ me { email ')).toEqual([expect.stringMatching(/^GRAPHQL_PARSE_FAILED: Syntax Error/)]);
    expect(parse('{ me { email } }').kind).toBe('Document');
  });
});

import { buildSchema, getIntrospectionQuery, parse, specifiedRules, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { fieldLimitRule } from '../../src/http/field-limit.js';

const schema = buildSchema(`
  type Unit { id: ID! name: String! }
  type User { id: ID! units: [Unit!]! }
  type Query { me: User! }
`);

function errors(query: string, max: number): string[] {
  return validate(schema, parse(query), [...specifiedRules, fieldLimitRule(max)]).map((e) => e.message);
}

const aliases = (n: number) => Array.from({ length: n }, (_, i) => `a${i}: id`).join(' ');

describe('fieldLimitRule', () => {
  it('accepts an operation at the limit and refuses one past it', () => {
    expect(errors(`{ me { ${aliases(9)} } }`, 10)).toEqual([]); // me + 9
    expect(errors(`{ me { ${aliases(10)} } }`, 10)).toEqual([
      'This operation selects more than 10 fields; split it into smaller ones.',
    ]);
  });

  it('counts fragments at every spread and inline fragments too', () => {
    const query = `
      query { a: me { ...F } b: me { ...F } c: me { ... on User { id } } }
      fragment F on User { id units { id name } }`;
    // a, b: 1 + 4 each; c: 1 + 1
    expect(errors(query, 12)).toEqual([]);
    expect(errors(query, 11)).toHaveLength(1);
  });

  it("does not count introspection, so explorers' standard introspection query passes", () => {
    const query = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, inputValueDeprecation: true });
    expect(errors(query, 10)).toEqual([]);
    expect(errors(`{ __typename me { __typename id } }`, 2)).toEqual([]);
  });

  it('stops on cyclic fragments (graphql reports the cycle itself)', () => {
    const query = `{ me { ...A } } fragment A on User { id ...B } fragment B on User { ...A }`;
    const messages = errors(query, 50);
    expect(messages.some((m) => m.includes('Cannot spread fragment'))).toBe(true);
    expect(messages.some((m) => m.includes('more than'))).toBe(false);
  });
});

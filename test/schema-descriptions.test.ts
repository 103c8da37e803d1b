import { readFile } from 'node:fs/promises';
import {
  buildSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isIntrospectionType,
  isObjectType,
  isSpecifiedScalarType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildAppSchema } from '../src/schema.js';

/** Every type, field, argument and enum value of the committed schema that has no description. */
function undescribed(schema: GraphQLSchema): string[] {
  const missing: string[] = [];
  const need = (description: string | null | undefined, where: string) => {
    if (!description?.trim()) missing.push(where);
  };
  for (const type of Object.values(schema.getTypeMap())) {
    if (isIntrospectionType(type) || isSpecifiedScalarType(type)) continue;
    const rootType = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].includes(type as never);
    if (!rootType) need(type.description, type.name);
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        need(field.description, `${type.name}.${field.name}`);
        for (const arg of field.args) need(arg.description, `${type.name}.${field.name}(${arg.name})`);
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) need(field.description, `${type.name}.${field.name}`);
    } else if (isEnumType(type)) {
      for (const value of type.getValues()) need(value.description, `${type.name}.${value.name}`);
    }
  }
  return missing;
}

describe('schema.graphql documentation', () => {
  it('describes every type, field, argument and enum value (Query, Mutation and Subscription are described by their fields)', async () => {
    const schema = buildSchema(await readFile(new URL('../schema.graphql', import.meta.url), 'utf8'));
    expect(undescribed(schema)).toEqual([]);
  });

  it('lists arguments in the order the resolvers declare them', async () => {
    const mutation = (await buildAppSchema()).getMutationType()?.getFields();
    expect(mutation?.['updateUser']?.args.map((arg) => arg.name)).toEqual(['id', 'input']);
    expect(mutation?.['setApiTokenAccess']?.args.map((arg) => arg.name)).toEqual(['userId', 'enabled', 'reason']);
  });

  it('types lifetimeDays as whole days, and audit actions and actor kinds as enums', async () => {
    const schema = await buildAppSchema();
    const policy = (schema.getType('ApiTokenPolicy') as GraphQLObjectType).getFields();
    expect(String(policy['lifetimeDays']?.type)).toBe('Int!');
    const audit = (schema.getType('AuditEvent') as GraphQLObjectType).getFields();
    expect(String(audit['action']?.type)).toBe('AuditAction!');
    expect(String(audit['actorKind']?.type)).toBe('ActorKind!');
  });
});

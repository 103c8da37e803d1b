import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import type { TokenPubSub } from '../events/event-bus.js';
import { ApiTokenResolver } from '../tokens/api-token.resolver.js';
import { MeResolver } from '../users/me.resolver.js';

export const resolvers = [ApiTokenResolver, MeResolver] as const;

/** The GraphQL schema; `schema.graphql` is this, printed. */
export async function buildAppSchema(pubSub: TokenPubSub): Promise<GraphQLSchema> {
  return buildSchema({ resolvers, pubSub, validate: false, emitSchemaFile: false });
}

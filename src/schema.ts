import type { GraphQLSchema } from 'graphql';
import { buildSchema, getMetadataStorage, type PubSub } from 'type-graphql';
import { ApiTokenEventsResolver } from './events/api-token-events.resolver.js';
import { ApiTokenResolver } from './tokens/api-token.resolver.js';
import { AdminQueriesResolver } from './admin/admin-queries.resolver.js';
import { AdminResolver } from './admin/admin.resolver.js';
import { MeResolver } from './users/me.resolver.js';

const resolvers = [ApiTokenResolver, MeResolver, ApiTokenEventsResolver, AdminResolver, AdminQueriesResolver] as const;

/**
 * type-graphql insists on a PubSub when a schema has subscriptions, even one
 * like ours whose `subscribe` streams from the TokenEventHub (it needs replay
 * before live, which topic subscriptions cannot do). This one refuses use.
 */
const unusedPubSub: PubSub = {
  publish: () => {
    throw new Error('publish through the TokenEventHub');
  },
  subscribe: () => {
    throw new Error('subscribe through the TokenEventHub');
  },
};

let built: Promise<GraphQLSchema> | undefined;

/**
 * The GraphQL schema; `schema.graphql` is this, printed. It depends on the code
 * alone (resolvers reach their services through the context), so a process
 * builds it once, however many apps it starts (the tests start about 170).
 */
export function buildAppSchema(): Promise<GraphQLSchema> {
  if (built) return built;
  const attempt = Promise.resolve().then(() => {
    // Parameter decorators run last to first, so type-graphql records (and would
    // print) a field's arguments in reverse. Its resolvers order parameters by
    // index too, so sorting here only fixes the order clients see.
    getMetadataStorage().params.sort((a, b) => a.index - b.index);
    return buildSchema({ resolvers, pubSub: unusedPubSub, validate: false, emitSchemaFile: false });
  });
  built = attempt;
  // A failed build is not kept: the next start tries again.
  attempt.catch(() => {
    if (built === attempt) built = undefined;
  });
  return attempt;
}

import { Arg, Ctx, ID, Query, Resolver, Root, Subscription } from 'type-graphql';
import { type GraphQLContext } from '../context.js';
import { requirePrincipal } from '../auth/guards.js';
import { ApiTokenEvent } from './api-token-event.type.js';
import type { TokenEventMessage } from './token-event.js';

@Resolver()
export class ApiTokenEventsResolver {
  @Query(() => ID, {
    description:
      'The id of your newest token event now ("0": none yet). Read it before the state you show, then subscribe to `apiTokenEvents` with it as `after`: what happens after this read is replayed, however late the subscription reaches the service.',
  })
  latestApiTokenEventId(@Ctx() ctx: GraphQLContext): Promise<string> {
    return ctx.services.events.latest(requirePrincipal(ctx).userId);
  }

  @Subscription(() => ApiTokenEvent, {
    description:
      'Your own token events, live. With `after`, first replays the stored events after that id, so a client that reconnects misses nothing.',
    subscribe: ({ args, context }) => {
      const ctx = context as GraphQLContext;
      const after = (args as { after?: string | null }).after ?? null;
      return ctx.services.events.stream(requirePrincipal(ctx).userId, after);
    },
  })
  apiTokenEvents(
    @Root() event: TokenEventMessage,
    @Arg('after', () => ID, { nullable: true, description: 'The last event id you saw.' }) _after?: string | null,
  ): ApiTokenEvent {
    return ApiTokenEvent.of(event);
  }
}

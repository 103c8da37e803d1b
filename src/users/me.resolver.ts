import { Ctx, Query, Resolver } from 'type-graphql';
import { type GraphQLContext } from '../context.js';
import { requirePrincipal } from '../auth/guards.js';
import { UserView } from './user.types.js';

@Resolver()
export class MeResolver {
  /** Answered from the principal this request resolved: it is the user's current state, with no second read. */
  @Query(() => UserView, { description: 'You, with your current role and business units.' })
  me(@Ctx() ctx: GraphQLContext): UserView {
    return UserView.ofPrincipal(requirePrincipal(ctx));
  }
}

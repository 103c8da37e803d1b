import { Ctx, Query, Resolver } from 'type-graphql';
import { UnauthenticatedError } from '../errors.js';
import { requirePrincipal, type GraphQLContext } from '../auth/context.js';
import { UserView } from './user.types.js';

@Resolver()
export class MeResolver {
  @Query(() => UserView, { description: 'You, with your current role and business units.' })
  async me(@Ctx() ctx: GraphQLContext): Promise<UserView> {
    const user = await ctx.services.users.findActive(requirePrincipal(ctx).userId);
    if (!user) throw new UnauthenticatedError();
    return UserView.of(user);
  }
}

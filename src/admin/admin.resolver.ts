import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { requirePrincipal, type GraphQLContext } from '../auth/context.js';
import { RevokedApiToken } from '../tokens/api-token.types.js';
import { CreateUserInput, UpdateUserInput } from './admin.inputs.js';
import { onInputArgument } from './graphql-fields.js';
import { BusinessUnitView, UserView } from '../users/user.types.js';

/** Admin and support mutations; the rules live in AdminService and TokenControls. */
@Resolver()
export class AdminResolver {
  @Mutation(() => BusinessUnitView, { description: 'ADMIN: adds a business unit to your organisation.' })
  async createBusinessUnit(@Ctx() ctx: GraphQLContext, @Arg('name') name: string): Promise<BusinessUnitView> {
    const unit = await ctx.services.admin.users.createBusinessUnit(requirePrincipal(ctx), name);
    return { id: unit.id, name: unit.name };
  }

  @Mutation(() => UserView, { description: 'ADMIN: adds a user to your organisation.' })
  async createUser(@Ctx() ctx: GraphQLContext, @Arg('input') input: CreateUserInput): Promise<UserView> {
    const principal = requirePrincipal(ctx);
    const { email, name, role, businessUnitIds } = input;
    const user = await onInputArgument(['email', 'name', 'role', 'businessUnitIds'], () =>
      ctx.services.admin.users.createUser(principal, { email, name, role, businessUnitIds }),
    );
    return UserView.of(user);
  }

  @Mutation(() => UserView, {
    description: 'ADMIN: changes a user of your organisation. Role and units apply to their next request, token included.',
  })
  async updateUser(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID) id: string,
    @Arg('input') input: UpdateUserInput,
  ): Promise<UserView> {
    const principal = requirePrincipal(ctx);
    const { name, role, businessUnitIds } = input;
    const user = await onInputArgument(['name', 'role', 'businessUnitIds'], () =>
      ctx.services.admin.users.updateUser(principal, id, { name, role, businessUnitIds }),
    );
    return UserView.of(user);
  }

  @Mutation(() => UserView, {
    description: 'ADMIN: deactivates a user of your organisation; their sessions and token stop working at once.',
  })
  async deactivateUser(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<UserView> {
    return UserView.of(await ctx.services.admin.users.deactivateUser(requirePrincipal(ctx), id));
  }

  @Mutation(() => UserView, {
    description:
      'SUPPORT, or ADMIN in their organisation: turns API tokens off (revoking the current one) or back on for a user.',
  })
  async setApiTokenAccess(
    @Ctx() ctx: GraphQLContext,
    @Arg('userId', () => ID) userId: string,
    @Arg('enabled') enabled: boolean,
    @Arg('reason', () => String, { nullable: true, description: 'Shown to the user when tokens are off.' })
    reason?: string | null,
  ): Promise<UserView> {
    const user = await ctx.services.admin.tokens.setApiTokenAccess(requirePrincipal(ctx), userId, enabled, reason);
    return UserView.of(user);
  }

  @Mutation(() => RevokedApiToken, { description: 'SUPPORT, or ADMIN in their organisation: revokes a user’s API token.' })
  async revokeUserApiToken(
    @Ctx() ctx: GraphQLContext,
    @Arg('userId', () => ID) userId: string,
    @Arg('reason', () => String, { nullable: true }) reason?: string | null,
  ): Promise<RevokedApiToken> {
    return ctx.services.admin.tokens.revokeUserApiToken(requirePrincipal(ctx), userId, reason);
  }
}

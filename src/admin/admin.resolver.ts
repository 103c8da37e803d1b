import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { type GraphQLContext } from '../context.js';
import { requirePrincipal } from '../auth/guards.js';
import { RevokedApiToken } from '../tokens/api-token.types.js';
import { CreateUserInput, UpdateUserInput } from './admin.inputs.js';
import { onInputArgument } from './graphql-fields.js';
import { BusinessUnitView, UserView } from '../users/user.types.js';

/** Admin and support mutations; the rules live in AdminService and TokenControls. */
@Resolver()
export class AdminResolver {
  @Mutation(() => BusinessUnitView, { description: 'ADMIN: adds a business unit to your organisation.' })
  async createBusinessUnit(
    @Ctx() ctx: GraphQLContext,
    @Arg('name', { description: 'Unique within your organisation.' }) name: string,
  ): Promise<BusinessUnitView> {
    const unit = await ctx.services.admin.users.createBusinessUnit(requirePrincipal(ctx), name);
    return { id: unit.id, name: unit.name };
  }

  @Mutation(() => UserView, { description: 'ADMIN: adds a user to your organisation.' })
  async createUser(@Ctx() ctx: GraphQLContext, @Arg('input', { description: 'The new user.' }) input: CreateUserInput): Promise<UserView> {
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
    @Arg('id', () => ID, { description: 'The user to change.' }) id: string,
    @Arg('input', { description: 'The changes; fields left out stay as they are.' }) input: UpdateUserInput,
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
  async deactivateUser(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID, { description: 'The user to deactivate.' }) id: string,
  ): Promise<UserView> {
    return UserView.of(await ctx.services.admin.users.deactivateUser(requirePrincipal(ctx), id));
  }

  @Mutation(() => UserView, {
    description: 'SUPPORT, or ADMIN in their organisation: turns API tokens off (revoking the current one) or back on for a user.',
  })
  async setApiTokenAccess(
    @Ctx() ctx: GraphQLContext,
    @Arg('userId', () => ID, { description: 'The user whose API token access changes.' }) userId: string,
    @Arg('enabled', { description: 'False turns API tokens off and revokes the current one; true turns them back on.' }) enabled: boolean,
    @Arg('reason', () => String, { nullable: true, description: 'Shown to the user when tokens are off.' })
    reason?: string | null,
  ): Promise<UserView> {
    const user = await ctx.services.admin.tokens.setApiTokenAccess(requirePrincipal(ctx), userId, enabled, reason);
    return UserView.of(user);
  }

  @Mutation(() => RevokedApiToken, { description: 'SUPPORT, or ADMIN in their organisation: revokes a user’s API token.' })
  async revokeUserApiToken(
    @Ctx() ctx: GraphQLContext,
    @Arg('userId', () => ID, { description: 'The user whose token to revoke.' }) userId: string,
    @Arg('reason', () => String, { nullable: true, description: 'Why; recorded in the audit trail and told to the user.' })
    reason?: string | null,
  ): Promise<RevokedApiToken> {
    return ctx.services.admin.tokens.revokeUserApiToken(requirePrincipal(ctx), userId, reason);
  }
}

import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { actorOf } from '../audit/actor.js';
import { DAY_MS } from '../duration.js';
import { type GraphQLContext } from '../context.js';
import { requirePrincipal, requireSession } from '../auth/guards.js';
import { ApiTokenPolicy, ApiTokenView, GeneratedApiToken, RevokedApiToken } from './api-token.types.js';

/**
 * Every minting (generate, regenerate) spends one of the user's
 * `RATE_LIMIT_TOKEN_CHANGES`, attempts that fail included: each is a
 * transaction, and the successful ones send email. A revoke spends nothing:
 * it is the safety action and must work when the budget is gone. It needs
 * no budget of its own, since it succeeds (and mails) only when there is a
 * token, and every token was minted within the budget.
 */
@Resolver()
export class ApiTokenResolver {
  @Query(() => ApiTokenView, { nullable: true, description: 'Your API token, without its secret; null when you have none.' })
  async myApiToken(@Ctx() ctx: GraphQLContext): Promise<ApiTokenView | null> {
    return ctx.services.tokens.current(requirePrincipal(ctx).userId);
  }

  @Query(() => ApiTokenPolicy, { description: 'The rules for your API token: lifetime, warnings, regions, and whether you may have one.' })
  async apiTokenPolicy(@Ctx() ctx: GraphQLContext): Promise<ApiTokenPolicy> {
    const principal = requirePrincipal(ctx);
    const user = await ctx.services.users.findActive(principal.userId);
    const { tokenLifetime, expiryWarnings, regions } = ctx.services.config;
    return Object.assign(new ApiTokenPolicy(), {
      lifetime: tokenLifetime.iso,
      lifetimeDays: Math.floor(tokenLifetime.ms / DAY_MS),
      warnings: expiryWarnings.map((w) => w.iso),
      warningDays: expiryWarnings.map((w) => w.ms / DAY_MS),
      regions: [...regions],
      tokensEnabled: user?.apiTokensEnabled ?? false,
      disabledReason: user && !user.apiTokensEnabled ? (user.apiTokensDisabledReason ?? 'Disabled by support.') : null,
    });
  }

  @Mutation(() => GeneratedApiToken, {
    description: 'Creates your API token and shows its secret, once. Fails with API_TOKEN_EXISTS if you have one.',
  })
  async generateApiToken(@Ctx() ctx: GraphQLContext): Promise<GeneratedApiToken> {
    const principal = requireSession(ctx);
    await ctx.services.limits.takeTokenChange(principal.userId);
    return ctx.services.tokens.generate(actorOf(principal), principal.userId);
  }

  @Mutation(() => GeneratedApiToken, {
    description: 'Revokes your API token and creates a new one in one step; the old secret stops working at once.',
  })
  async regenerateApiToken(@Ctx() ctx: GraphQLContext): Promise<GeneratedApiToken> {
    const principal = requireSession(ctx);
    await ctx.services.limits.takeTokenChange(principal.userId);
    return ctx.services.tokens.regenerate(actorOf(principal), principal.userId);
  }

  @Mutation(() => RevokedApiToken, {
    description: 'Deletes your API token in every region. Irreversible. With `id`, only if it is still your current token.',
  })
  async revokeApiToken(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID, { nullable: true, description: 'Revoke only if this is still your current token.' }) id?: string | null,
  ): Promise<RevokedApiToken> {
    const principal = requirePrincipal(ctx);
    return ctx.services.tokens.revoke(actorOf(principal), principal.userId, { expectedId: id ?? null });
  }
}

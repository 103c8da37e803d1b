import { Arg, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import { type GraphQLContext } from '../context.js';
import { requirePrincipal } from '../auth/guards.js';
import { ApiTokenFilter } from './admin.inputs.js';
import { ApiTokenConnection, AuditEntry, AuditEventConnection, ManagedApiToken } from './admin.types.js';

@Resolver()
export class AdminQueriesResolver {
  @Query(() => ApiTokenConnection, {
    description:
      'SUPPORT: every live API token. ADMIN: those of your organisation (of users sharing one of your business units, if you have any).',
  })
  async apiTokens(
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { nullable: true, description: '1 to 100; 20 when omitted.' }) first?: number | null,
    @Arg('after', () => String, { nullable: true, description: 'The `endCursor` of the previous page.' }) after?: string | null,
    @Arg('filter', () => ApiTokenFilter, { nullable: true, description: 'Only the tokens that match.' })
    filter?: ApiTokenFilter | null,
  ): Promise<ApiTokenConnection> {
    const page = await ctx.services.admin.queries.apiTokens(requirePrincipal(ctx), { first, after }, filter ?? null);
    return { ...page, edges: page.edges.map(({ cursor, node }) => ({ cursor, node: ManagedApiToken.of(node) })) };
  }

  @Query(() => AuditEventConnection, {
    description: 'The audit trail, newest first: your own; as ADMIN, your organisation’s (within your business units); as SUPPORT, all.',
  })
  async auditEvents(
    @Ctx() ctx: GraphQLContext,
    @Arg('userId', () => ID, { nullable: true, description: 'Only the events about this user.' }) userId?: string | null,
    @Arg('first', () => Int, { nullable: true, description: '1 to 100; 20 when omitted.' }) first?: number | null,
    @Arg('after', () => String, { nullable: true, description: 'The `endCursor` of the previous page.' }) after?: string | null,
  ): Promise<AuditEventConnection> {
    const page = await ctx.services.admin.queries.auditEvents(requirePrincipal(ctx), userId ?? null, { first, after });
    return { ...page, edges: page.edges.map(({ cursor, node }) => ({ cursor, node: AuditEntry.of(node) })) };
  }
}

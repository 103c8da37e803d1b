import type { FilterQuery, MikroORM } from '@mikro-orm/core';
// The SQL layer under both supported drivers; only its query builder can express a subquery.
import type { QBFilterQuery, SqlEntityManager } from '@mikro-orm/sql';
import { AuditEvent } from '../audit/audit-event.entity.js';
import type { Principal } from '../auth/principal.js';
import type { Clock } from '../clock.js';
import { parseDuration } from '../duration.js';
import { BadUserInputError, ForbiddenError, NoSuchRecordError } from '../errors.js';
import { isUuid } from '../ids.js';
import { ApiToken } from '../tokens/api-token.entity.js';
import { findVisibleUser, ownOrganization, requireAdminOrSupport, managedUsers } from './scope.js';
import type { ApiTokenFilter } from './admin.inputs.js';
import { BusinessUnit } from '../users/business-unit.entity.js';
import { decodeCursor, pageSize, toPage } from './pagination.js';
import { Role } from '../users/role.js';
import { User } from '../users/user.entity.js';

export interface PageArgs {
  readonly first?: number | null;
  readonly after?: string | null;
}

/** What admins and support may read: token listings and the audit trail, within their scope. */
export class AdminQueries {
  constructor(
    private readonly orm: MikroORM,
    private readonly clock: Clock,
  ) {}

  /** Live tokens (an expired token is not listed even before the sweeper deletes it), in id order. */
  async apiTokens(principal: Principal, page: PageArgs, filter: ApiTokenFilter | null = null) {
    requireAdminOrSupport(principal);
    const first = pageSize(page.first);
    const afterId = decodeCursor(page.after, (raw) => (isUuid(raw) ? raw.toLowerCase() : null));
    const within = filter?.expiringWithin == null ? null : parseDuration(filter.expiringWithin);
    if (filter?.expiringWithin != null && !within) {
      throw new BadUserInputError('expiringWithin must be an ISO-8601 duration such as P7D or PT12H, at most P36500D.', 'filter.expiringWithin');
    }
    const em = this.orm.em.fork();
    const unitId = filter?.businessUnitId ?? null;
    if (unitId !== null) {
      const unit = isUuid(unitId) ? await em.findOne(BusinessUnit, { id: unitId, ...ownOrganization(principal) }) : null;
      if (!unit) throw new NoSuchRecordError('business unit', 'filter.businessUnitId');
    }
    const now = this.clock.now();
    const where: FilterQuery<ApiToken> = {
      $and: [
        { user: managedUsers(principal) },
        unitId === null ? {} : { user: { businessUnits: unitId } },
        { expiresAt: within ? { $gt: now, $lte: new Date(now.getTime() + within.ms) } : { $gt: now } },
        afterId === null ? {} : { id: { $gt: afterId } },
      ],
    };
    const rows = await em.find(ApiToken, where, {
      orderBy: { id: 'asc' },
      limit: first + 1,
      populate: ['user.businessUnits'],
    });
    return toPage(rows, first, (token) => token.id);
  }

  /**
   * Newest first. A USER reads their own trail; an ADMIN the trail of the
   * users they can see plus their organisation's own events (business units
   * created); SUPPORT everything.
   */
  async auditEvents(principal: Principal, userId: string | null, page: PageArgs) {
    const first = pageSize(page.first);
    const beforeId = decodeCursor(page.after, (raw) => (/^[1-9]\d{0,14}$/.test(raw) ? Number(raw) : null));
    const em = this.orm.em.fork();
    let scope: FilterQuery<AuditEvent>;
    if (principal.role === Role.USER) {
      if (userId !== null && userId !== principal.userId) throw new ForbiddenError('You can only read your own audit trail.');
      scope = { subjectUserId: principal.userId };
    } else if (userId !== null) {
      scope = { subjectUserId: (await findVisibleUser(em, principal, userId, 'userId')).id };
    } else if (principal.role === Role.SUPPORT) {
      scope = {};
    } else {
      // One query however large the organisation: the visible users are a subquery, not a list of ids.
      const visible = (em as SqlEntityManager)
        .createQueryBuilder(User, 'visible')
        .select('visible.id')
        // The query builder's filter type is narrower than find()'s; the condition is the same object either way.
        .where(managedUsers(principal) as QBFilterQuery<User>);
      scope = {
        $or: [
          // MikroORM runs a query builder given to $in as a subquery; its filter types do not model that.
          { subjectUserId: { $in: visible as unknown as string[] } },
          { subjectUserId: null, organizationId: principal.organizationId },
        ],
      };
    }
    const rows = await em.find(
      AuditEvent,
      { $and: [scope, beforeId === null ? {} : { id: { $lt: beforeId } }] },
      { orderBy: { id: 'desc' }, limit: first + 1 },
    );
    return toPage(rows, first, (event) => event.id);
  }
}

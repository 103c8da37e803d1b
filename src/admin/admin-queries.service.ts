import type { FilterQuery, MikroORM } from '@mikro-orm/core';
import { AuditEvent } from '../audit/audit-event.entity.js';
import type { Principal } from '../auth/principal.js';
import type { Clock } from '../clock.js';
import { parseDuration } from '../duration.js';
import { BadUserInputError, ForbiddenError, NoSuchRecordError } from '../errors.js';
import { isUuid } from '../ids.js';
import { ApiToken } from '../tokens/api-token.entity.js';
import { findVisibleUser, ownOrganization, requireAdminOrSupport } from './scope.js';
import type { ApiTokenFilter } from './admin.inputs.js';
import { BusinessUnit } from '../users/business-unit.entity.js';
import { decodeCursor, keyedPage, pageSize } from './pagination.js';
import { adminAuditPage, tokenOwnerPage } from './keyset.js';
import { Role } from '../auth/role.js';

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

  /**
   * Live tokens (an expired token is not listed even before the sweeper
   * deletes it), in the order of their owners' user ids.
   */
  async apiTokens(principal: Principal, page: PageArgs, filter: ApiTokenFilter | null = null) {
    requireAdminOrSupport(principal);
    const first = pageSize(page.first);
    // The key is the owner's user id: a user has at most one token, and every scope walks users.
    const afterUserId = decodeCursor(page.after, (raw) => (isUuid(raw) ? raw.toLowerCase() : null));
    const within = filter?.expiringWithin == null ? null : parseDuration(filter.expiringWithin);
    if (filter?.expiringWithin != null && !within) {
      throw new BadUserInputError(
        'expiringWithin must be an ISO-8601 duration such as P7D or PT12H, at most P36500D.',
        'filter.expiringWithin',
      );
    }
    const em = this.orm.em.fork();
    const unitId = filter?.businessUnitId ?? null;
    if (unitId !== null) {
      const unit = isUuid(unitId) ? await em.findOne(BusinessUnit, { id: unitId, ...ownOrganization(principal) }) : null;
      if (!unit) throw new NoSuchRecordError('business unit', 'filter.businessUnitId');
    }
    const now = this.clock.now();
    const owners = await tokenOwnerPage(this.orm, {
      principal,
      unitId,
      expiresAfter: now,
      expiresBy: within ? new Date(now.getTime() + within.ms) : null,
      afterUserId,
      limit: first + 1,
    });
    // Only this page's rows, with their users and units: no limit here, so no to-many pagination subquery.
    const tokens = owners.length ? await em.find(ApiToken, { user: { $in: owners } }, { populate: ['user.businessUnits'] }) : [];
    const byOwner = new Map(tokens.map((token) => [token.user.id, token]));
    return keyedPage(owners, first, (owner) => byOwner.get(owner));
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
      const ids = await adminAuditPage(this.orm, { principal, beforeId, limit: first + 1 });
      const events = ids.length ? await em.find(AuditEvent, { id: { $in: ids } }) : [];
      const byId = new Map(events.map((event) => [event.id, event]));
      return keyedPage(ids, first, (id) => byId.get(id));
    }
    // One user's trail walks (subject_user_id, id); SUPPORT's, the primary key.
    const rows = await em.find(
      AuditEvent,
      { $and: [scope, beforeId === null ? {} : { id: { $lt: beforeId } }] },
      { orderBy: { id: 'desc' }, limit: first + 1 },
    );
    const byId = new Map(rows.map((event) => [event.id, event]));
    return keyedPage([...byId.keys()], first, (id) => byId.get(id));
  }
}

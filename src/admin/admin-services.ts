import type { MikroORM } from '@mikro-orm/core';
import type { Changes } from '../audit/changes.js';
import type { Clock } from '../clock.js';
import { retryOnUniqueViolation } from '../db/unique.js';
import type { TokenService } from '../tokens/token.service.js';
import { AdminQueries } from './admin-queries.service.js';
import { AdminService } from './admin.service.js';
import { BusinessUnitService } from './business-units.service.js';
import { TokenControls } from './token-controls.service.js';

/** What the admin and support resolvers call. */
export interface AdminServices {
  readonly users: AdminService;
  /** Renaming, deleting and membership of business units (SCIM groups). */
  readonly units: BusinessUnitService;
  readonly tokens: TokenControls;
  readonly queries: AdminQueries;
  /**
   * Runs several of the changes above as one: they commit together or not at
   * all (a SCIM request that renames a group and adds a member it may not).
   * `work` may run twice (a membership two requests add at once), so it must
   * only call these services.
   */
  atomically<T>(work: () => Promise<T>): Promise<T>;
}

export function createAdminServices(orm: MikroORM, changes: Changes, clock: Clock, tokens: TokenService): AdminServices {
  const controls = new TokenControls(orm, changes, clock, tokens);
  return {
    users: new AdminService(changes, clock, tokens),
    units: new BusinessUnitService(changes, clock),
    tokens: controls,
    queries: new AdminQueries(orm, clock),
    atomically: (work) => retryOnUniqueViolation(() => changes.run(() => work())),
  };
}

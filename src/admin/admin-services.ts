import type { MikroORM } from '@mikro-orm/core';
import type { Changes } from '../audit/changes.js';
import type { Clock } from '../clock.js';
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
}

export function createAdminServices(orm: MikroORM, changes: Changes, clock: Clock, tokens: TokenService): AdminServices {
  const controls = new TokenControls(orm, changes, clock, tokens);
  return {
    users: new AdminService(changes, clock, tokens),
    units: new BusinessUnitService(orm, changes, clock),
    tokens: controls,
    queries: new AdminQueries(orm, clock),
  };
}

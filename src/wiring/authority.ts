import type { MikroORM } from '@mikro-orm/core';
import type { Logger } from 'pino';
import { ruleOf } from '../audit/event-rules.js';
import { SessionVerifier, sessionConfigWarnings, sessionSecret } from '../auth/session.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { PrincipalResolver } from '../credentials/principal-resolver.js';
import type { TokenEventHub } from '../events/event-hub.js';
import { ScimTokenCache } from '../scim/scim-token-cache.js';
import type { TokenUsage } from '../tokens/token-usage.js';

export interface AuthorityOptions {
  readonly config: Config;
  readonly orm: MikroORM;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly usage: TokenUsage;
  readonly events: TokenEventHub;
  /** Whether cached answers may be trusted now (see `Events.cacheable`). */
  readonly cacheable: () => boolean;
}

export interface Authority {
  readonly sessions: SessionVerifier;
  /** Every bearer credential but the SCIM token's: API tokens, sessions, introspection. */
  readonly principals: PrincipalResolver;
  /** Verified SCIM tokens, dropped per organisation when the stored log says its token changed. */
  readonly scimTokens: ScimTokenCache;
}

/**
 * Who is calling, with what authority now: the session verifier, the
 * principal resolver and the SCIM token cache, the caches behind the same
 * gate. The resolver drops a user's entries on every hub message that
 * changes their access; registered here, before any other watcher of the
 * hub, so every later one already sees the user's current state. (After a
 * Redis outage nothing is dropped wholesale: the follower delivered what
 * Redis missed.)
 */
export function createAuthority(options: AuthorityOptions): Authority {
  const { config, orm, clock, logger, usage, events, cacheable } = options;
  const sessions = new SessionVerifier(sessionSecret(config), config.session);
  for (const warning of sessionConfigWarnings(config)) logger.warn(warning);
  const principals = new PrincipalResolver({ orm, sessions, usage, clock, cacheable, maxEntries: config.principalCacheSize });
  events.onMessage((message) => {
    if (ruleOf(message.kind).invalidates) principals.invalidateUser(message.userId);
  });
  return { sessions, principals, scimTokens: new ScimTokenCache({ cacheable }) };
}

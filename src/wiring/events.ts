import type { MikroORM } from '@mikro-orm/core';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { inProcessHub, redisHub, type TokenEventHub } from '../events/event-hub.js';
import { LogFollower } from '../events/log-follower.js';
import { storedLog } from '../events/stored-log.js';
import { countingHub } from '../metrics/instrumented.js';
import type { Metrics } from '../metrics/metrics.js';

export interface EventsOptions {
  readonly config: Config;
  readonly orm: MikroORM;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** How long a subscriber waits for Redis to confirm its channel (tests shorten it). */
  readonly readyTimeoutMs: number | undefined;
  /** An organisation's own credential changed (its SCIM token): read from the stored log only. */
  readonly onOrganizationChange: (organizationId: string) => void;
  /** Registers what `stop()` must close, in the reverse order of registration. */
  readonly onStop: (close: () => Promise<unknown>) => void;
}

export interface Events {
  /** The hub every part publishes to and listens on; healthy while Redis or the stored log brings changes. */
  readonly events: TokenEventHub;
  readonly follower: LogFollower;
  /**
   * Whether what this instance cached may be trusted now: always with one
   * instance (the log brings the admin CLI's changes), and with Redis only
   * while the follower keeps up (see `LogFollower.trusted`).
   */
  readonly cacheable: () => boolean;
}

/**
 * How changes reach this instance: the Redis hub (or the in-process one) as
 * the fast path, and the follower of the stored audit log, the source of
 * truth, which delivers whatever Redis lost or delayed. Not started: the
 * follower starts once its watchers are registered.
 */
export function createEvents(options: EventsOptions): Events {
  const { config, orm, logger, metrics, onStop } = options;
  const pollMs = config.eventPollInterval.ms;
  const hub = config.redisUrl
    ? redisHub(config.redisUrl, logger, {
        keyPrefix: config.redisKeyPrefix,
        // The follower's lease, and a little for the clocks' granularity.
        publishWaitMs: 3 * pollMs + 50,
        readyTimeoutMs: options.readyTimeoutMs,
        onPublishFailure: () => metrics.eventPublishFailures.inc(),
      })
    : inProcessHub(logger);
  onStop(() => hub.close());
  // A SCIM token's issue, rotation or revocation comes from the admin CLI, which runs no hub: only the log brings it.
  const follower = new LogFollower({
    log: storedLog(orm),
    hub,
    logger,
    intervalMs: pollMs,
    onOrganizationChange: options.onOrganizationChange,
  });
  const counted = countingHub(hub, metrics);
  // Events reach this instance while either path works.
  const events: TokenEventHub = { ...counted, healthy: () => counted.healthy() || follower.fresh() };
  const cacheable = config.redisUrl ? () => follower.trusted() : () => true;
  return { events, follower, cacheable };
}

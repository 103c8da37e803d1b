import type { MikroORM } from '@mikro-orm/core';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { TokenEventHub } from '../events/event-hub.js';
import type { ReadinessOptions } from '../http/readiness.js';

type Readiness = Pick<ReadinessOptions, 'checks' | 'details'>;
import type { Mail } from '../mail/mail.js';

/** What `/readyz` checks: the database, Redis where configured, and that token events can flow. */
export function readinessOf(parts: {
  readonly config: Config;
  readonly orm: MikroORM;
  readonly redis: Redis | null;
  readonly events: TokenEventHub;
  readonly mail: Mail;
}): Readiness {
  const { config, orm, redis, events, mail } = parts;
  return {
    checks: {
      // Not a query: since MikroORM 7 a query reopens a closed connection (lazy connect), so
      // `select 1` answered even with the database gone. This asks the open connection only.
      database: async () => {
        const check = await orm.checkConnection();
        if (!check.ok) throw check.error ?? new Error(check.reason);
      },
      ...(redis ? { redis: () => redis.ping() } : {}),
      // Without the hub, revocations from other instances cannot reach this one's sockets.
      events: () => (events.healthy() ? Promise.resolve() : Promise.reject(new Error('token events cannot flow'))),
    },
    details: async () => ({ region: config.region, mail: await mail.status() }),
  };
}

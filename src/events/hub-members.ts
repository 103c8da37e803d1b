import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** Redis's own clock in ms, so every instance's registration expires by one clock. */
const REDIS_NOW = "local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000);";

/**
 * KEYS[1]: the member set; ARGV: instance id, time to live (ms). Answers 1
 * when the instance was not in the set (a first registration, or one that
 * Redis lost: a restart, a flush), 0 when this renewed it.
 */
const REGISTER = `${REDIS_NOW}
local added = redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 4)
return added`;

/**
 * KEYS[1]: the member set, KEYS[2]: the channel; ARGV[1]: the message.
 * Publishes and answers who is registered at that very moment, in one step:
 * exactly the instances whose acknowledgement the publisher may wait for.
 */
export const PUBLISH_TO_MEMBERS = `${REDIS_NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
redis.call('PUBLISH', KEYS[2], ARGV[1])
return members`;

export interface HubMembersOptions {
  /**
   * How long a registration lasts without renewal: an instance that died is
   * waited for (up to the publish wait) for this long at most.
   * @default 5_000
   */
  readonly ttlMs?: number;
  /** @default 1_000 */
  readonly renewMs?: number;
}

/**
 * This deployment's live instances, in a sorted set under the deployment's
 * key prefix. A publisher waits only for the acknowledgements of the
 * instances registered when it published; a stranger subscribed to the
 * channel is not one of them.
 *
 * An instance that is not registered is not waited for, so it must not trust
 * its cache: `registeredSince` says since when (local monotonic ms) it has
 * been registered without a break, or null when it may not be now. The
 * renewal's round trip is counted against it: its registration surely lasts
 * until `sent + ttl`, and surely began by the time the answer came.
 *
 * A lost connection breaks it at once: Redis may have restarted empty, and
 * until the renewal after the reconnection the set may lack this instance,
 * so a publisher would not wait for it (a revoke answered on one instance
 * while another still served the token from its cache). A renewal that finds
 * the instance missing from the set starts a new registration too.
 */
export class HubMembers {
  private readonly ttlMs: number;
  private readonly renewMs: number;
  private since: number | null = null;
  private until = -Infinity;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly redis: Redis,
    readonly key: string,
    readonly instanceId: string,
    private readonly logger: Logger,
    options: HubMembersOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 5_000;
    this.renewMs = options.renewMs ?? 1_000;
  }

  start(): void {
    this.redis.on('close', this.lapse);
    const renew = () => {
      void this.renew().finally(() => {
        if (this.timer) this.timer = setTimeout(renew, this.renewMs).unref();
      });
    };
    this.timer = setTimeout(renew, 0).unref();
  }

  registeredSince(): number | null {
    return performance.now() < this.until ? this.since : null;
  }

  /** Leaves the set, so publishers stop waiting for this instance at once. */
  async stop(): Promise<void> {
    this.redis.off('close', this.lapse);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.until = -Infinity;
    if (this.redis.status === 'ready') await this.redis.zrem(this.key, this.instanceId).catch(() => undefined);
  }

  /** The registration may be gone: not trusted again before a renewal after this. */
  private readonly lapse = (): void => {
    this.since = null;
    this.until = -Infinity;
  };

  private async renew(): Promise<void> {
    const sent = performance.now();
    let added: unknown;
    try {
      added = await this.redis.eval(REGISTER, 1, this.key, this.instanceId, String(this.ttlMs));
    } catch (error) {
      this.logger.debug({ err: error }, "token events: could not renew this instance's registration");
      return;
    }
    const answered = performance.now();
    // A renewal that arrived before the previous registration lapsed continues it, unless Redis had lost it.
    if (this.since === null || answered >= this.until || added === 1) this.since = answered;
    // Stopped while renewing: stay out of the set.
    if (this.timer) this.until = sent + this.ttlMs;
  }
}

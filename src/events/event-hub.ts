import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { rememberedSet } from '../remembered-set.js';
import { HubMembers, PUBLISH_TO_MEMBERS } from './hub-members.js';
import type { HubMessage } from './token-event.js';

/** A listener's handle: `ready` resolves once no later event can be missed; `stop` ends it. */
interface Listening {
  readonly ready: Promise<void>;
  stop(): void;
}

/**
 * Carries token events and access changes to every instance. Each instance
 * hears every message (there are few: one per token or user change) and
 * hands it first to its `onMessage` watchers (the authority cache, the
 * credential watcher), then only to the listeners of the user it is about: a
 * publish costs O(that user's listeners), never O(all sockets).
 */
export interface TokenEventHub {
  /**
   * Sends the messages (one change's, in order) to every instance, as one
   * Redis message: a 1,000-member group change is a few publishes, not a
   * thousand. Resolves once every live instance of this deployment has
   * applied them, or after the publish wait (never rejects): by then every
   * instance has read them from the stored log or stopped trusting its cache
   * (see `LogFollower`).
   */
  publish(events: readonly HubMessage[]): Promise<void>;
  /**
   * A message read from the stored log (`LogFollower`): delivered like one
   * from Redis, unless it already was. Each event id is delivered once.
   */
  receive(event: HubMessage): void;
  /** Whether the event id was delivered here already: the log follower need not build its message again. */
  delivered(eventId: string): boolean;
  /**
   * Since when (monotonic ms, `performance.now()`) this instance has been
   * among those a publish waits for, without a break; null when it may not
   * be now. An instance that is not waited for must not trust its cache.
   */
  memberSince(): number | null;
  listen(userId: string, listener: (event: HubMessage) => void): Listening;
  /** Sees every message, before the user's own listeners. */
  onMessage(watcher: (event: HubMessage) => void): void;
  /**
   * Called when messages may have been lost and now flow again (the Redis
   * subscription came back): watchers re-verify and replay from the database.
   */
  onResync(watcher: () => void): void;
  /** Whether messages published now reach this instance. */
  healthy(): boolean;
  /** Resolves when healthy; rejects when that does not happen within a few seconds. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

type Listener = (event: HubMessage) => void;

/**
 * Event ids remembered to deliver each event once, whether it came from Redis,
 * from the stored log or from both. Far more than can be in flight at once.
 */
const DELIVERED_IDS = 50_000;

/** Local fan-out shared by both hubs: watchers, then listeners per user; each event id once. */
class Dispatcher {
  private readonly byUser = new Map<string, Set<Listener>>();
  private readonly delivered = rememberedSet(DELIVERED_IDS);
  readonly watchers: Listener[] = [];
  readonly resyncWatchers: (() => void)[] = [];

  constructor(private readonly logger: Logger) {}

  add(userId: string, listener: Listener): void {
    const listeners = this.byUser.get(userId);
    if (listeners) listeners.add(listener);
    else this.byUser.set(userId, new Set([listener]));
  }

  remove(userId: string, listener: Listener): void {
    const listeners = this.byUser.get(userId);
    if (listeners?.delete(listener) && listeners.size === 0) this.byUser.delete(userId);
  }

  hasDelivered(eventId: string): boolean {
    return this.delivered.has(eventId);
  }

  deliver(event: HubMessage): void {
    if (this.delivered.has(event.id)) return;
    this.delivered.set(event.id, true);
    for (const watcher of this.watchers) this.call(watcher, event);
    const listeners = this.byUser.get(event.userId);
    if (!listeners) return;
    // A listener may stop itself (and so change the set) while we iterate.
    for (const listener of listeners.size === 1 ? listeners : [...listeners]) this.call(listener, event);
  }

  resync(): void {
    for (const watcher of this.resyncWatchers) {
      try {
        watcher();
      } catch (error) {
        this.logger.error({ err: error }, 'token event resync failed');
      }
    }
  }

  private call(listener: Listener, event: HubMessage): void {
    try {
      listener(event);
    } catch (error) {
      this.logger.error({ err: error, eventId: event.id }, 'token event listener failed');
    }
  }
}

function hubOn(dispatcher: Dispatcher, ready: () => Promise<void>): Pick<TokenEventHub, 'listen' | 'onMessage' | 'onResync'> {
  return {
    listen(userId, listener) {
      dispatcher.add(userId, listener);
      return { ready: ready(), stop: () => dispatcher.remove(userId, listener) };
    },
    onMessage: (watcher) => void dispatcher.watchers.push(watcher),
    onResync: (watcher) => void dispatcher.resyncWatchers.push(watcher),
  };
}

/** Events stay in this process: the embedded default, one instance. */
export function inProcessHub(logger: Logger): TokenEventHub {
  const dispatcher = new Dispatcher(logger);
  const ready = () => Promise.resolve();
  return {
    ...hubOn(dispatcher, ready),
    publish: async (events) => events.forEach((event) => dispatcher.deliver(event)),
    receive: (event) => dispatcher.deliver(event),
    delivered: (eventId) => dispatcher.hasDelivered(eventId),
    // One instance: nobody else can be waiting for it.
    memberSince: () => -Infinity,
    healthy: () => true,
    ready,
    close: async () => undefined,
  };
}

/** The channel, under the deployment's `REDIS_KEY_PREFIX`: another deployment on the same Redis never hears it. */
const CHANNEL = 'token-events';

/**
 * On the wire: the message, and where the instance that published it waits
 * for each receiver's acknowledgement.
 */
interface Envelope {
  /** The messages of one change (several when they were published together). */
  readonly events?: readonly HubMessage[];
  /** One message alone: how a single message travels, as instances before batching sent and read it. */
  readonly event?: HubMessage;
  /** `<ack channel> <sequence>`; each receiver publishes `<sequence> <its instance id>` there once it applied the event. */
  readonly ack?: string;
}

interface RedisHubOptions {
  /** Prefix of the channel and of the member set (`REDIS_KEY_PREFIX`). */
  readonly keyPrefix: string;
  /**
   * How long a publish holds its caller at most, waiting for the other
   * instances' acknowledgements. At least the log follower's lease, so that
   * once it has passed every instance has read the change from the stored
   * log or stopped trusting its cache.
   */
  readonly publishWaitMs: number;
  /** With Redis unreachable, a subscriber fails after this long instead of waiting for ever. */
  readonly readyTimeoutMs?: number | undefined;
  /** Called when a publish fails, for the metrics. */
  readonly onPublishFailure?: () => void;
}

/** A publish waiting for acknowledgements; `expected` is known once Redis answers the publish. */
interface Pending {
  readonly acked: Set<string>;
  expected: readonly string[] | null;
  readonly done: () => void;
}

/**
 * Events cross instances and regions through one Redis pub/sub channel of
 * this deployment. The hub is healthy while Redis has confirmed this
 * instance's subscription; after an interruption it reports a resync.
 * Redis is the fast path only: every instance also follows the stored log
 * (`LogFollower`), which delivers whatever Redis lost or delayed, and the
 * dispatcher delivers each event id once.
 *
 * A publish resolves once every instance registered at that moment (see
 * `HubMembers`) has applied the message and said so on the publisher's
 * acknowledgement channel, or after `publishWaitMs`: so when a revoke
 * answers on one instance, the next request to any other is already refused.
 */
export function redisHub(url: string, logger: Logger, options: RedisHubOptions): TokenEventHub {
  const { keyPrefix, publishWaitMs, readyTimeoutMs = 5_000, onPublishFailure = () => undefined } = options;
  const channel = `${keyPrefix}${CHANNEL}`;
  const instanceId = randomUUID();
  const ackPrefix = `${channel}:ack:`;
  const ackChannel = `${ackPrefix}${instanceId}`;
  const publisher = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3 });
  // We subscribe ourselves on every (re)connect, to know when it is confirmed.
  const subscriber = new Redis(url, { lazyConnect: false, autoResubscribe: false });
  const members = new HubMembers(publisher, `${keyPrefix}token-event-instances`, instanceId, logger);
  const dispatcher = new Dispatcher(logger);
  const awaitingAcks = new Map<number, Pending>();
  const settle = (pending: Pending) => {
    if (pending.expected?.every((id) => id === instanceId || pending.acked.has(id))) pending.done();
  };
  let sequence = 0;
  let subscribed = false;
  let everSubscribed = false;
  let closing = false;
  const waiting = new Set<() => void>();

  for (const client of [publisher, subscriber]) {
    client.on('error', (error: Error) => logger.warn({ err: error }, 'redis connection error'));
  }
  const lost = () => {
    if (subscribed && !closing) logger.warn('token events: Redis subscription lost; events come from the stored log until it is back');
    subscribed = false;
  };
  subscriber.on('close', lost);
  subscriber.on('reconnecting', lost);
  subscriber.on('ready', () => {
    subscriber.subscribe(channel, ackChannel).then(
      () => {
        subscribed = true;
        for (const wake of waiting) wake();
        waiting.clear();
        if (everSubscribed) {
          logger.info('token events: Redis subscription restored; resynchronising');
          dispatcher.resync();
        }
        everSubscribed = true;
      },
      (error: unknown) => logger.warn({ err: error }, 'could not subscribe to token events'),
    );
  });
  subscriber.on('message', (from: string, message: string) => {
    if (from === ackChannel) {
      const [seq, by] = message.split(' ');
      const pending = awaitingAcks.get(Number(seq));
      if (pending && by) {
        pending.acked.add(by);
        settle(pending);
      }
      return;
    }
    let envelope: Envelope;
    try {
      envelope = JSON.parse(message) as Envelope;
    } catch (error) {
      logger.error({ err: error }, 'unreadable token event from redis');
      return;
    }
    // Delivered once, whether the log follower already did or not; acknowledged either way.
    for (const event of envelope.events ?? (envelope.event ? [envelope.event] : [])) dispatcher.deliver(event);
    const [replyTo, seq] = envelope.ack?.split(' ') ?? [];
    if (replyTo?.startsWith(ackPrefix) && seq) publisher.publish(replyTo, `${seq} ${instanceId}`).catch(() => undefined);
  });
  members.start();

  const ready = (): Promise<void> => {
    if (subscribed) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(wake);
        reject(new Error('Redis did not confirm the event subscription in time'));
      }, readyTimeoutMs);
      timer.unref();
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      waiting.add(wake);
    });
  };

  return {
    ...hubOn(dispatcher, ready),
    async publish(events) {
      if (events.length === 0) return;
      // This instance applies its own messages at once, whatever Redis does.
      for (const event of events) dispatcher.deliver(event);
      const seq = ++sequence;
      let timer: NodeJS.Timeout | undefined;
      const acknowledged = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, publishWaitMs);
        timer.unref();
        awaitingAcks.set(seq, { acked: new Set(), expected: null, done: resolve });
      });
      const ack = `${ackChannel} ${seq}`;
      // A lone message keeps the single-message shape, which an instance of the previous release still reads.
      const [only] = events;
      const envelope: Envelope = events.length === 1 && only ? { event: only, ack } : { events, ack };
      publisher.eval(PUBLISH_TO_MEMBERS, 2, members.key, channel, JSON.stringify(envelope)).then(
        (registered) => {
          const pending = awaitingAcks.get(seq);
          if (!pending) return;
          // Only this deployment's instances registered now; some may already have acknowledged.
          pending.expected = Array.isArray(registered) ? registered.map(String) : [];
          settle(pending);
        },
        (error: unknown) => {
          onPublishFailure();
          logger.error({ err: error, eventIds: events.map((event) => event.id) }, 'could not publish token events');
        },
      );
      try {
        await acknowledged;
      } finally {
        clearTimeout(timer);
        awaitingAcks.delete(seq);
      }
    },
    receive: (event) => dispatcher.deliver(event),
    delivered: (eventId) => dispatcher.hasDelivered(eventId),
    memberSince: () => members.registeredSince(),
    healthy: () => subscribed,
    ready,
    async close() {
      closing = true;
      subscribed = false;
      await members.stop();
      // quit() waits for a connection that may never come; an unconnected client is just dropped.
      await Promise.allSettled(
        [publisher, subscriber].map(async (client) => {
          if (client.status === 'ready') await client.quit();
          else client.disconnect();
        }),
      );
    },
  };
}

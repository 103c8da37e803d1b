import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
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
 * socket registry), then only to the listeners of the user it is about: a
 * publish costs O(that user's listeners), never O(all sockets).
 */
export interface TokenEventHub {
  /**
   * Sends the message to every instance. Resolves once Redis has handed it to
   * every subscriber (or gave up: never rejects, never waits longer than a
   * moment), so the caller can acknowledge a change knowing other instances
   * are hearing of it.
   */
  publish(event: HubMessage): Promise<void>;
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

/** Local fan-out shared by both hubs: watchers, then listeners per user. */
class Dispatcher {
  private readonly byUser = new Map<string, Set<Listener>>();
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

  deliver(event: HubMessage): void {
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
    publish: async (event) => dispatcher.deliver(event),
    healthy: () => true,
    ready,
    close: async () => undefined,
  };
}

const HUB_CHANNEL = 'api-token-events';

/** How long a publish holds its caller at most, waiting for Redis and for the other instances' acknowledgements. */
const PUBLISH_WAIT_MS = 250;

/**
 * On the wire: the message, and where the instance that published it waits
 * for each receiver's acknowledgement.
 */
interface Envelope {
  readonly event: HubMessage;
  /** `<ack channel> <sequence>`; each receiver publishes the sequence there once it applied the event. */
  readonly ack?: string;
}

/**
 * Events cross instances and regions through one Redis pub/sub channel. The
 * hub is healthy while Redis has confirmed this instance's subscription;
 * after an interruption it reports a resync, since whatever was published
 * meanwhile never arrived here.
 *
 * A publish resolves once every instance subscribed at that moment has
 * applied the message (dropped its cache entries, marked sockets dead) and
 * said so on the publisher's acknowledgement channel, or after
 * `PUBLISH_WAIT_MS`: so when a revoke answers on one instance, the next
 * request to any other is already refused.
 */
export function redisHub(
  url: string,
  logger: Logger,
  {
    /** With Redis unreachable, a subscriber fails after this long instead of waiting for ever. */
    readyTimeoutMs = 5_000,
    /** Called when a publish fails, for the metrics. */
    onPublishFailure = () => undefined,
  }: { readonly readyTimeoutMs?: number | undefined; readonly onPublishFailure?: () => void } = {},
): TokenEventHub {
  const publisher = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3 });
  // We subscribe ourselves on every (re)connect, to know when it is confirmed.
  const subscriber = new Redis(url, { lazyConnect: false, autoResubscribe: false });
  const dispatcher = new Dispatcher(logger);
  const ackChannel = `${HUB_CHANNEL}:ack:${randomUUID()}`;
  /** Publishes waiting for acknowledgements, by sequence; `expected` is known once Redis answers the PUBLISH. */
  const awaitingAcks = new Map<number, { acked: number; expected: number | null; done: () => void }>();
  const settle = (pending: { acked: number; expected: number | null; done: () => void }) => {
    if (pending.expected !== null && pending.acked >= pending.expected) pending.done();
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
    if (subscribed && !closing) logger.warn('token events: Redis subscription lost; caches are bypassed until it is back');
    subscribed = false;
  };
  subscriber.on('close', lost);
  subscriber.on('reconnecting', lost);
  subscriber.on('ready', () => {
    subscriber.subscribe(HUB_CHANNEL, ackChannel).then(
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
  subscriber.on('message', (channel: string, message: string) => {
    if (channel === ackChannel) {
      const pending = awaitingAcks.get(Number(message));
      if (pending) {
        pending.acked++;
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
    dispatcher.deliver(envelope.event);
    const [replyTo, seq] = envelope.ack?.split(' ') ?? [];
    if (replyTo?.startsWith(`${HUB_CHANNEL}:ack:`) && seq) publisher.publish(replyTo, seq).catch(() => undefined);
  });

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
    async publish(event) {
      const seq = ++sequence;
      let timer: NodeJS.Timeout | undefined;
      // During an outage other instances bypass their caches and replay from
      // the database when Redis returns: no reason to hold the caller long.
      const acknowledged = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, PUBLISH_WAIT_MS);
        timer.unref();
        awaitingAcks.set(seq, { acked: 0, expected: null, done: resolve });
      });
      const envelope: Envelope = { event, ack: `${ackChannel} ${seq}` };
      publisher.publish(HUB_CHANNEL, JSON.stringify(envelope)).then(
        (receivers) => {
          const pending = awaitingAcks.get(seq);
          if (!pending) return;
          // Every instance subscribed now, this one included, acknowledges; some may already have.
          pending.expected = receivers;
          settle(pending);
        },
        (error: unknown) => {
          onPublishFailure();
          logger.error({ err: error, eventId: event.id }, 'could not publish token event');
        },
      );
      try {
        await acknowledged;
      } finally {
        clearTimeout(timer);
        awaitingAcks.delete(seq);
      }
    },
    healthy: () => subscribed,
    ready,
    async close() {
      closing = true;
      subscribed = false;
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

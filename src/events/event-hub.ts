import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { HubMessage } from './token-event.js';

/** A listener's handle: `ready` resolves once no later event can be missed; `stop` ends it. */
export interface Listening {
  readonly ready: Promise<void>;
  stop(): void;
}

/**
 * Carries token events (and the news that a user was deactivated) to every
 * instance, one channel per user, so a subscriber only ever receives its own
 * user's events and no instance filters anyone else's.
 */
export interface TokenEventHub {
  publish(event: HubMessage): void;
  listen(userId: string, listener: (event: HubMessage) => void): Listening;
  close(): Promise<void>;
}

type Listener = (event: HubMessage) => void;

const channelOf = (userId: string) => `api-token-events:${userId}`;

/** Listeners per channel; shared by both hubs. */
class Channels {
  private readonly byChannel = new Map<string, Set<Listener>>();

  /** Returns true when this is the channel's first listener. */
  add(channel: string, listener: Listener): boolean {
    const listeners = this.byChannel.get(channel);
    if (listeners) {
      listeners.add(listener);
      return false;
    }
    this.byChannel.set(channel, new Set([listener]));
    return true;
  }

  /** Returns true when the channel has no listener left. */
  remove(channel: string, listener: Listener): boolean {
    const listeners = this.byChannel.get(channel);
    if (!listeners?.delete(listener) || listeners.size > 0) return false;
    this.byChannel.delete(channel);
    return true;
  }

  deliver(channel: string, event: HubMessage, logger: Logger): void {
    for (const listener of [...(this.byChannel.get(channel) ?? [])]) {
      try {
        listener(event);
      } catch (error) {
        logger.error({ err: error, channel }, 'token event listener failed');
      }
    }
  }
}

/** Events stay in this process: the embedded default, one instance. */
export function inProcessHub(logger: Logger): TokenEventHub {
  const channels = new Channels();
  return {
    publish: (event) => channels.deliver(channelOf(event.userId), event, logger),
    listen(userId, listener) {
      const channel = channelOf(userId);
      channels.add(channel, listener);
      return { ready: Promise.resolve(), stop: () => channels.remove(channel, listener) };
    },
    close: async () => undefined,
  };
}


function withTimeout(promise: Promise<unknown>, ms: number, message: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).then(
    () => clearTimeout(timer),
    (error: unknown) => {
      clearTimeout(timer);
      throw error;
    },
  );
}

/**
 * Events cross instances and regions through Redis pub/sub. `ready` waits for
 * Redis to confirm the subscription, so a replay that starts after it cannot
 * miss an event published in between.
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
  const subscriber = new Redis(url, { lazyConnect: false });
  const channels = new Channels();
  const subscribed = new Map<string, Promise<unknown>>();
  for (const client of [publisher, subscriber]) {
    client.on('error', (error: Error) => logger.warn({ err: error }, 'redis connection error'));
  }
  subscriber.on('message', (channel: string, message: string) => {
    try {
      channels.deliver(channel, JSON.parse(message) as HubMessage, logger);
    } catch (error) {
      logger.error({ err: error, channel }, 'unreadable token event from redis');
    }
  });
  return {
    publish(event) {
      publisher
        .publish(channelOf(event.userId), JSON.stringify(event))
        .catch((error: unknown) => {
          onPublishFailure();
          logger.error({ err: error, eventId: event.id }, 'could not publish token event');
        });
    },
    listen(userId, listener) {
      const channel = channelOf(userId);
      if (channels.add(channel, listener)) subscribed.set(channel, subscriber.subscribe(channel));
      const ready = withTimeout(
        subscribed.get(channel) ?? Promise.resolve(),
        readyTimeoutMs,
        'Redis did not confirm the event subscription in time',
      );
      return {
        ready,
        stop() {
          if (!channels.remove(channel, listener)) return;
          subscribed.delete(channel);
          subscriber.unsubscribe(channel).catch(() => undefined);
        },
      };
    },
    async close() {
      // quit() waits for a connection that may never come; an unconnected client is just dropped.
      await Promise.allSettled(
        [publisher, subscriber].map((client) => (client.status === 'ready' ? client.quit() : client.disconnect())),
      );
    },
  };
}

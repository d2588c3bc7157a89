// Connects the shared back end: one Redis connection for commands, one for subscriptions (the
// bus). Unreachable at start is a clear error; lost later, the clients reconnect by themselves,
// readiness reports it, and the bus tells the hub once its subscriptions are back.

import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../log.js';
import { newNodeId } from '../tokens.js';
import { RedisKeys, RedisStore } from './redis-store.js';
import type { BusEvent, SessionBus, StateBackend, TailLimits } from './store.js';

/** How long the first connection may take before the gateway gives up starting. */
const CONNECT_TIMEOUT_MS = 5000;
/** How often a node refreshes its heartbeat. */
const HEARTBEAT_MS = 5000;

/** Thrown when Redis cannot be reached at start. */
export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

/** A Redis URL with its password hidden, for messages and logs. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis://(unparsable)';
  }
}

class RedisBus implements SessionBus {
  private readonly handlers = new Map<string, (message: string) => void>();
  private readonly eventHandlers: ((event: BusEvent) => void)[] = [];
  private readonly resubscribedHandlers: (() => void)[] = [];

  constructor(
    readonly nodeId: string,
    private readonly pub: Redis,
    private readonly sub: Redis,
    private readonly keys: RedisKeys,
    private readonly log: Logger,
  ) {
    const prefix = keys.channel('');
    sub.on('message', (channel: string, message: string) => {
      if (channel === keys.events()) {
        let event: BusEvent;
        try {
          event = JSON.parse(message) as BusEvent;
        } catch {
          return;
        }
        for (const handler of this.eventHandlers) this.safely(() => handler(event));
        return;
      }
      const handler = channel.startsWith(prefix) ? this.handlers.get(channel.slice(prefix.length)) : undefined;
      if (handler) this.safely(() => handler(message));
    });
    // The bus is made after the first connect: only later 'ready' events are reconnections.
    let connectedOnce = sub.status === 'ready';
    sub.on('ready', () => {
      // ioredis has sent the re-subscriptions by 'ready' after a reconnect. The handlers write
      // (reloads, re-asserted state): they run once the command connection is back too.
      if (!connectedOnce) {
        connectedOnce = true;
        return;
      }
      const fire = () => {
        for (const handler of this.resubscribedHandlers) this.safely(handler);
      };
      if (pub.status === 'ready') fire();
      else pub.once('ready', fire);
    });
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error('bus message handler failed', { error: (err as Error).message });
    }
  }

  async publish(sessionId: string, message: string): Promise<void> {
    await this.pub.publish(this.keys.channel(sessionId), message);
  }

  async subscribe(sessionId: string, handler: (message: string) => void): Promise<void> {
    this.handlers.set(sessionId, handler);
    await this.sub.subscribe(this.keys.channel(sessionId));
  }

  async unsubscribe(sessionId: string): Promise<void> {
    this.handlers.delete(sessionId);
    await this.sub.unsubscribe(this.keys.channel(sessionId));
  }

  async publishEvent(event: BusEvent): Promise<void> {
    await this.pub.publish(this.keys.events(), JSON.stringify(event));
  }

  onEvent(handler: (event: BusEvent) => void): void {
    this.eventHandlers.push(handler);
  }

  onResubscribed(handler: () => void): void {
    this.resubscribedHandlers.push(handler);
  }
}

/** The Redis back end and what stops it. */
export interface RedisBackend extends StateBackend {
  store: RedisStore;
  /** Stops the heartbeat and closes both connections (after the node's counts are removed when `forget`). */
  close(forgetSessions?: Iterable<string>): Promise<void>;
}

/** Connects to Redis (both connections) or throws RedisUnavailableError with the reason. */
export async function connectRedis(url: string, log: Logger, tailLimits: TailLimits, prefix = 'cobrowse:'): Promise<RedisBackend> {
  const options: RedisOptions = {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // Fail commands at once while disconnected, rather than queueing them without bound: the
    // caller answers with a clear error and nothing waits silently.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // A script whose reply was lost may have run: sending it again would record a batch twice.
    autoResendUnfulfilledCommands: false,
    retryStrategy: (times) => Math.min(100 * times, 2000),
  };
  const pub = new Redis(url, options);
  // The subscriber may queue: its (re)subscriptions must reach Redis once it is back.
  const sub = new Redis(url, { ...options, enableOfflineQueue: true, maxRetriesPerRequest: null });
  const shown = redactRedisUrl(url);
  let lastError = '';
  for (const client of [pub, sub]) {
    client.on('error', (err: Error) => {
      if (err.message === lastError) return;
      lastError = err.message;
      log.warn('redis connection error', { redis: shown, error: err.message });
    });
  }
  pub.on('ready', () => {
    if (lastError) log.info('redis connection restored', { redis: shown });
    lastError = '';
  });
  try {
    await Promise.all([pub.connect(), sub.connect()]);
    await pub.ping();
  } catch (err) {
    pub.disconnect();
    sub.disconnect();
    throw new RedisUnavailableError(`Redis at ${shown} is unreachable: ${(err as Error).message || String(err)}`);
  }
  const nodeId = newNodeId();
  const keys = new RedisKeys(prefix);
  const store = new RedisStore(pub, keys, nodeId, tailLimits);
  const bus = new RedisBus(nodeId, pub, sub, keys, log);
  await sub.subscribe(keys.events());
  await store.heartbeat();
  // Back after an outage: tell the others at once that this node is alive (its counts count again).
  pub.on('ready', () => {
    store.heartbeat().catch(() => {});
  });
  const beat = setInterval(() => {
    store.heartbeat().catch(() => {});
  }, HEARTBEAT_MS);
  beat.unref();
  return {
    store,
    bus,
    close: async (forgetSessions) => {
      clearInterval(beat);
      if (forgetSessions) await store.forgetNode(forgetSessions).catch(() => {});
      pub.disconnect();
      sub.disconnect();
    },
  };
}

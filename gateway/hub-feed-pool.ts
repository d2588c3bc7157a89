// The feeds of this node's sessions (hub-feed.ts): one per session, started by its first socket
// here, kept for a while after its last one closed (a reload comes back), closed when it ends.

import { type FeedSinks, SessionFeed } from './hub-feed.js';
import type { Logger } from './log.js';
import type { Session } from './session.js';
import type { SessionBus, StateStore } from './state/store.js';

/** A session's feed stays this long after its last socket on this node closed (a reload comes back). */
const FEED_LINGER_MS = 30_000;

/** The session feeds of this node, by session id. */
export class FeedPool {
  private readonly feeds = new Map<string, { feed: SessionFeed; linger: ReturnType<typeof setTimeout> | null }>();

  constructor(
    private readonly store: StateStore,
    private readonly bus: SessionBus,
    private readonly sinks: FeedSinks,
    private readonly log: Logger,
  ) {}

  /** The session's feed, started when there is none (a lingering one stays). */
  of(session: Session): SessionFeed {
    const entry = this.feeds.get(session.id);
    if (entry) {
      if (entry.linger) clearTimeout(entry.linger);
      entry.linger = null;
      return entry.feed;
    }
    const feed = new SessionFeed(session, this.store, this.bus, this.sinks, this.log);
    this.feeds.set(session.id, { feed, linger: null });
    return feed;
  }

  /** The feed failed to start: not kept, so that the next socket of the session starts a fresh one. */
  failed(sessionId: string, feed: SessionFeed): void {
    if (this.feeds.get(sessionId)?.feed !== feed) return;
    this.feeds.delete(sessionId);
    void feed.close().catch(() => {});
  }

  /** The session's last socket on this node closed: its feed closes unless another opens within FEED_LINGER_MS. */
  linger(sessionId: string): void {
    const entry = this.feeds.get(sessionId);
    if (!entry || entry.linger) return;
    entry.linger = setTimeout(() => {
      if (this.feeds.get(sessionId) !== entry) return;
      this.feeds.delete(sessionId);
      void entry.feed.close().catch(() => {});
    }, FEED_LINGER_MS);
    entry.linger.unref();
  }

  /** Closes the session's feed now (it ended). */
  close(sessionId: string): void {
    const entry = this.feeds.get(sessionId);
    if (!entry) return;
    if (entry.linger) clearTimeout(entry.linger);
    this.feeds.delete(sessionId);
    void entry.feed.close().catch(() => {});
  }

  /** Messages published while the bus was away never arrive: every feed reloads its checkpoint. */
  reloadAll(): void {
    for (const { feed } of this.feeds.values()) void feed.reload().catch(() => {});
  }
}

// One session's stream on this node: the bus subscription and the replica checkpoint it feeds.
// Invariant: at every synchronous point, the replica's lastSeq is the seq of the last message
// handed to this node's mirrors, so a follower replayed from the replica and subscribed in the
// same tick misses nothing. A gap (a message lost while the bus was away) reloads the stored
// checkpoint and hands over what was missed, in order.

import { type FanoutTarget, parseBusMessage } from './hub-fanout.js';
import type { Logger } from './log.js';
import type { Session } from './session.js';
import type { SessionBus, StateStore } from './state/store.js';

/** How soon a failed checkpoint read is tried again. */
const RELOAD_RETRY_MS = 1000;

/** Where the feed hands messages on this node. */
export interface FeedSinks {
  /** A snapshot or mutation batch for every mirror of the session, in seq order. */
  sequenced(session: Session, encoded: string): void;
  addressed(session: Session, target: FanoutTarget, encoded: string): void;
}

/** The subscription and replica of one session on this node. */
export class SessionFeed {
  private loaded = false;
  /** The checkpoint read under way, if any (messages wait in `pending` meanwhile). */
  private inflight: Promise<void> | null = null;
  private closed = false;
  private pending: string[] = [];
  /** Resolves once the replica holds the stored checkpoint and the subscription is in place. */
  readonly ready: Promise<void>;

  constructor(
    private readonly session: Session,
    private readonly store: StateStore,
    private readonly bus: SessionBus,
    private readonly sinks: FeedSinks,
    private readonly log: Logger,
  ) {
    this.ready = this.start();
  }

  private async start(): Promise<void> {
    // Subscribe first, then read: whatever is published in between is held in `pending`.
    await this.bus.subscribe(this.session.id, (message) => this.receive(message));
    await this.reload();
    if (!this.loaded) throw new Error('the checkpoint could not be read');
  }

  private receive(message: string): void {
    if (this.closed) return;
    const parsed = parseBusMessage(message);
    if (!parsed) {
      this.log.warn('unreadable hub message on the bus', { sessionId: this.session.id });
      return;
    }
    if (parsed.kind === 'addressed') {
      this.sinks.addressed(this.session, parsed.target, parsed.encoded);
      return;
    }
    if (!this.loaded || this.inflight) {
      this.pending.push(message);
      return;
    }
    this.take(parsed.seq, parsed.encoded, parsed.isSnapshot);
  }

  private take(seq: number, encoded: string, isSnapshot: boolean): void {
    const cp = this.session.checkpoint;
    if (seq <= cp.lastSeq) return;
    if (cp.apply(seq, encoded, isSnapshot)) {
      this.sinks.sequenced(this.session, encoded);
      return;
    }
    this.log.info('hub stream gap: reloading the checkpoint', { sessionId: this.session.id, have: cp.lastSeq, got: seq });
    this.pending.push(`S${seq}\n${encoded}`);
    void this.reload().catch((err: unknown) => this.log.warn('checkpoint reload failed', { sessionId: this.session.id, error: (err as Error).message }));
  }

  /** Reads the stored checkpoint into the replica and hands the mirrors what they have not had. */
  reload(): Promise<void> {
    if (this.closed) return Promise.resolve();
    // One read at a time; callers during it wait for the same one.
    this.inflight ??= this.readAndHandOver().finally(() => {
      this.inflight = null;
      // Messages that came during the read, or that still do not follow on: another read soon.
      if (this.pending.length > 0 && !this.closed) setTimeout(() => void this.reload().catch(() => {}), 20).unref();
    });
    return this.inflight;
  }

  private async readAndHandOver(): Promise<void> {
    try {
      const data = await this.store.readCheckpoint(this.session.id);
      if (this.closed) return;
      const cp = this.session.checkpoint;
      if (!this.loaded) {
        cp.load(data);
      } else if (data.lastSeq > cp.lastSeq) {
        const had = cp.lastSeq;
        cp.load(data);
        for (const encoded of cp.replayFrom(had)) this.sinks.sequenced(this.session, encoded);
      }
      this.loaded = true;
    } catch (err) {
      // Messages wait in `pending` meanwhile; try again shortly while the feed is in use.
      if (!this.closed) setTimeout(() => void this.reload().catch(() => {}), RELOAD_RETRY_MS).unref();
      throw err;
    }
    const queued = this.pending;
    this.pending = [];
    for (const message of queued) {
      const parsed = parseBusMessage(message);
      if (parsed?.kind === 'sequenced') this.take(parsed.seq, parsed.encoded, parsed.isSnapshot);
    }
  }

  /** Stops receiving (the session's last socket on this node closed, or it ended). */
  async close(): Promise<void> {
    this.closed = true;
    await this.bus.unsubscribe(this.session.id);
  }
}

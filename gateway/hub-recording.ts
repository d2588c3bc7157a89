// Recording the host page's stream: each snapshot and batch goes to the state store, which stamps
// the seq and fans it out. When one cannot be recorded (the store is away), the following batches
// are held back and the live page is asked for a snapshot until one is recorded: mirrors never
// apply a stream with a hole in it.

import type { WebSocket } from 'uWebSockets.js';
import type { Mutation, ServerMessage } from '../protocol/messages.js';
import type { SocketData } from './hub-socket.js';
import type { Logger } from './log.js';
import type { SnapshotInput, StateStore } from './state/store.js';

/** What recording needs from the hub. */
export interface RecordingHub {
  /** Sends to a socket unless it closed meanwhile. */
  tell(ws: WebSocket<SocketData>, data: SocketData, message: ServerMessage): void;
  /** Asks the session's live page, when it is on this node, for a fresh snapshot. */
  askForSnapshot(sessionId: string): void;
}

/** First wait before asking again for a snapshot after a failed record, and the longest wait. */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 5000;

/** The record path of the live pages of this node. */
export class StreamRecording {
  /** Sessions whose recorded stream missed a message: their batches wait for a fresh snapshot (the timer asks again). */
  private readonly needSnapshot = new Map<string, ReturnType<typeof setTimeout> | null>();

  constructor(
    private readonly store: StateStore,
    private readonly log: Logger,
    private readonly hub: RecordingHub,
  ) {}

  /** Records a snapshot of the live page behind `ws`. */
  snapshot(ws: WebSocket<SocketData>, data: SocketData, snapshot: SnapshotInput): void {
    const id = data.session.id;
    // The batches after it go on the same connection, after it: they may be recorded at once. If
    // it fails, failed() holds them back again (one retry timer: forget() cancelled the old one).
    this.forget(id);
    this.store.recordSnapshot(id, snapshot).catch((err: unknown) => this.failed(ws, data, err));
  }

  /** Records a batch of the live page behind `ws`, unless one before it was lost. */
  mutations(ws: WebSocket<SocketData>, data: SocketData, batch: Mutation[]): void {
    const id = data.session.id;
    if (this.needSnapshot.has(id)) return;
    this.store.recordMutations(id, batch).then(
      (recorded) => {
        if (recorded === null) this.holdBack(id);
        if (recorded === null || recorded.wantsSnapshot) this.hub.tell(ws, data, { type: 'request-snapshot' });
      },
      (err: unknown) => this.failed(ws, data, err),
    );
  }

  /** The bus is back after an outage: live pages that lost a message send a snapshot now. */
  resubscribed(): void {
    for (const id of this.needSnapshot.keys()) this.hub.askForSnapshot(id);
  }

  /** A snapshot was recorded, or the session ended (or its live page went): nothing to wait for. */
  forget(sessionId: string): void {
    const timer = this.needSnapshot.get(sessionId);
    if (timer) clearTimeout(timer);
    this.needSnapshot.delete(sessionId);
  }

  /** Not recorded (no snapshot yet, or the tail is full): the next batches wait for a snapshot, asked for until it comes. */
  private holdBack(sessionId: string): void {
    if (this.needSnapshot.has(sessionId)) return;
    this.needSnapshot.set(sessionId, null);
    this.retry(sessionId, RETRY_FIRST_MS);
  }

  private failed(ws: WebSocket<SocketData>, data: SocketData, err: unknown): void {
    const id = data.session.id;
    if (this.needSnapshot.has(id)) return;
    this.needSnapshot.set(id, null);
    this.log.warn('hub could not record the host page: waiting for the session store', { sessionId: id, error: (err as Error).message });
    this.hub.tell(ws, data, { type: 'error', code: 'STATE_UNAVAILABLE', message: 'Followers may lag behind: the session store is not answering.' });
    this.retry(id, RETRY_FIRST_MS);
  }

  /** Asks the live page for a snapshot until one is recorded (the store may take a while to come back). */
  private retry(sessionId: string, delayMs: number): void {
    const timer = setTimeout(() => {
      if (this.needSnapshot.get(sessionId) !== timer) return;
      this.hub.askForSnapshot(sessionId);
      this.retry(sessionId, Math.min(delayMs * 2, RETRY_MAX_MS));
    }, delayMs);
    timer.unref();
    this.needSnapshot.set(sessionId, timer);
  }
}

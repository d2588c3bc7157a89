// The hub: one uWS topic per session on each node. The host's live page sends snapshots and
// mutations; the hub validates them and has the state store stamp sequence numbers and record
// them, and every node's feed hands them to its mirrors in order. Messages for particular
// sockets (roster, chat, input for the live page) travel on the same bus, so a session can span
// nodes. Roles are enforced here, not in the browser. Handoff (hub-handoff.ts), recording
// (hub-recording.ts), the feed (hub-feed.ts) and addressing (hub-fanout.ts) live apart; what stays
// is the socket lifecycle and the one exhaustive switch over client messages (~600 lines).

import type { TemplatedApp, WebSocket, WebSocketBehavior } from 'uWebSockets.js';
import {
  type ClientMessage,
  encodeMessage,
  FOLLOWER_BYTES_BURST,
  FOLLOWER_BYTES_PER_SECOND,
  FOLLOWER_MAX_MESSAGE_BYTES,
  MAX_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  parseClientMessage,
  type ServerMessage,
} from '../protocol/messages.js';
import { type CollabIo, controlPolicyFor, handleCollab, mayAct, rosterMessage } from './collab.js';
import type { GatewayContext } from './context.js';
import { addressed, type FanoutTarget } from './hub-fanout.js';
import { SessionFeed } from './hub-feed.js';
import { HostHandoff } from './hub-handoff.js';
import { StreamRecording } from './hub-recording.js';
import type { Participant, Session } from './session.js';
import type { StateBackend } from './state/store.js';

/** Per-socket state kept in uWS's user data. */
export interface SocketData {
  session: Session;
  participant: Participant;
  label: string;
  mode: 'live' | 'mirror' | null;
  /** This connection's id over every node: `<node>/<n>`. */
  conn: string;
  /** Token bucket for the message rate limit. */
  tokens: number;
  refilledAt: number;
  /** Messages are handled in order, after the session's feed is ready. */
  queue: Promise<void>;
  closed: boolean;
  /** Addressed messages that came before the welcome and the chat history, sent right after them; null once welcomed. */
  early: string[] | null;
  /** A socket of the host that has not yet said it is the live page: welcomed, but given nothing of the session (see welcome). */
  withheld: boolean;
  /** Counted in the participant's connections (false for a socket refused at open). */
  admitted: boolean;
  /** The last hello of this socket asked for the live page (read when the message came, before it is handled). */
  saidLive: boolean;
  /** Token bucket for the byte rate of a socket that is not the host's live page. */
  byteTokens: number;
  byteRefilledAt: number;
}

/** Addressed messages kept for a socket not yet welcomed (or a host socket not yet live); more are dropped. */
const MAX_EARLY_MESSAGES = 256;

/** Message rate a socket may sustain, and the burst above it. */
const RATE_PER_SECOND = 200;
const RATE_BURST = 400;
/** The host's live page is the one socket that publishes a lot (a page that changes quickly). */
const LIVE_RATE_PER_SECOND = 2000;
const LIVE_RATE_BURST = 4000;

/**
 * FOLLOWER_MAX_MESSAGE_BYTES (protocol/messages.ts) is the largest message of a socket that is not
 * the host's live page: nothing else sends snapshots or mutation batches, and everything a
 * follower sends (input, chat, presence; a text field's changes as splices, a large paste in
 * parts) is small. A larger one closes the socket before it is decoded or parsed (a 4.7 MB
 * snapshot took ~90 ms to parse). FOLLOWER_BYTES_PER_SECOND and FOLLOWER_BYTES_BURST are the
 * bytes per second such a socket may sustain and the burst above it: they bound the parsing it
 * costs (~0.8 ms per 64 KiB snapshot). The follower's runtime keeps under all three.
 */
export { FOLLOWER_BYTES_PER_SECOND, FOLLOWER_MAX_MESSAGE_BYTES };
/** Open hub sockets of one participant over every node: the live page and its popups, a few tabs, reconnections that overlap. */
export const MAX_SOCKETS_PER_PARTICIPANT = 8;
/** A participant's name changes at most this often (each one is a store write and a roster to everyone). */
export const RENAME_INTERVAL_MS = 1000;
/** A token bucket's tokens at `now`, refilled at `rate` per second since `since`, at most `burst`. */
function refilled(tokens: number, since: number, now: number, rate: number, burst: number): number {
  return Math.min(burst, tokens + ((now - since) / 1000) * rate);
}
/** Per-socket send buffer; a follower beyond it is disconnected and resyncs on reconnect. */
const MAX_BACKPRESSURE = 4 * 1024 * 1024;
/** What a removed participant's sockets are told when the reason given at the removal did not reach this node. */
const REMOVED_REASON = 'The host removed you from this session.';
/** A session's feed stays this long after its last socket on this node closed (a reload comes back). */
const FEED_LINGER_MS = 30_000;

function topicOf(session: Session): string {
  return `session/${session.id}`;
}

/** Tracks the sockets of every session on this node and routes their messages. */
export class Hub {
  private readonly sockets = new Map<string, Set<WebSocket<SocketData>>>();
  /** The host page whose DOM is mirrored, per session id, when it is connected to this node. */
  private readonly liveSocket = new Map<string, WebSocket<SocketData>>();
  private readonly feeds = new Map<string, { feed: SessionFeed; linger: ReturnType<typeof setTimeout> | null }>();
  private readonly recording: StreamRecording;
  private app: TemplatedApp | null = null;
  private readonly handoff: HostHandoff;
  private connCounter = 0;
  /** When each participant last changed its name through this node. */
  private readonly renamedAt = new WeakMap<Participant, number>();

  constructor(
    private readonly gw: GatewayContext,
    private readonly backend: StateBackend,
    hostGraceMs: number,
  ) {
    this.handoff = new HostHandoff(
      gw,
      {
        hasLocalLive: (id) => this.liveSocket.has(id),
        collabIo: (session) => this.collabIo(session),
        broadcastRoster: (session) => this.broadcastRoster(session),
      },
      hostGraceMs,
    );
    this.recording = new StreamRecording(backend.store, gw.log, {
      tell: (ws, data, message) => this.sendIfOpen(ws, data, message),
      askForSnapshot: (id) => this.askForSnapshot(id),
    });
    gw.registry.onReplicaChange((session) => this.replicaChanged(session));
    gw.registry.onRemoval((session, participant, reason, here) => this.participantRemoved(session, participant, reason, here));
    // Messages published while the bus was away never arrive: every feed reloads its checkpoint,
    // and live pages whose batches could not be recorded send a fresh snapshot.
    backend.bus.onResubscribed(() => {
      for (const { feed } of this.feeds.values()) void feed.reload().catch(() => {});
      this.recording.resubscribed();
      this.reassert();
    });
  }

  /** After an outage, writes of this node may have been lost: its connection counts and live pages are written again. */
  private reassert(): void {
    for (const [id, set] of this.sockets) {
      const session = this.gw.registry.get(id);
      if (!session || session.ended) continue;
      const participants = new Set<Participant>();
      for (const ws of set) participants.add(ws.getUserData().participant);
      for (const p of participants) this.gw.registry.connectionChanged(session, p, 0);
      const live = this.liveSocket.get(id);
      if (live) session.set({ live: live.getUserData().conn });
    }
  }

  /** Number of open sockets (all sessions). */
  get connectionCount(): number {
    let n = 0;
    for (const set of this.sockets.values()) n += set.size;
    return n;
  }

  /** The uWS behavior for the hub's WebSocket route; `authenticate` runs in the upgrade. */
  behavior(
    app: TemplatedApp,
    authenticate: (host: string, cookie: string) => Promise<Pick<SocketData, 'session' | 'participant' | 'label'> | null>,
  ): WebSocketBehavior<SocketData> {
    this.app = app;
    return {
      maxPayloadLength: MAX_MESSAGE_BYTES,
      maxBackpressure: MAX_BACKPRESSURE,
      closeOnBackpressureLimit: 1,
      idleTimeout: 60,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => {
        // Lifetime rule: req is only valid synchronously; read every header before anything else.
        const host = req.getHeader('host');
        const origin = req.getHeader('origin');
        const cookie = req.getHeader('cookie');
        const key = req.getHeader('sec-websocket-key');
        const protocol = req.getHeader('sec-websocket-protocol');
        const extensions = req.getHeader('sec-websocket-extensions');
        let aborted = false;
        // Lifetime rule: onAborted before the first await; after an abort, res must not be touched.
        res.onAborted(() => {
          aborted = true;
        });
        const refuse = (status: string, body: string) =>
          res.cork(() => {
            res.writeStatus(status).writeHeader('content-type', 'application/json').end(body);
          });
        // Only a page of this very proxied host may open its hub socket: the cookie goes with any
        // same-site WebSocket (every proxied host of every session is one site), so a page of another
        // session or another origin of this one must not ride on it. Browsers always send Origin on a
        // WebSocket upgrade; a request without one is refused too.
        const proxied = this.gw.mapper.parseHost(host);
        if (proxied && origin !== this.gw.mapper.proxiedOrigin(proxied)) {
          this.gw.metrics?.rejected('BAD_ORIGIN');
          this.gw.log.warn('hub connection refused: foreign origin', { sessionId: proxied.sessionId, origin: origin.slice(0, 200) || null });
          refuse('403 Forbidden', '{"error":{"code":"BAD_ORIGIN","message":"The hub accepts connections from pages of its own host only."}}');
          return;
        }
        authenticate(host, cookie).then(
          (auth) => {
            if (aborted) return;
            if (!auth) {
              refuse('401 Unauthorized', '{"error":{"code":"NOT_A_PARTICIPANT","message":"Join the session first."}}');
              return;
            }
            const data: SocketData = {
              ...auth,
              mode: null,
              conn: `${this.backend.bus.nodeId}/${++this.connCounter}`,
              tokens: RATE_BURST,
              refilledAt: Date.now(),
              queue: Promise.resolve(),
              closed: false,
              early: [],
              withheld: false,
              admitted: false,
              saidLive: false,
              byteTokens: FOLLOWER_BYTES_BURST,
              byteRefilledAt: Date.now(),
            };
            res.cork(() => res.upgrade(data, key, protocol, extensions, context));
          },
          (err: unknown) => {
            this.gw.log.warn('hub connection refused: the session store failed', { error: (err as Error).message });
            if (!aborted) refuse('503 Service Unavailable', '{"error":{"code":"STATE_UNAVAILABLE","message":"Try again in a moment."}}');
          },
        );
      },
      open: (ws) => this.onOpen(ws),
      message: (ws, message) => this.onMessage(ws, message),
      close: (ws) => this.onClose(ws),
    };
  }

  /** Tells this node's sockets of an ended session why, then closes them. */
  endSession(session: Session, reason: string): void {
    const set = this.sockets.get(session.id);
    this.sockets.delete(session.id);
    this.liveSocket.delete(session.id);
    this.recording.forget(session.id);
    this.handoff.cancel(session.id);
    const entry = this.feeds.get(session.id);
    if (entry) {
      if (entry.linger) clearTimeout(entry.linger);
      this.feeds.delete(session.id);
      void entry.feed.close().catch(() => {});
    }
    if (!set) return;
    const msg = encodeMessage({ type: 'ended', reason });
    for (const ws of [...set]) {
      ws.cork(() => {
        this.sendEncoded(ws, msg);
        ws.end(4000, 'session ended');
      });
    }
  }

  /**
   * The host removed a participant: its sockets on this node are told why and closed for good
   * (4000: the browser does not reconnect; its token is gone anyway). The node that made the
   * removal sends everyone the roster without it.
   */
  private participantRemoved(session: Session, participant: Participant, reason: string, here: boolean): void {
    const msg = encodeMessage({ type: 'error', code: 'REMOVED', message: reason });
    for (const ws of [...(this.sockets.get(session.id) ?? [])]) {
      const data = ws.getUserData();
      if (data.participant.id !== participant.id || data.closed) continue;
      ws.cork(() => {
        this.sendEncoded(ws, msg);
        ws.end(4000, 'removed');
      });
    }
    if (here) this.broadcastRoster(session);
  }

  /** Tells every live page of the session, on any node, that its cookie jar changed (document.cookie refreshes). */
  notifyCookiesChanged(session: Session): void {
    this.fanout(session, { to: 'live-pages' }, { type: 'cookies-changed' });
  }

  /** Closes one participant's sockets on this node with a code that makes the browser reconnect; returns how many. */
  disconnect(sessionId: string, participantId: string): number {
    let n = 0;
    for (const ws of [...(this.sockets.get(sessionId) ?? [])]) {
      if (ws.getUserData().participant.id !== participantId) continue;
      ws.end(1012, 'reconnect');
      n++;
    }
    return n;
  }

  /** Closes every socket of this node with 1012 (the browsers reconnect, to another node); returns how many. */
  disconnectAll(): number {
    let n = 0;
    for (const set of this.sockets.values()) {
      for (const ws of [...set]) {
        ws.end(1012, 'node restarting');
        n++;
      }
    }
    return n;
  }

  /** Sends `message` to every open socket of this node (e.g. the gateway is draining); returns how many. */
  broadcast(message: ServerMessage): number {
    const encoded = encodeMessage(message);
    let n = 0;
    for (const set of this.sockets.values()) {
      for (const ws of set) {
        this.sendEncoded(ws, encoded);
        n++;
      }
    }
    return n;
  }

  private send(ws: WebSocket<SocketData>, message: ServerMessage): void {
    this.sendEncoded(ws, encodeMessage(message));
  }

  /** Sends an encoded message and counts it (type, bytes, backpressure). */
  private sendEncoded(ws: WebSocket<SocketData>, encoded: string): void {
    // Lifetime rule: after close, uWS throws on any use of the socket; async paths check `closed` first.
    if (ws.getUserData().closed) return;
    const status = ws.send(encoded);
    this.gw.metrics?.wsSent(encoded, status);
  }

  /** Sends a message to some of the session's sockets, on whichever node they are. */
  private fanout(session: Session, target: FanoutTarget, message: ServerMessage): void {
    this.backend.bus
      .publish(session.id, addressed(target, encodeMessage(message)))
      .catch((err: unknown) =>
        this.gw.log.warn('hub message not sent to the other nodes', { sessionId: session.id, type: message.type, error: (err as Error).message }),
      );
  }

  /** Delivers an addressed message that came over the bus to this node's sockets. */
  private deliver(session: Session, target: FanoutTarget, encoded: string): void {
    const set = this.sockets.get(session.id);
    if (!set) return;
    if (target.to === 'live') {
      const live = this.liveSocket.get(session.id);
      if (live) this.sendEncoded(live, encoded);
      return;
    }
    for (const ws of set) {
      const data = ws.getUserData();
      if (
        target.to === 'all' ? data.participant.id !== target.except : target.to === 'participant' ? data.participant.id === target.id : data.mode === 'live'
      ) {
        if (data.early) {
          // Bounded: a socket of the host that never says it is the live page holds no more.
          if (data.early.length < MAX_EARLY_MESSAGES) data.early.push(encoded);
        } else this.sendEncoded(ws, encoded);
      }
    }
  }

  private feedOf(session: Session): SessionFeed {
    const entry = this.feeds.get(session.id);
    if (entry) {
      if (entry.linger) clearTimeout(entry.linger);
      entry.linger = null;
      return entry.feed;
    }
    const feed = new SessionFeed(
      session,
      this.backend.store,
      this.backend.bus,
      {
        sequenced: (s, encoded) => this.publishLocal(s, encoded),
        addressed: (s, target, encoded) => this.deliver(s, target, encoded),
      },
      this.gw.log,
    );
    this.feeds.set(session.id, { feed, linger: null });
    return feed;
  }

  private onOpen(ws: WebSocket<SocketData>): void {
    const data = ws.getUserData();
    const { session, participant } = data;
    if (session.ended) {
      ws.end(4000, 'session ended');
      return;
    }
    if (session.removed.has(participant.id)) {
      // Removed while its upgrade was being authenticated: participantRemoved did not see this socket.
      this.gw.metrics?.rejected('REMOVED');
      ws.cork(() => {
        this.send(ws, { type: 'error', code: 'REMOVED', message: REMOVED_REASON });
        ws.end(4000, 'removed');
      });
      return;
    }
    if (participant.connections >= MAX_SOCKETS_PER_PARTICIPANT) {
      // The newest one goes; 4400 so that the browser does not keep reconnecting.
      this.reject(ws, 'TOO_MANY_CONNECTIONS', `at most ${MAX_SOCKETS_PER_PARTICIPANT} open connections per participant: close another tab`, true);
      return;
    }
    data.admitted = true;
    let set = this.sockets.get(session.id);
    if (!set) this.sockets.set(session.id, (set = new Set()));
    set.add(ws);
    this.gw.registry.connectionChanged(session, participant, 1);
    session.touch();
    const feed = this.feedOf(session);
    // Every message of this socket waits for the feed: its subscription and replica are in place first.
    data.queue = feed.ready.then(
      () => this.welcome(ws, data),
      (err: unknown) => {
        this.gw.log.warn('session feed failed to start', { sessionId: session.id, error: (err as Error).message });
        // Not kept: the next socket of the session starts a fresh feed.
        if (this.feeds.get(session.id)?.feed === feed) {
          this.feeds.delete(session.id);
          void feed.close().catch(() => {});
        }
        if (!data.closed) ws.end(1013, 'try again later');
      },
    );
  }

  private async welcome(ws: WebSocket<SocketData>, data: SocketData): Promise<void> {
    // The feed may have taken a while: the socket may be gone, and must not be touched then.
    if (data.closed) return;
    const { session, participant } = data;
    // Never the join links: any script of the proxied page can open this socket as the host.
    this.send(ws, { type: 'welcome', v: PROTOCOL_VERSION, sessionId: session.id, participantId: participant.id, role: participant.role });
    // For the same reason a socket of the host gets nothing of the session (chat history, roster,
    // addressed messages: held back, bounded) until it says it is the live page, which a site's
    // script can do only by taking the live page over, visibly (the page that was live is told).
    if (participant.role === 'host' && data.mode !== 'live') {
      data.withheld = true;
      return;
    }
    await this.release(ws, data);
  }

  /** Sends a welcomed socket the chat history and what came for it before, and tells the session it is here. */
  private async release(ws: WebSocket<SocketData>, data: SocketData): Promise<void> {
    const { session } = data;
    const chat = await this.gw.registry.chatOf(session).catch(() => []);
    if (data.closed) return;
    const history = chat.map((entry) => encodeMessage({ type: 'chat', ...entry }));
    const shown = new Set(history);
    const early = data.early ?? [];
    data.early = null;
    ws.cork(() => {
      for (const encoded of history) this.sendEncoded(ws, encoded);
      // A chat message stored while the history was read came both ways: shown once.
      for (const encoded of early) if (!shown.has(encoded)) this.sendEncoded(ws, encoded);
    });
    this.broadcastRoster(session);
  }

  private broadcastRoster(session: Session): void {
    this.collabIo(session).broadcast(rosterMessage(session, controlPolicyFor(this.gw, session)));
  }

  /** How the collaboration module reaches this session's sockets, on every node. */
  private collabIo(session: Session): CollabIo {
    return {
      broadcast: (message, except) => this.fanout(session, except ? { to: 'all', except: except.id } : { to: 'all' }, message),
      sendTo: (participant, message) => this.fanout(session, { to: 'participant', id: participant.id }, message),
      chat: (entry, from) =>
        this.gw.registry.addChat(session, entry).then(
          () => this.fanout(session, { to: 'all' }, { type: 'chat', ...entry }),
          // The bus may be down with the store: the sender hears of it from this node directly.
          () =>
            this.deliver(
              session,
              { to: 'participant', id: from.id },
              encodeMessage({
                type: 'error',
                code: 'CHAT_NOT_SENT',
                message: 'Your message was not sent (the session store is not answering): try again in a moment.',
              }),
            ),
        ),
      log: (msg, fields) => this.gw.log.info(msg, fields),
    };
  }

  private onClose(ws: WebSocket<SocketData>): void {
    const data = ws.getUserData();
    data.closed = true;
    if (!data.admitted) return;
    const { session, participant } = data;
    const set = this.sockets.get(session.id);
    set?.delete(ws);
    if (set?.size === 0) {
      this.sockets.delete(session.id);
      const entry = this.feeds.get(session.id);
      if (entry && !entry.linger) {
        entry.linger = setTimeout(() => {
          if (this.feeds.get(session.id) !== entry) return;
          this.feeds.delete(session.id);
          void entry.feed.close().catch(() => {});
        }, FEED_LINGER_MS);
        entry.linger.unref();
      }
    }
    if (session.ended) return;
    // A removed participant's counts went with it, and the node that removed it sent the roster.
    if (session.removed.has(participant.id)) return;
    this.gw.registry.connectionChanged(session, participant, -1);
    if (participant.connections === 0) session.audit({ event: 'leave', participantId: participant.id, role: participant.role });
    this.broadcastRoster(session);
    if (this.liveSocket.get(session.id) === ws) {
      this.liveSocket.delete(session.id);
      if (session.live === data.conn) session.live = null;
      this.backend.store
        .releaseLive(session.id, data.conn)
        .then((released) => {
          if (released) this.gw.registry.announce(session);
        })
        .catch(() => {});
      this.handoff.schedule(session);
    }
  }

  /** Another node changed the session: a live page that lost its role here steps down; a host page gone elsewhere starts the grace period. */
  private replicaChanged(session: Session): void {
    // A removal whose bus event this node missed (the bus was away) shows in the stored state.
    for (const ws of [...(this.sockets.get(session.id) ?? [])]) {
      const { participant } = ws.getUserData();
      if (session.removed.has(participant.id)) this.participantRemoved(session, participant, REMOVED_REASON, false);
    }
    const local = this.liveSocket.get(session.id);
    if (local && session.live !== local.getUserData().conn) this.liveSocket.delete(session.id);
    if (session.live === null && !this.liveSocket.has(session.id) && !this.handoff.pending(session.id) && session.checkpoint.lastSeq > 0) {
      this.handoff.schedule(session);
    }
    if (session.live !== null) this.handoff.cancel(session.id);
  }

  private allowRate(data: SocketData): boolean {
    const now = Date.now();
    const [rate, burst] = data.mode === 'live' ? [LIVE_RATE_PER_SECOND, LIVE_RATE_BURST] : [RATE_PER_SECOND, RATE_BURST];
    data.tokens = refilled(data.tokens, data.refilledAt, now, rate, burst);
    data.refilledAt = now;
    if (data.tokens < 1) return false;
    data.tokens -= 1;
    return true;
  }

  /** Takes `bytes` from the byte budget of a socket that is not the live page. */
  private allowBytes(data: SocketData, bytes: number): boolean {
    const now = Date.now();
    data.byteTokens = refilled(data.byteTokens, data.byteRefilledAt, now, FOLLOWER_BYTES_PER_SECOND, FOLLOWER_BYTES_BURST);
    data.byteRefilledAt = now;
    if (data.byteTokens < bytes) return false;
    data.byteTokens -= bytes;
    return true;
  }

  /** True for the host's live page (or a host socket whose hello live is still queued): the one socket that sends snapshots and batches. */
  private mayPublish(data: SocketData): boolean {
    return data.saidLive && data.participant.role === 'host';
  }

  private reject(ws: WebSocket<SocketData>, code: string, message: string, close: boolean): void {
    const { session, participant } = ws.getUserData();
    this.gw.log.warn('hub message rejected', { sessionId: session.id, participantId: participant.id, role: participant.role, code, message });
    this.gw.metrics?.rejected(code);
    this.send(ws, { type: 'error', code, message });
    if (close) ws.end(4400, code);
  }

  /** Handles one message in order after the ones before; the promise rejects when handling failed (the socket guard logs it and closes the socket). */
  private onMessage(ws: WebSocket<SocketData>, message: ArrayBuffer): Promise<void> | undefined {
    const data = ws.getUserData();
    if (!this.allowRate(data)) {
      this.reject(ws, 'RATE_LIMITED', `more than ${data.mode === 'live' ? LIVE_RATE_PER_SECOND : RATE_PER_SECOND} messages per second`, true);
      return undefined;
    }
    // Before anything is decoded or parsed: only the live page sends large messages.
    if (!this.mayPublish(data)) {
      if (message.byteLength > FOLLOWER_MAX_MESSAGE_BYTES) {
        this.reject(ws, 'TOO_LARGE', `only the host's live page sends messages larger than ${FOLLOWER_MAX_MESSAGE_BYTES / 1024} KiB`, true);
        return undefined;
      }
      if (!this.allowBytes(data, message.byteLength)) {
        this.reject(ws, 'RATE_LIMITED', `more than ${FOLLOWER_BYTES_PER_SECOND / 1024} KiB per second`, true);
        return undefined;
      }
    }
    const parsed = parseClientMessage(Buffer.from(message).toString('utf8'));
    if (!parsed.ok) {
      this.reject(ws, 'BAD_MESSAGE', parsed.error, true);
      return undefined;
    }
    // Read now, not when the hello is handled (after the feed is ready): the snapshot right behind it must pass.
    if (parsed.value.type === 'hello') data.saidLive = parsed.value.mode === 'live';
    data.session.touch();
    this.gw.metrics?.wsReceived(parsed.value.type);
    const run = data.queue.then(() => {
      if (!data.closed && !data.session.ended) this.dispatch(ws, parsed.value);
    });
    data.queue = run.catch(() => {});
    return run;
  }

  private dispatch(ws: WebSocket<SocketData>, msg: ClientMessage): void {
    const data = ws.getUserData();
    const { session } = data;
    switch (msg.type) {
      case 'hello': {
        if (msg.mode === 'live') {
          if (data.participant.role !== 'host') {
            // A former host (another participant was promoted) goes back to following.
            this.reject(ws, 'NOT_HOST', 'only the host runs the live page', true);
            return;
          }
          data.mode = 'live';
          data.tokens = LIVE_RATE_BURST;
          // The page that was live is told: a takeover is never silent (another tab of the host, or
          // a script of a site pretending to be the host's page, which shares its origin and cookie).
          const previous = this.liveSocket.get(session.id);
          if (previous && previous !== ws) {
            this.send(previous, { type: 'notice', text: 'Another page of yours is now the live page: what it shows is what the others see.' });
          }
          this.liveSocket.set(session.id, ws);
          session.set({ live: data.conn });
          this.handoff.cancel(session.id);
          if (data.withheld) {
            data.withheld = false;
            void this.release(ws, data);
          }
          return;
        }
        if (data.participant.role === 'host') {
          // The host's own pages are the live page: the runtime never follows as the host. A mirror
          // socket of the host would be a site script's (it shares the page's origin and cookie),
          // watching every site of the session through the host's eyes.
          this.reject(ws, 'FORBIDDEN', 'the host runs the live page and does not follow it: open the page itself', true);
          return;
        }
        data.mode = 'mirror';
        const replay = session.checkpoint.replayFrom(msg.lastSeq);
        this.gw.metrics?.mirrorSynced(replay);
        ws.cork(() => {
          if (replay.length === 0) this.send(ws, { type: 'waiting-for-host' });
          for (const m of replay) this.sendEncoded(ws, m);
          // Same tick as the replay, read from the replica the feed keeps: no broadcast can fall between the two.
          ws.subscribe(topicOf(session));
        });
        return;
      }
      case 'snapshot': {
        if (!this.isLiveHost(ws)) {
          this.dropFollowerInput(ws, msg.type);
          return;
        }
        if (!this.acceptPageUrl(ws, msg.url)) return;
        this.recording.snapshot(ws, data, { url: msg.url, title: msg.title, viewport: msg.viewport, tree: msg.tree });
        return;
      }
      case 'mutations': {
        if (!this.isLiveHost(ws)) {
          this.dropFollowerInput(ws, msg.type);
          return;
        }
        for (const m of msg.batch) if (m.k === 'location' && !this.acceptPageUrl(ws, m.url)) return;
        this.recording.mutations(ws, data, msg.batch);
        return;
      }
      case 'input': {
        const { participant } = data;
        if (!mayAct(session, participant, controlPolicyFor(this.gw, session))) {
          session.audit({ event: 'blocked', participantId: participant.id, role: participant.role, detail: `input ${msg.event.kind}` });
          this.gw.log.warn(participant.role === 'observer' ? 'dropped input from an observer' : 'dropped input from a participant without control', {
            sessionId: session.id,
            participantId: participant.id,
            role: participant.role,
            kind: msg.event.kind,
          });
          this.gw.metrics?.rejected('FORBIDDEN');
          this.send(ws, {
            type: 'error',
            code: 'FORBIDDEN',
            message: participant.role === 'observer' ? 'Observers cannot act on the page.' : 'You do not have control right now.',
          });
          return;
        }
        if (participant.role === 'controller' && session.controlHolder !== participant.id && controlPolicyFor(this.gw, session) === 'take') {
          session.set({ controlHolder: participant.id });
          session.audit({ event: 'control', participantId: participant.id, role: participant.role, detail: 'took control' });
          this.broadcastRoster(session);
        }
        if (!session.live && !this.liveSocket.has(session.id)) {
          this.send(ws, { type: 'error', code: 'NO_HOST', message: "The host's page is not open right now." });
          return;
        }
        this.fanout(session, { to: 'live' }, { type: 'input', from: participant.id, event: msg.event });
        return;
      }
      case 'name': {
        const { participant } = data;
        if (msg.name.trim() !== participant.name) {
          const now = Date.now();
          if (now - (this.renamedAt.get(participant) ?? Number.NEGATIVE_INFINITY) < RENAME_INTERVAL_MS) {
            // Not logged: a flood of renames would flood the log.
            this.gw.metrics?.rejected('RATE_LIMITED');
            this.send(ws, { type: 'error', code: 'RATE_LIMITED', message: 'one name change per second: try again in a moment' });
            return;
          }
          this.renamedAt.set(participant, now);
        }
        handleCollab(session, participant, msg, controlPolicyFor(this.gw, session), this.collabIo(session));
        return;
      }
      case 'presence':
      case 'chat':
      case 'highlight':
        handleCollab(session, data.participant, msg, controlPolicyFor(this.gw, session), this.collabIo(session));
        return;
      case 'control': {
        handleCollab(session, data.participant, msg, controlPolicyFor(this.gw, session), this.collabIo(session));
        const target = msg.participantId ? session.participants.get(msg.participantId) : undefined;
        if (msg.action === 'make-host' && data.participant.role === 'host' && target && target.role === 'controller' && target.connections > 0) {
          const url = this.gw.mapper.toProxiedUrl(new URL(session.currentUrl), session.id, session.origins);
          if (url) this.handoff.handOver(session, target, url);
        }
        return;
      }
      case 'splice-refused': {
        // The participant's runtime falls back (the whole value, or the host's text shown again).
        if (!this.isLiveHost(ws)) return;
        const target = session.participants.get(msg.participantId);
        if (target) {
          const { target: field, base, value } = msg;
          this.collabIo(session).sendTo(
            target,
            value === undefined ? { type: 'splice-refused', target: field, base } : { type: 'splice-refused', target: field, base, value },
          );
        }
        return;
      }
      case 'input-refused': {
        if (!this.isLiveHost(ws)) return;
        const target = session.participants.get(msg.participantId);
        if (!target) return;
        session.audit({ event: 'blocked', participantId: target.id, role: target.role, detail: msg.reason });
        this.collabIo(session).sendTo(target, { type: 'notice', text: msg.reason });
        return;
      }
      case 'end':
        if (data.participant.role !== 'host') {
          this.reject(ws, 'FORBIDDEN', 'only the host ends the session', false);
          return;
        }
        session.audit({ event: 'end', participantId: data.participant.id, role: data.participant.role });
        this.gw.registry.end(session.id, 'The host ended the session.').catch((err: unknown) => {
          this.sendIfOpen(ws, data, { type: 'error', code: 'STATE_UNAVAILABLE', message: 'The session could not be ended right now: try again in a moment.' });
          this.gw.log.warn('session end failed', { sessionId: session.id, error: (err as Error).message });
        });
        return;
      default: {
        const unhandled: never = msg;
        throw new Error(`unhandled message ${JSON.stringify(unhandled)}`);
      }
    }
  }

  /** Sends from an async path: the socket (whose user data is `data`) may have closed meanwhile. */
  private sendIfOpen(ws: WebSocket<SocketData>, data: SocketData, message: ServerMessage): void {
    if (!data.closed) this.send(ws, message);
  }

  private askForSnapshot(sessionId: string): void {
    const live = this.liveSocket.get(sessionId);
    // liveSocket only ever holds open sockets (onClose removes them).
    if (live) this.send(live, { type: 'request-snapshot' });
  }

  private isLiveHost(ws: WebSocket<SocketData>): boolean {
    const data = ws.getUserData();
    return data.mode === 'live' && data.participant.role === 'host' && this.liveSocket.get(data.session.id) === ws;
  }

  private dropFollowerInput(ws: WebSocket<SocketData>, type: string): void {
    const { session, participant } = ws.getUserData();
    this.gw.metrics?.rejected('NOT_HOST');
    this.gw.log.warn('dropped message from a participant who is not the live host', {
      sessionId: session.id,
      participantId: participant.id,
      role: participant.role,
      type,
    });
  }

  /** Takes the page URL the host reports as the session's current one (audited); false, and the message refused, when it is not a page of this session. */
  private acceptPageUrl(ws: WebSocket<SocketData>, reported: string): boolean {
    const { session, participant, label } = ws.getUserData();
    const pageUrl = this.checkPageUrl(session, label, reported);
    if (!pageUrl) {
      this.reject(ws, 'BAD_MESSAGE', 'the page url is not a page of this session', false);
      return false;
    }
    if (session.currentUrl !== pageUrl) {
      session.audit({ event: 'navigate', participantId: participant.id, role: participant.role, detail: pageUrl });
      session.set({ currentUrl: pageUrl });
    }
    return true;
  }

  /** The real URL of a page the host reports, or null when it is not on this session's proxied host. */
  private checkPageUrl(session: Session, label: string, reported: string): string | null {
    let url: URL;
    try {
      url = new URL(reported);
    } catch {
      return null;
    }
    const host = this.gw.mapper.parseHost(url.host);
    if (!host || host.sessionId !== session.id || host.label !== label) return null;
    return this.gw.mapper.toRealUrl(url, session.id, session.origins)?.href ?? null;
  }

  /** Hands a recorded message to this node's mirrors of the session. */
  private publishLocal(session: Session, encoded: string): void {
    this.app?.publish(topicOf(session), encoded);
    this.gw.metrics?.wsPublished(encoded, this.app?.numSubscribers(topicOf(session)) ?? 0);
  }
}

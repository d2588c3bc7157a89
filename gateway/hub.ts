// The hub: one uWS topic per session on each node. The host's live page sends snapshots and
// mutations; the hub validates them and has the state store stamp sequence numbers and record
// them, and every node's feed hands them to its mirrors in order. Messages for particular
// sockets (roster, chat, input for the live page) travel on the same bus, so a session can span
// nodes. Roles are enforced here, not in the browser. What stays here is the socket lifecycle,
// this node's sockets of each session and the one exhaustive switch over client messages; the
// rest lives apart: the upgrade (hub-upgrade.ts), limits and budgets (hub-limits.ts), the welcome
// and what a host socket is withheld (hub-withholding.ts), removals (hub-removal.ts), a hello of
// another protocol version (hub-version.ts), the live page and its stream (hub-live-page.ts,
// hub-recording.ts), handoff (hub-handoff.ts), addressed messages (hub-addressing.ts,
// hub-fanout.ts), the feeds (hub-feed-pool.ts, hub-feed.ts).

import type { TemplatedApp, WebSocket, WebSocketBehavior } from 'uWebSockets.js';
import { type ClientMessage, encodeMessage, MAX_MESSAGE_BYTES, parseClientMessage, type ServerMessage, VERSION_MISMATCH } from '../protocol/messages.js';
import { controlPolicyFor, handleCollab, mayAct } from './collab.js';
import type { GatewayContext } from './context.js';
import { Addressing } from './hub-addressing.js';
import { FeedPool } from './hub-feed-pool.js';
import { HostHandoff } from './hub-handoff.js';
import { SocketLimits } from './hub-limits.js';
import { LivePages } from './hub-live-page.js';
import { ParticipantRemoval } from './hub-removal.js';
import { type SocketData, SocketOutput } from './hub-socket.js';
import { type HubAuthenticate, hubUpgrade } from './hub-upgrade.js';
import { refuseOtherVersion } from './hub-version.js';
import { Withholding } from './hub-withholding.js';
import type { Participant, Session } from './session.js';
import type { StateBackend } from './state/store.js';

/** Per-socket send buffer; a follower beyond it is disconnected and resyncs on reconnect. */
const MAX_BACKPRESSURE = 4 * 1024 * 1024;

function topicOf(session: Session): string {
  return `session/${session.id}`;
}

/** Tracks the sockets of every session on this node and routes their messages. */
export class Hub {
  private readonly sockets = new Map<string, Set<WebSocket<SocketData>>>();
  private readonly out: SocketOutput;
  private readonly handoff: HostHandoff;
  private readonly withholding: Withholding;
  private readonly live: LivePages;
  private readonly addressing: Addressing;
  private readonly removal: ParticipantRemoval;
  private readonly feeds: FeedPool;
  private readonly limits: SocketLimits;
  private app: TemplatedApp | null = null;
  private connCounter = 0;

  constructor(
    private readonly gw: GatewayContext,
    private readonly backend: StateBackend,
    hostGraceMs: number,
  ) {
    this.out = new SocketOutput(gw);
    this.limits = new SocketLimits(gw, this.out);
    const collabIo = (session: Session) => this.addressing.collabIo(session);
    const broadcastRoster = (session: Session) => this.addressing.broadcastRoster(session);
    this.handoff = new HostHandoff(gw, { hasLocalLive: (id) => this.live.of(id) !== undefined, collabIo, broadcastRoster }, hostGraceMs);
    this.withholding = new Withholding(gw, this.out, broadcastRoster);
    this.live = new LivePages(gw, backend.store, this.out, this.handoff, this.withholding, collabIo);
    this.addressing = new Addressing(gw, backend.bus, this.out, this.sockets, this.live, this.withholding);
    this.removal = new ParticipantRemoval(gw, this.out, this.sockets, broadcastRoster);
    this.feeds = new FeedPool(
      backend.store,
      backend.bus,
      {
        sequenced: (session, encoded) => this.publishLocal(session, encoded),
        addressed: (session, target, encoded) => this.addressing.deliver(session, target, encoded),
      },
      gw.log,
    );
    gw.registry.onReplicaChange((session) => this.replicaChanged(session));
    gw.registry.members.onRemoval((session, participant, reason, here) => this.removal.removed(session, participant, reason, here));
    // Messages published while the bus was away never arrive: every feed reloads its checkpoint,
    // and live pages whose batches could not be recorded send a fresh snapshot.
    backend.bus.onResubscribed(() => {
      this.feeds.reloadAll();
      this.live.resubscribed();
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
      const live = this.live.of(id);
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
  behavior(app: TemplatedApp, authenticate: HubAuthenticate): WebSocketBehavior<SocketData> {
    this.app = app;
    return {
      maxPayloadLength: MAX_MESSAGE_BYTES,
      maxBackpressure: MAX_BACKPRESSURE,
      closeOnBackpressureLimit: 1,
      idleTimeout: 60,
      sendPingsAutomatically: true,
      upgrade: hubUpgrade(this.gw, authenticate, () => `${this.backend.bus.nodeId}/${++this.connCounter}`),
      open: (ws) => this.onOpen(ws),
      message: (ws, message) => this.onMessage(ws, message),
      close: (ws) => this.onClose(ws),
    };
  }

  /** Tells this node's sockets of an ended session why, then closes them. */
  endSession(session: Session, reason: string): void {
    const set = this.sockets.get(session.id);
    this.sockets.delete(session.id);
    this.live.forget(session.id);
    this.handoff.cancel(session.id);
    this.feeds.close(session.id);
    if (!set) return;
    const msg = encodeMessage({ type: 'ended', reason });
    for (const ws of [...set]) {
      ws.cork(() => {
        this.out.sendEncoded(ws, msg);
        ws.end(4000, 'session ended');
      });
    }
  }

  /** Tells every live page of the session, on any node, that its cookie jar changed (document.cookie refreshes). */
  notifyCookiesChanged(session: Session): void {
    this.addressing.fanout(session, { to: 'live-pages' }, { type: 'cookies-changed' });
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
        this.out.sendEncoded(ws, encoded);
        n++;
      }
    }
    return n;
  }

  private onOpen(ws: WebSocket<SocketData>): void {
    const data = ws.getUserData();
    const { session, participant } = data;
    if (session.ended) {
      ws.end(4000, 'session ended');
      return;
    }
    if (this.removal.refusedAtOpen(ws, data) || !this.limits.admitSocket(ws, participant)) return;
    data.admitted = true;
    let set = this.sockets.get(session.id);
    if (!set) this.sockets.set(session.id, (set = new Set()));
    set.add(ws);
    this.gw.registry.connectionChanged(session, participant, 1);
    session.touch();
    const feed = this.feeds.of(session);
    // Every message of this socket waits for the feed: its subscription and replica are in place first.
    data.queue = feed.ready.then(
      () => this.withholding.welcome(ws, data),
      (err: unknown) => {
        this.gw.log.warn('session feed failed to start', { sessionId: session.id, error: (err as Error).message });
        this.feeds.failed(session.id, feed);
        if (!data.closed) ws.end(1013, 'try again later');
      },
    );
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
      this.feeds.linger(session.id);
    }
    if (session.ended) return;
    // A removed participant's counts went with it, and the node that removed it sent the roster.
    if (session.removed.has(participant.id)) return;
    this.gw.registry.connectionChanged(session, participant, -1);
    if (participant.connections === 0) session.audit({ event: 'leave', participantId: participant.id, role: participant.role });
    this.addressing.broadcastRoster(session);
    this.live.closed(ws, data);
  }

  /** Another node changed the session: removals it missed, and the live page (hub-live-page.ts). */
  private replicaChanged(session: Session): void {
    this.removal.sweep(session);
    this.live.replicaChanged(session);
  }

  /** Handles one message in order after the ones before; the promise rejects when handling failed (the socket guard logs it and closes the socket). */
  private onMessage(ws: WebSocket<SocketData>, message: ArrayBuffer): Promise<void> | undefined {
    const data = ws.getUserData();
    // Before anything is decoded or parsed: only the live page sends large messages.
    if (!this.limits.admitMessage(ws, data, message.byteLength)) return undefined;
    const parsed = parseClientMessage(Buffer.from(message).toString('utf8'));
    if (!parsed.ok) {
      if (parsed.code === VERSION_MISMATCH) refuseOtherVersion(this.gw, this.out, ws, parsed.error);
      else this.out.reject(ws, 'BAD_MESSAGE', parsed.error, true);
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
            this.out.reject(ws, 'NOT_HOST', 'only the host runs the live page', true);
            return;
          }
          this.live.takeOver(ws, data);
          return;
        }
        if (data.participant.role === 'host') {
          // The host's own pages are the live page: the runtime never follows as the host. A mirror
          // socket of the host would be a site script's (it shares the page's origin and cookie),
          // watching every site of the session through the host's eyes.
          this.out.reject(ws, 'FORBIDDEN', 'the host runs the live page and does not follow it: open the page itself', true);
          return;
        }
        data.mode = 'mirror';
        const replay = session.checkpoint.replayFrom(msg.lastSeq);
        this.gw.metrics?.mirrorSynced(replay);
        ws.cork(() => {
          if (replay.length === 0) this.out.send(ws, { type: 'waiting-for-host' });
          for (const m of replay) this.out.sendEncoded(ws, m);
          // Same tick as the replay, read from the replica the feed keeps: no broadcast can fall between the two.
          ws.subscribe(topicOf(session));
        });
        return;
      }
      case 'snapshot':
        this.live.snapshot(ws, msg);
        return;
      case 'mutations':
        this.live.mutations(ws, msg);
        return;
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
          this.out.send(ws, {
            type: 'error',
            code: 'FORBIDDEN',
            message: participant.role === 'observer' ? 'Observers cannot act on the page.' : 'You do not have control right now.',
          });
          return;
        }
        if (participant.role === 'controller' && session.controlHolder !== participant.id && controlPolicyFor(this.gw, session) === 'take') {
          session.set({ controlHolder: participant.id });
          session.audit({ event: 'control', participantId: participant.id, role: participant.role, detail: 'took control' });
          this.addressing.broadcastRoster(session);
        }
        if (!session.live && !this.live.of(session.id)) {
          this.out.send(ws, { type: 'error', code: 'NO_HOST', message: "The host's page is not open right now." });
          return;
        }
        this.addressing.fanout(session, { to: 'live' }, { type: 'input', from: participant.id, event: msg.event });
        return;
      }
      case 'name':
        if (!this.limits.admitRename(ws, data.participant, msg.name)) return;
        handleCollab(session, data.participant, msg, controlPolicyFor(this.gw, session), this.addressing.collabIo(session));
        return;
      case 'presence':
      case 'chat':
      case 'highlight':
        handleCollab(session, data.participant, msg, controlPolicyFor(this.gw, session), this.addressing.collabIo(session));
        return;
      case 'control': {
        handleCollab(session, data.participant, msg, controlPolicyFor(this.gw, session), this.addressing.collabIo(session));
        const target = msg.participantId ? session.participants.get(msg.participantId) : undefined;
        if (msg.action === 'make-host' && data.participant.role === 'host' && target && target.role === 'controller' && target.connections > 0) {
          const url = this.gw.mapper.toProxiedUrl(new URL(session.currentUrl), session.id, session.origins);
          if (url) this.handoff.handOver(session, target, url);
        }
        return;
      }
      case 'splice-refused':
        this.live.spliceRefused(ws, msg);
        return;
      case 'input-refused':
        this.live.inputRefused(ws, msg);
        return;
      case 'end':
        if (data.participant.role !== 'host') {
          this.out.reject(ws, 'FORBIDDEN', 'only the host ends the session', false);
          return;
        }
        session.audit({ event: 'end', participantId: data.participant.id, role: data.participant.role });
        this.gw.registry.end(session.id, 'The host ended the session.').catch((err: unknown) => {
          this.out.sendIfOpen(ws, data, {
            type: 'error',
            code: 'STATE_UNAVAILABLE',
            message: 'The session could not be ended right now: try again in a moment.',
          });
          this.gw.log.warn('session end failed', { sessionId: session.id, error: (err as Error).message });
        });
        return;
      default: {
        const unhandled: never = msg;
        throw new Error(`unhandled message ${JSON.stringify(unhandled)}`);
      }
    }
  }

  /** Hands a recorded message to this node's mirrors of the session. */
  private publishLocal(session: Session, encoded: string): void {
    this.app?.publish(topicOf(session), encoded);
    this.gw.metrics?.wsPublished(encoded, this.app?.numSubscribers(topicOf(session)) ?? 0);
  }
}

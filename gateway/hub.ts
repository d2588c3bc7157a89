// The hub: one uWS topic per session. The host's live page sends snapshots and mutations; the hub
// validates them, stamps sequence numbers, records them in the session's checkpoint and
// broadcasts them to every follower. Roles are enforced here, not in the browser.

import type { TemplatedApp, WebSocket, WebSocketBehavior } from 'uWebSockets.js';
import { type ClientMessage, encodeMessage, MAX_MESSAGE_BYTES, PROTOCOL_VERSION, parseClientMessage, type ServerMessage } from '../protocol/messages.js';
import { type CollabIo, controlPolicyFor, handleCollab, mayAct, rosterMessage } from './collab.js';
import type { GatewayContext } from './context.js';
import type { Participant, Session } from './session.js';

/** Per-socket state kept in uWS's user data. */
export interface SocketData {
  session: Session;
  participant: Participant;
  label: string;
  mode: 'live' | 'mirror' | null;
  /** Token bucket for the message rate limit. */
  tokens: number;
  refilledAt: number;
}

/** Message rate a socket may sustain, and the burst above it. */
const RATE_PER_SECOND = 200;
const RATE_BURST = 400;
/** The host's live page is the one socket that publishes a lot (a page that changes quickly). */
const LIVE_RATE_PER_SECOND = 2000;
const LIVE_RATE_BURST = 4000;
/** Per-socket send buffer; a follower beyond it is disconnected and resyncs on reconnect. */
const MAX_BACKPRESSURE = 4 * 1024 * 1024;

function topicOf(session: Session): string {
  return `session/${session.id}`;
}

/** Tracks the sockets of every session and routes their messages. */
export class Hub {
  private readonly sockets = new Map<string, Set<WebSocket<SocketData>>>();
  /** The host page whose DOM is mirrored, per session id (the newest live connection wins). */
  private readonly liveSocket = new Map<string, WebSocket<SocketData>>();
  private app: TemplatedApp | null = null;
  private readonly handoffTimers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly gw: GatewayContext,
    private readonly hostGraceMs: number,
  ) {}

  /** Number of open sockets (all sessions). */
  get connectionCount(): number {
    let n = 0;
    for (const set of this.sockets.values()) n += set.size;
    return n;
  }

  /** The uWS behavior for the hub's WebSocket route; `authenticate` runs in the upgrade. */
  behavior(
    app: TemplatedApp,
    authenticate: (host: string, cookie: string) => Omit<SocketData, 'mode' | 'tokens' | 'refilledAt'> | null,
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
        const cookie = req.getHeader('cookie');
        const key = req.getHeader('sec-websocket-key');
        const protocol = req.getHeader('sec-websocket-protocol');
        const extensions = req.getHeader('sec-websocket-extensions');
        const auth = authenticate(host, cookie);
        if (!auth) {
          res
            .writeStatus('401 Unauthorized')
            .writeHeader('content-type', 'application/json')
            .end('{"error":{"code":"NOT_A_PARTICIPANT","message":"Join the session first."}}');
          return;
        }
        const data: SocketData = { ...auth, mode: null, tokens: RATE_BURST, refilledAt: Date.now() };
        res.upgrade(data, key, protocol, extensions, context);
      },
      open: (ws) => this.onOpen(ws),
      message: (ws, message) => this.onMessage(ws, Buffer.from(message).toString('utf8')),
      close: (ws) => this.onClose(ws),
    };
  }

  /** Tells every socket of an ended session why, then closes them. */
  endSession(session: Session, reason: string): void {
    const set = this.sockets.get(session.id);
    if (!set) return;
    const msg = encodeMessage({ type: 'ended', reason });
    for (const ws of [...set]) {
      ws.cork(() => {
        this.sendEncoded(ws, msg);
        ws.end(4000, 'session ended');
      });
    }
    this.sockets.delete(session.id);
    this.liveSocket.delete(session.id);
    this.cancelHandoff(session.id);
  }

  /** Tells every live page of the session that its cookie jar changed (document.cookie refreshes). */
  notifyCookiesChanged(session: Session): void {
    const msg = encodeMessage({ type: 'cookies-changed' });
    for (const ws of this.sockets.get(session.id) ?? []) if (ws.getUserData().mode === 'live') this.sendEncoded(ws, msg);
  }

  /** Closes one participant's sockets with a code that makes the browser reconnect; returns how many. */
  disconnect(sessionId: string, participantId: string): number {
    let n = 0;
    for (const ws of [...(this.sockets.get(sessionId) ?? [])]) {
      if (ws.getUserData().participant.id !== participantId) continue;
      ws.end(1012, 'reconnect');
      n++;
    }
    return n;
  }

  /** Sends `message` to every open socket of every session (e.g. the gateway is draining); returns how many. */
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
    const status = ws.send(encoded);
    this.gw.metrics?.wsSent(encoded, status);
  }

  private onOpen(ws: WebSocket<SocketData>): void {
    const { session, participant } = ws.getUserData();
    if (session.ended) {
      ws.end(4000, 'session ended');
      return;
    }
    let set = this.sockets.get(session.id);
    if (!set) this.sockets.set(session.id, (set = new Set()));
    set.add(ws);
    participant.connections++;
    session.touch();
    const base = this.gw.mapper.gatewayOrigin;
    const invites =
      participant.role === 'host' ? { joinUrl: `${base}/j/${session.invites.controller}`, observeUrl: `${base}/j/${session.invites.observer}` } : undefined;
    this.send(ws, {
      type: 'welcome',
      v: PROTOCOL_VERSION,
      sessionId: session.id,
      participantId: participant.id,
      role: participant.role,
      ...(invites ? { invites } : {}),
    });
    for (const entry of session.chat) this.send(ws, { type: 'chat', ...entry });
    this.broadcastRoster(session);
  }

  private broadcastRoster(session: Session): void {
    this.collabIo(session).broadcast(rosterMessage(session, controlPolicyFor(this.gw, session)));
  }

  /** How the collaboration module reaches this session's sockets. */
  private collabIo(session: Session): CollabIo {
    return {
      broadcast: (message, except) => {
        const encoded = encodeMessage(message);
        for (const ws of this.sockets.get(session.id) ?? []) if (ws.getUserData().participant !== except) this.sendEncoded(ws, encoded);
      },
      sendTo: (participant, message) => {
        const encoded = encodeMessage(message);
        for (const ws of this.sockets.get(session.id) ?? []) if (ws.getUserData().participant === participant) this.sendEncoded(ws, encoded);
      },
      log: (msg, fields) => this.gw.log.info(msg, fields),
    };
  }

  private onClose(ws: WebSocket<SocketData>): void {
    const { session, participant } = ws.getUserData();
    this.sockets.get(session.id)?.delete(ws);
    participant.connections = Math.max(0, participant.connections - 1);
    if (!session.ended) {
      if (participant.connections === 0) session.audit({ event: 'leave', participantId: participant.id, role: participant.role });
      this.broadcastRoster(session);
    }
    if (this.liveSocket.get(session.id) === ws) {
      this.liveSocket.delete(session.id);
      if (!session.ended) this.scheduleHandoff(session);
    }
  }

  /** The host's page is gone: unless it comes back within the grace period, a controller takes over. */
  private scheduleHandoff(session: Session): void {
    this.cancelHandoff(session.id);
    const timer = setTimeout(() => {
      this.handoffTimers.delete(session.id);
      this.promoteSuccessor(session);
    }, this.hostGraceMs);
    timer.unref();
    this.handoffTimers.set(session.id, timer);
  }

  private cancelHandoff(sessionId: string): void {
    const timer = this.handoffTimers.get(sessionId);
    if (timer) clearTimeout(timer);
    this.handoffTimers.delete(sessionId);
  }

  /** Promotes the longest-connected controller to host; it loads the current page live. */
  private promoteSuccessor(session: Session): void {
    if (session.ended || this.liveSocket.has(session.id)) return;
    const candidates = [...session.participants.values()].filter((p) => p.role === 'controller' && p.connections > 0).sort((a, b) => a.joinedAt - b.joinedAt);
    const next = candidates[0];
    const url = this.gw.mapper.toProxiedUrl(new URL(session.currentUrl), session.id, session.origins);
    if (!next || !url) {
      this.gw.log.warn('host left and no connected controller can take over', { sessionId: session.id });
      return;
    }
    this.handOver(session, next, url);
  }

  /** Makes `next` the host: it loads `url` live; the former host goes back to following. */
  private handOver(session: Session, next: Participant, url: string): void {
    const former = [...session.participants.values()].filter((p) => p.role === 'host');
    for (const p of former) p.role = 'controller';
    next.role = 'host';
    session.controlHolder = null;
    session.audit({ event: 'handoff', participantId: next.id, role: next.role });
    this.gw.log.info('host handed over', { sessionId: session.id, participantId: next.id, role: next.role });
    const io = this.collabIo(session);
    io.sendTo(next, { type: 'promoted', url });
    for (const p of former) io.sendTo(p, { type: 'error', code: 'NOT_HOST', message: 'You passed the host role on.' });
    this.broadcastRoster(session);
  }

  private allowRate(data: SocketData): boolean {
    const now = Date.now();
    const [rate, burst] = data.mode === 'live' ? [LIVE_RATE_PER_SECOND, LIVE_RATE_BURST] : [RATE_PER_SECOND, RATE_BURST];
    data.tokens = Math.min(burst, data.tokens + ((now - data.refilledAt) / 1000) * rate);
    data.refilledAt = now;
    if (data.tokens < 1) return false;
    data.tokens -= 1;
    return true;
  }

  private reject(ws: WebSocket<SocketData>, code: string, message: string, close: boolean): void {
    const { session, participant } = ws.getUserData();
    this.gw.log.warn('hub message rejected', { sessionId: session.id, participantId: participant.id, role: participant.role, code, message });
    this.gw.metrics?.rejected(code);
    this.send(ws, { type: 'error', code, message });
    if (close) ws.end(4400, code);
  }

  private onMessage(ws: WebSocket<SocketData>, text: string): void {
    const data = ws.getUserData();
    if (!this.allowRate(data)) {
      this.reject(ws, 'RATE_LIMITED', `more than ${data.mode === 'live' ? LIVE_RATE_PER_SECOND : RATE_PER_SECOND} messages per second`, true);
      return;
    }
    const parsed = parseClientMessage(text);
    if (!parsed.ok) {
      this.reject(ws, 'BAD_MESSAGE', parsed.error, true);
      return;
    }
    data.session.touch();
    this.gw.metrics?.wsReceived(parsed.value.type);
    this.dispatch(ws, parsed.value);
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
          this.liveSocket.set(session.id, ws);
          this.cancelHandoff(session.id);
          return;
        }
        data.mode = 'mirror';
        const replay = session.checkpoint.replayFrom(msg.lastSeq);
        this.gw.metrics?.mirrorSynced(replay);
        ws.cork(() => {
          if (replay.length === 0) this.send(ws, { type: 'waiting-for-host' });
          for (const m of replay) this.sendEncoded(ws, m);
          // Same tick as the replay: no broadcast can fall between the two.
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
        this.publish(session, session.checkpoint.recordSnapshot(msg.url, msg.title, msg.viewport, msg.tree));
        return;
      }
      case 'mutations': {
        if (!this.isLiveHost(ws)) {
          this.dropFollowerInput(ws, msg.type);
          return;
        }
        for (const m of msg.batch) if (m.k === 'location' && !this.acceptPageUrl(ws, m.url)) return;
        const encoded = session.checkpoint.recordMutations(msg.batch);
        if (encoded === null) {
          this.send(ws, { type: 'request-snapshot' });
          return;
        }
        this.publish(session, encoded);
        if (session.checkpoint.wantsSnapshot) this.send(ws, { type: 'request-snapshot' });
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
          session.controlHolder = participant.id;
          session.audit({ event: 'control', participantId: participant.id, role: participant.role, detail: 'took control' });
          this.broadcastRoster(session);
        }
        const live = this.liveSocket.get(session.id);
        if (!live) {
          this.send(ws, { type: 'error', code: 'NO_HOST', message: "The host's page is not open right now." });
          return;
        }
        this.sendEncoded(live, encodeMessage({ type: 'input', from: participant.id, event: msg.event }));
        return;
      }
      case 'presence':
      case 'chat':
      case 'name':
      case 'highlight':
        handleCollab(session, data.participant, msg, controlPolicyFor(this.gw, session), this.collabIo(session));
        return;
      case 'control': {
        handleCollab(session, data.participant, msg, controlPolicyFor(this.gw, session), this.collabIo(session));
        const target = msg.participantId ? session.participants.get(msg.participantId) : undefined;
        if (msg.action === 'make-host' && data.participant.role === 'host' && target && target.role === 'controller' && target.connections > 0) {
          const url = this.gw.mapper.toProxiedUrl(new URL(session.currentUrl), session.id, session.origins);
          if (url) this.handOver(session, target, url);
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
        this.gw.registry.end(session.id, 'The host ended the session.');
        return;
      default: {
        const unhandled: never = msg;
        throw new Error(`unhandled message ${JSON.stringify(unhandled)}`);
      }
    }
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
    if (session.currentUrl !== pageUrl) session.audit({ event: 'navigate', participantId: participant.id, role: participant.role, detail: pageUrl });
    session.currentUrl = pageUrl;
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

  private publish(session: Session, encoded: string): void {
    this.app?.publish(topicOf(session), encoded);
    this.gw.metrics?.wsPublished(encoded, this.app?.numSubscribers(topicOf(session)) ?? 0);
  }
}

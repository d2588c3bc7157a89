// The host's live page on this node: the one socket of a session whose DOM is mirrored. Taking it
// over (never silently), its stream (snapshots and batches, recorded once their page URL is one of
// the session's), the refusals it relays to participants, and letting it go when it closes or
// another node's page took over.

import type { WebSocket } from 'uWebSockets.js';
import type { ClientMessage } from '../protocol/messages.js';
import type { CollabIo } from './collab.js';
import type { GatewayContext } from './context.js';
import type { HostHandoff } from './hub-handoff.js';
import { grantLiveBurst } from './hub-limits.js';
import { StreamRecording } from './hub-recording.js';
import type { SocketData, SocketOutput } from './hub-socket.js';
import type { Withholding } from './hub-withholding.js';
import type { Session } from './session.js';
import type { StateStore } from './state/store.js';

type MessageOf<T extends ClientMessage['type']> = Extract<ClientMessage, { type: T }>;

/** The live page socket of each session connected to this node, and what it sends. */
export class LivePages {
  /** The host page whose DOM is mirrored, per session id, when it is connected to this node. */
  private readonly sockets = new Map<string, WebSocket<SocketData>>();
  private readonly recording: StreamRecording;

  constructor(
    private readonly gw: GatewayContext,
    private readonly store: StateStore,
    private readonly out: SocketOutput,
    private readonly handoff: HostHandoff,
    private readonly withholding: Withholding,
    private readonly collabIo: (session: Session) => CollabIo,
  ) {
    this.recording = new StreamRecording(store, gw.log, {
      tell: (ws, data, message) => out.sendIfOpen(ws, data, message),
      askForSnapshot: (id) => this.askForSnapshot(id),
    });
  }

  /** The session's live page socket, when it is on this node. */
  of(sessionId: string): WebSocket<SocketData> | undefined {
    return this.sockets.get(sessionId);
  }

  /** A socket of the host said hello live: it becomes the session's live page. */
  takeOver(ws: WebSocket<SocketData>, data: SocketData): void {
    const { session } = data;
    data.mode = 'live';
    grantLiveBurst(data);
    // The page that was live is told: a takeover is never silent (another tab of the host, or
    // a script of a site pretending to be the host's page, which shares its origin and cookie).
    const previous = this.sockets.get(session.id);
    if (previous && previous !== ws) {
      this.out.send(previous, { type: 'notice', text: 'Another page of yours is now the live page: what it shows is what the others see.' });
    }
    this.sockets.set(session.id, ws);
    session.set({ live: data.conn });
    this.handoff.cancel(session.id);
    this.withholding.wentLive(ws, data);
  }

  snapshot(ws: WebSocket<SocketData>, msg: MessageOf<'snapshot'>): void {
    if (!this.isLiveHost(ws)) {
      this.dropFollowerInput(ws, msg.type);
      return;
    }
    if (!this.acceptPageUrl(ws, msg.url)) return;
    this.recording.snapshot(ws, ws.getUserData(), { url: msg.url, title: msg.title, viewport: msg.viewport, tree: msg.tree });
  }

  mutations(ws: WebSocket<SocketData>, msg: MessageOf<'mutations'>): void {
    if (!this.isLiveHost(ws)) {
      this.dropFollowerInput(ws, msg.type);
      return;
    }
    for (const m of msg.batch) if (m.k === 'location' && !this.acceptPageUrl(ws, m.url)) return;
    this.recording.mutations(ws, ws.getUserData(), msg.batch);
  }

  /** The live page refused a participant's text splice: the participant's runtime falls back (the whole value, or the host's text shown again). */
  spliceRefused(ws: WebSocket<SocketData>, msg: MessageOf<'splice-refused'>): void {
    if (!this.isLiveHost(ws)) return;
    const { session } = ws.getUserData();
    const target = session.participants.get(msg.participantId);
    if (target) {
      const { target: field, base, value } = msg;
      this.collabIo(session).sendTo(
        target,
        value === undefined ? { type: 'splice-refused', target: field, base } : { type: 'splice-refused', target: field, base, value },
      );
    }
  }

  /** The live page refused a participant's input: audited, and the participant told why. */
  inputRefused(ws: WebSocket<SocketData>, msg: MessageOf<'input-refused'>): void {
    if (!this.isLiveHost(ws)) return;
    const { session } = ws.getUserData();
    const target = session.participants.get(msg.participantId);
    if (!target) return;
    session.audit({ event: 'blocked', participantId: target.id, role: target.role, detail: msg.reason });
    this.collabIo(session).sendTo(target, { type: 'notice', text: msg.reason });
  }

  /** An admitted socket of a live session closed: when it was the live page, the role is released and the grace period starts. */
  closed(ws: WebSocket<SocketData>, data: SocketData): void {
    const { session } = data;
    if (this.sockets.get(session.id) !== ws) return;
    this.sockets.delete(session.id);
    if (session.live === data.conn) session.live = null;
    this.store
      .releaseLive(session.id, data.conn)
      .then((released) => {
        if (released) this.gw.registry.announce(session);
      })
      .catch(() => {});
    this.handoff.schedule(session);
  }

  /** Another node changed the session: a live page that lost its role here steps down; a host page gone elsewhere starts the grace period. */
  replicaChanged(session: Session): void {
    const local = this.sockets.get(session.id);
    if (local && session.live !== local.getUserData().conn) this.sockets.delete(session.id);
    if (session.live === null && !this.sockets.has(session.id) && !this.handoff.pending(session.id) && session.checkpoint.lastSeq > 0) {
      this.handoff.schedule(session);
    }
    if (session.live !== null) this.handoff.cancel(session.id);
  }

  /** The bus is back after an outage: live pages whose batches could not be recorded send a fresh snapshot. */
  resubscribed(): void {
    this.recording.resubscribed();
  }

  /** The session ended: its live page and record path on this node are dropped. */
  forget(sessionId: string): void {
    this.sockets.delete(sessionId);
    this.recording.forget(sessionId);
  }

  private askForSnapshot(sessionId: string): void {
    const live = this.sockets.get(sessionId);
    // `sockets` only ever holds open sockets (closed() removes them).
    if (live) this.out.send(live, { type: 'request-snapshot' });
  }

  private isLiveHost(ws: WebSocket<SocketData>): boolean {
    const data = ws.getUserData();
    return data.mode === 'live' && data.participant.role === 'host' && this.sockets.get(data.session.id) === ws;
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
      this.out.reject(ws, 'BAD_MESSAGE', 'the page url is not a page of this session', false);
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
}

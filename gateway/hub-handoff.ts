// Host handoff: when the host's live page is gone for the grace period, the longest-connected
// controller becomes the host and loads the current page live. With several nodes, the node that
// holds the successor's socket makes the change, so there is one promotion, not one per node.

import type { CollabIo } from './collab.js';
import type { GatewayContext } from './context.js';
import type { Participant, Session } from './session.js';

/** What the handoff needs from the hub. */
export interface HandoffHub {
  /** True when this node holds the session's live page socket. */
  hasLocalLive(sessionId: string): boolean;
  collabIo(session: Session): CollabIo;
  broadcastRoster(session: Session): void;
}

/** The grace-period timers of this node and the role changes of a handoff. */
export class HostHandoff {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly gw: GatewayContext,
    private readonly hub: HandoffHub,
    private readonly graceMs: number,
  ) {}

  /** True while the session's grace period runs on this node. */
  pending(sessionId: string): boolean {
    return this.timers.has(sessionId);
  }

  /** The host's page is gone: unless it comes back within the grace period, a controller takes over. */
  schedule(session: Session): void {
    this.cancel(session.id);
    const timer = setTimeout(() => {
      this.timers.delete(session.id);
      void this.gw.registry
        .refresh(session)
        .then(() => this.promoteSuccessor(session))
        .catch((err: unknown) =>
          this.gw.log.warn('host handoff postponed: the session store failed', { sessionId: session.id, error: (err as Error).message }),
        );
    }, this.graceMs);
    timer.unref();
    this.timers.set(session.id, timer);
  }

  /** The host's page is back (or the session ended). */
  cancel(sessionId: string): void {
    const timer = this.timers.get(sessionId);
    if (timer) clearTimeout(timer);
    this.timers.delete(sessionId);
  }

  /** Promotes the longest-connected controller to host; it loads the current page live. */
  private promoteSuccessor(session: Session): void {
    if (session.ended || session.live !== null || this.hub.hasLocalLive(session.id)) return;
    const candidates = [...session.participants.values()].filter((p) => p.role === 'controller' && p.connections > 0).sort((a, b) => a.joinedAt - b.joinedAt);
    const next = candidates[0];
    const url = this.gw.mapper.toProxiedUrl(new URL(session.currentUrl), session.id, session.origins);
    if (!next || !url) {
      this.gw.log.warn('host left and no connected controller can take over', { sessionId: session.id });
      return;
    }
    if (this.gw.registry.shared && next.localConnections === 0) return;
    this.handOver(session, next, url);
  }

  /** Makes `next` the host: it loads `url` live; the former host goes back to following. */
  handOver(session: Session, next: Participant, url: string): void {
    const former = [...session.participants.values()].filter((p) => p.role === 'host');
    for (const p of former) {
      p.role = 'controller';
      session.saveParticipant(p);
    }
    next.role = 'host';
    session.saveParticipant(next);
    session.set({ controlHolder: null });
    session.audit({ event: 'handoff', participantId: next.id, role: next.role });
    this.gw.log.info('host handed over', { sessionId: session.id, participantId: next.id, role: next.role });
    const io = this.hub.collabIo(session);
    io.sendTo(next, { type: 'promoted', url });
    for (const p of former) io.sendTo(p, { type: 'error', code: 'NOT_HOST', message: 'You passed the host role on.' });
    this.hub.broadcastRoster(session);
  }
}

// Removal of participants: when the host removes one, its sockets on every node are told why and
// closed for good (4000: the browser does not reconnect; its token is gone anyway), also on a node
// that missed the bus event (it shows in the stored removed set) and for a socket whose upgrade was
// being authenticated meanwhile.

import type { WebSocket } from 'uWebSockets.js';
import { encodeMessage } from '../protocol/messages.js';
import type { GatewayContext } from './context.js';
import type { SocketData, SocketOutput } from './hub-socket.js';
import type { Participant, Session } from './session.js';

/** What a removed participant's sockets are told when the reason given at the removal did not reach this node. */
const REMOVED_REASON = 'The host removed you from this session.';

/** Closes the sockets of removed participants on this node. */
export class ParticipantRemoval {
  constructor(
    private readonly gw: GatewayContext,
    private readonly out: SocketOutput,
    /** This node's open sockets, per session id. */
    private readonly sockets: ReadonlyMap<string, ReadonlySet<WebSocket<SocketData>>>,
    private readonly broadcastRoster: (session: Session) => void,
  ) {}

  /** The host removed `participant` (`here`: through this node, which sends everyone the roster without it). */
  removed(session: Session, participant: Participant, reason: string, here: boolean): void {
    const msg = encodeMessage({ type: 'error', code: 'REMOVED', message: reason });
    for (const ws of [...(this.sockets.get(session.id) ?? [])]) {
      const data = ws.getUserData();
      if (data.participant.id !== participant.id || data.closed) continue;
      this.close(ws, msg);
    }
    if (here) this.broadcastRoster(session);
  }

  /** Another node changed the session: a removal whose bus event this node missed (the bus was away) shows in the stored state. */
  sweep(session: Session): void {
    for (const ws of [...(this.sockets.get(session.id) ?? [])]) {
      const { participant } = ws.getUserData();
      if (session.removed.has(participant.id)) this.removed(session, participant, REMOVED_REASON, false);
    }
  }

  /** Closes a socket opening for a participant removed while its upgrade was being authenticated (`removed` did not see it); true when it did. */
  refusedAtOpen(ws: WebSocket<SocketData>, data: SocketData): boolean {
    if (!data.session.removed.has(data.participant.id)) return false;
    this.gw.metrics?.rejected('REMOVED');
    this.close(ws, encodeMessage({ type: 'error', code: 'REMOVED', message: REMOVED_REASON }));
    return true;
  }

  private close(ws: WebSocket<SocketData>, encoded: string): void {
    ws.cork(() => {
      this.out.sendEncoded(ws, encoded);
      ws.end(4000, 'removed');
    });
  }
}

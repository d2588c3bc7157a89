// What a welcomed socket gets of its session, and when. Any script of the host's proxied page can
// open a hub socket as the host (its cookie goes with it, its Origin is the page's own), so the
// welcome never carries the join links, and a socket of the host gets nothing of the session (chat
// history, roster, addressed messages: held back, bounded) until it says it is the live page, which
// a site's script can do only by taking the live page over, visibly (the page that was live is told).

import type { WebSocket } from 'uWebSockets.js';
import { encodeMessage, PROTOCOL_VERSION } from '../protocol/messages.js';
import type { GatewayContext } from './context.js';
import type { SocketData, SocketOutput } from './hub-socket.js';
import type { Session } from './session.js';

/** Addressed messages kept for a socket not yet welcomed (or a host socket not yet live); more are dropped. */
const MAX_EARLY_MESSAGES = 256;

/** The welcome of each socket, and the session data held back until the socket may have it. */
export class Withholding {
  constructor(
    private readonly gw: GatewayContext,
    private readonly out: SocketOutput,
    private readonly broadcastRoster: (session: Session) => void,
  ) {}

  /** Welcomes a socket whose session feed is ready; it gets the session now unless it is the host's and not the live page. */
  async welcome(ws: WebSocket<SocketData>, data: SocketData): Promise<void> {
    // The feed may have taken a while: the socket may be gone, and must not be touched then.
    if (data.closed) return;
    const { session, participant } = data;
    this.out.send(ws, { type: 'welcome', v: PROTOCOL_VERSION, sessionId: session.id, participantId: participant.id, role: participant.role });
    if (participant.role === 'host' && data.mode !== 'live') {
      data.withheld = true;
      return;
    }
    await this.release(ws, data);
  }

  /** The socket has become the live page: a withheld one gets the session now. */
  wentLive(ws: WebSocket<SocketData>, data: SocketData): void {
    if (!data.withheld) return;
    data.withheld = false;
    void this.release(ws, data);
  }

  /** Sends an addressed message to the socket, or keeps it until the socket has what came before. */
  deliver(ws: WebSocket<SocketData>, data: SocketData, encoded: string): void {
    if (data.early) {
      // Bounded: a socket of the host that never says it is the live page holds no more.
      if (data.early.length < MAX_EARLY_MESSAGES) data.early.push(encoded);
    } else this.out.sendEncoded(ws, encoded);
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
      for (const encoded of history) this.out.sendEncoded(ws, encoded);
      // A chat message stored while the history was read came both ways: shown once.
      for (const encoded of early) if (!shown.has(encoded)) this.out.sendEncoded(ws, encoded);
    });
    this.broadcastRoster(session);
  }
}

// Addressed messages of a session (roster, chat, input for the live page, anything for one
// participant): sent on the session's bus channel so that they reach its sockets on every node, and
// handed to the matching sockets of this node when they come back off it.

import type { WebSocket } from 'uWebSockets.js';
import { encodeMessage, type ServerMessage } from '../protocol/messages.js';
import { type CollabIo, controlPolicyFor, rosterMessage } from './collab.js';
import type { GatewayContext } from './context.js';
import { addressed, type FanoutTarget } from './hub-fanout.js';
import type { LivePages } from './hub-live-page.js';
import type { SocketData, SocketOutput } from './hub-socket.js';
import type { Withholding } from './hub-withholding.js';
import type { Session } from './session.js';
import type { SessionBus } from './state/store.js';

/** Sends addressed messages over the bus and delivers the ones that arrive to this node's sockets. */
export class Addressing {
  constructor(
    private readonly gw: GatewayContext,
    private readonly bus: SessionBus,
    private readonly out: SocketOutput,
    /** This node's open sockets, per session id. */
    private readonly sockets: ReadonlyMap<string, ReadonlySet<WebSocket<SocketData>>>,
    private readonly live: LivePages,
    private readonly withholding: Withholding,
  ) {}

  /** Sends a message to some of the session's sockets, on whichever node they are. */
  fanout(session: Session, target: FanoutTarget, message: ServerMessage): void {
    this.bus
      .publish(session.id, addressed(target, encodeMessage(message)))
      .catch((err: unknown) =>
        this.gw.log.warn('hub message not sent to the other nodes', { sessionId: session.id, type: message.type, error: (err as Error).message }),
      );
  }

  /** Delivers an addressed message that came over the bus to this node's sockets. */
  deliver(session: Session, target: FanoutTarget, encoded: string): void {
    const set = this.sockets.get(session.id);
    if (!set) return;
    if (target.to === 'live') {
      const live = this.live.of(session.id);
      if (live) this.out.sendEncoded(live, encoded);
      return;
    }
    for (const ws of set) {
      const data = ws.getUserData();
      if (
        target.to === 'all' ? data.participant.id !== target.except : target.to === 'participant' ? data.participant.id === target.id : data.mode === 'live'
      ) {
        this.withholding.deliver(ws, data, encoded);
      }
    }
  }

  /** Sends everyone in the session, on every node, the roster. */
  broadcastRoster(session: Session): void {
    this.collabIo(session).broadcast(rosterMessage(session, controlPolicyFor(this.gw, session)));
  }

  /** How the collaboration module reaches this session's sockets, on every node. */
  collabIo(session: Session): CollabIo {
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
}

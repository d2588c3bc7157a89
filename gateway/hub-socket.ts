// A hub socket: the state uWS keeps for it, and writing to it (counted in the metrics, never after
// it closed, a refused message logged with its code).

import type { WebSocket } from 'uWebSockets.js';
import { encodeMessage, type ServerMessage } from '../protocol/messages.js';
import type { GatewayContext } from './context.js';
import type { Participant, Session } from './session.js';

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
  /** A socket of the host that has not yet said it is the live page: welcomed, but given nothing of the session (see hub-withholding.ts). */
  withheld: boolean;
  /** Counted in the participant's connections (false for a socket refused at open). */
  admitted: boolean;
  /** The last hello of this socket asked for the live page (read when the message came, before it is handled). */
  saidLive: boolean;
  /** Token bucket for the byte rate of a socket that is not the host's live page. */
  byteTokens: number;
  byteRefilledAt: number;
}

/** Writes to hub sockets for every part of the hub. */
export class SocketOutput {
  constructor(private readonly gw: GatewayContext) {}

  send(ws: WebSocket<SocketData>, message: ServerMessage): void {
    this.sendEncoded(ws, encodeMessage(message));
  }

  /** Sends an encoded message and counts it (type, bytes, backpressure). */
  sendEncoded(ws: WebSocket<SocketData>, encoded: string): void {
    // Lifetime rule: after close, uWS throws on any use of the socket; async paths check `closed` first.
    if (ws.getUserData().closed) return;
    const status = ws.send(encoded);
    this.gw.metrics?.wsSent(encoded, status);
  }

  /** Sends from an async path: the socket (whose user data is `data`) may have closed meanwhile. */
  sendIfOpen(ws: WebSocket<SocketData>, data: SocketData, message: ServerMessage): void {
    if (!data.closed) this.send(ws, message);
  }

  /** Refuses a message of the socket (logged, counted, told with `code`), and closes the socket with 4400 when `close`. */
  reject(ws: WebSocket<SocketData>, code: string, message: string, close: boolean): void {
    const { session, participant } = ws.getUserData();
    this.gw.log.warn('hub message rejected', { sessionId: session.id, participantId: participant.id, role: participant.role, code, message });
    this.gw.metrics?.rejected(code);
    this.send(ws, { type: 'error', code, message });
    if (close) ws.end(4400, code);
  }
}

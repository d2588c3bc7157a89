// What one hub socket may send, and how many a participant may open: a message rate (higher for
// the host's live page), a size and a byte rate for every other socket (checked before a message
// is decoded or parsed), open sockets per participant, and how often a participant is renamed.

import type { WebSocket } from 'uWebSockets.js';
import { FOLLOWER_BYTES_BURST, FOLLOWER_BYTES_PER_SECOND, FOLLOWER_MAX_MESSAGE_BYTES } from '../protocol/messages.js';
import type { GatewayContext } from './context.js';
import type { SocketData, SocketOutput } from './hub-socket.js';
import type { Participant } from './session.js';

/** Message rate a socket may sustain, and the burst above it. */
const RATE_PER_SECOND = 200;
const RATE_BURST = 400;
/** The host's live page is the one socket that publishes a lot (a page that changes quickly). */
const LIVE_RATE_PER_SECOND = 2000;
const LIVE_RATE_BURST = 4000;

/** Open hub sockets of one participant over every node: the live page and its popups, a few tabs, reconnections that overlap. */
export const MAX_SOCKETS_PER_PARTICIPANT = 8;
/** A participant's name changes at most this often (each one is a store write and a roster to everyone). */
export const RENAME_INTERVAL_MS = 1000;

/** A token bucket's tokens at `now`, refilled at `rate` per second since `since`, at most `burst`. */
function refilled(tokens: number, since: number, now: number, rate: number, burst: number): number {
  return Math.min(burst, tokens + ((now - since) / 1000) * rate);
}

/** The budgets of a new socket (not the live page yet), full at `now`. */
export function fullBudgets(now: number): Pick<SocketData, 'tokens' | 'refilledAt' | 'byteTokens' | 'byteRefilledAt'> {
  return { tokens: RATE_BURST, refilledAt: now, byteTokens: FOLLOWER_BYTES_BURST, byteRefilledAt: now };
}

/** The socket became the host's live page: it starts with the live page's full burst. */
export function grantLiveBurst(data: SocketData): void {
  data.tokens = LIVE_RATE_BURST;
}

function allowRate(data: SocketData): boolean {
  const now = Date.now();
  const [rate, burst] = data.mode === 'live' ? [LIVE_RATE_PER_SECOND, LIVE_RATE_BURST] : [RATE_PER_SECOND, RATE_BURST];
  data.tokens = refilled(data.tokens, data.refilledAt, now, rate, burst);
  data.refilledAt = now;
  if (data.tokens < 1) return false;
  data.tokens -= 1;
  return true;
}

/** Takes `bytes` from the byte budget of a socket that is not the live page. */
function allowBytes(data: SocketData, bytes: number): boolean {
  const now = Date.now();
  data.byteTokens = refilled(data.byteTokens, data.byteRefilledAt, now, FOLLOWER_BYTES_PER_SECOND, FOLLOWER_BYTES_BURST);
  data.byteRefilledAt = now;
  if (data.byteTokens < bytes) return false;
  data.byteTokens -= bytes;
  return true;
}

/** True for the host's live page (or a host socket whose hello live is still queued): the one socket that sends snapshots and batches. */
function mayPublish(data: SocketData): boolean {
  return data.saidLive && data.participant.role === 'host';
}

/** Enforces the limits on the sockets of this node: what is over one is refused (and counted). */
export class SocketLimits {
  /** When each participant last changed its name through this node. */
  private readonly renamedAt = new WeakMap<Participant, number>();

  constructor(
    private readonly gw: GatewayContext,
    private readonly out: SocketOutput,
  ) {}

  /** False, and the socket refused, when its participant already has MAX_SOCKETS_PER_PARTICIPANT open. */
  admitSocket(ws: WebSocket<SocketData>, participant: Participant): boolean {
    if (participant.connections < MAX_SOCKETS_PER_PARTICIPANT) return true;
    // The newest one goes; 4400 so that the browser does not keep reconnecting.
    this.out.reject(ws, 'TOO_MANY_CONNECTIONS', `at most ${MAX_SOCKETS_PER_PARTICIPANT} open connections per participant: close another tab`, true);
    return false;
  }

  /**
   * Takes a message of `bytes` from the socket's budgets; false, and the socket refused and
   * closed, when it is over one. FOLLOWER_MAX_MESSAGE_BYTES (protocol/messages.ts) is the largest
   * message of a socket that is not the host's live page: nothing else sends snapshots or mutation
   * batches, and everything a follower sends (input, chat, presence; a text field's changes as
   * splices, a large paste in parts) is small. A larger one is refused before it is decoded or
   * parsed (a 4.7 MB snapshot took ~90 ms to parse). FOLLOWER_BYTES_PER_SECOND and
   * FOLLOWER_BYTES_BURST are the bytes per second such a socket may sustain and the burst above
   * it: they bound the parsing it costs (~0.8 ms per 64 KiB snapshot). The follower's runtime
   * keeps under all three.
   */
  admitMessage(ws: WebSocket<SocketData>, data: SocketData, bytes: number): boolean {
    if (!allowRate(data)) {
      this.out.reject(ws, 'RATE_LIMITED', `more than ${data.mode === 'live' ? LIVE_RATE_PER_SECOND : RATE_PER_SECOND} messages per second`, true);
      return false;
    }
    if (mayPublish(data)) return true;
    if (bytes > FOLLOWER_MAX_MESSAGE_BYTES) {
      this.out.reject(ws, 'TOO_LARGE', `only the host's live page sends messages larger than ${FOLLOWER_MAX_MESSAGE_BYTES / 1024} KiB`, true);
      return false;
    }
    if (!allowBytes(data, bytes)) {
      this.out.reject(ws, 'RATE_LIMITED', `more than ${FOLLOWER_BYTES_PER_SECOND / 1024} KiB per second`, true);
      return false;
    }
    return true;
  }

  /** False, and the socket told, when `name` changes the participant's name within RENAME_INTERVAL_MS of its last change. */
  admitRename(ws: WebSocket<SocketData>, participant: Participant, name: string): boolean {
    if (name.trim() === participant.name) return true;
    const now = Date.now();
    if (now - (this.renamedAt.get(participant) ?? Number.NEGATIVE_INFINITY) < RENAME_INTERVAL_MS) {
      // Not logged: a flood of renames would flood the log.
      this.gw.metrics?.rejected('RATE_LIMITED');
      this.out.send(ws, { type: 'error', code: 'RATE_LIMITED', message: 'one name change per second: try again in a moment' });
      return false;
    }
    this.renamedAt.set(participant, now);
    return true;
  }
}

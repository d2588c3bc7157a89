// The browser's WebSocket to the hub on its own proxied host, reconnecting with backoff.

import {
  type ClientMessage,
  encodeMessage,
  FOLLOWER_BYTES_BURST,
  FOLLOWER_BYTES_PER_SECOND,
  FOLLOWER_MAX_MESSAGE_BYTES,
  isVersionRefusal,
  PROTOCOL_VERSION,
  parseServerMessage,
  type ServerMessage,
} from '../protocol/messages.js';
import { utf8Bytes } from './text-splice.js';

/** Budget kept in reserve under the hub's byte budget (the hub's bucket may be a little emptier than this side counts). */
const BUDGET_MARGIN = 16 * 1024;

/** Close codes after which the browser does not reconnect. */
const FINAL_CLOSE_CODES = new Set([4000, 4400]);

/**
 * What the connection reports to its owner. 'outdated': closed for good, the hub speaks another
 * protocol version than this page's script (the page has to be loaded again).
 */
export interface ConnectionEvents {
  onOpen(): void;
  onMessage(message: ServerMessage): void;
  onStatus(status: 'connecting' | 'connected' | 'reconnecting' | 'closed' | 'outdated'): void;
}

/** One participant page's link to the hub. */
export class HubConnection {
  private ws: WebSocket | null = null;
  private attempts = 0;
  private stopped = false;
  /** Sequence number of the last broadcast applied; sent on reconnect to resume from there. */
  lastSeq: number | undefined;
  /** The hub's byte budget for this socket as this side counts it (only the live page has none); kept a little under the hub's. */
  private byteTokens = FOLLOWER_BYTES_BURST;
  private byteRefilledAt = 0;

  constructor(
    private readonly mode: 'live' | 'mirror',
    private readonly events: ConnectionEvents,
  ) {}

  /** Opens the socket (again). */
  connect(): void {
    if (this.stopped) return;
    this.events.onStatus(this.attempts === 0 ? 'connecting' : 'reconnecting');
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/__cobrowse/ws`);
    this.ws = ws;
    ws.onopen = () => {
      this.attempts = 0;
      // A new socket starts with a full budget at the hub.
      this.byteTokens = FOLLOWER_BYTES_BURST;
      this.byteRefilledAt = performance.now();
      const hello = encodeMessage(
        this.lastSeq === undefined
          ? { type: 'hello', v: PROTOCOL_VERSION, mode: this.mode }
          : { type: 'hello', v: PROTOCOL_VERSION, mode: this.mode, lastSeq: this.lastSeq },
      );
      this.spend(utf8Bytes(hello));
      ws.send(hello);
      this.events.onStatus('connected');
      this.events.onOpen();
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string' || this.ws !== ws) return;
      const parsed = parseServerMessage(ev.data);
      if (!parsed.ok) return;
      const message = parsed.value;
      // Neither side can read the other's messages: reconnecting would not help, loading the page again does.
      if ((message.type === 'welcome' && message.v !== PROTOCOL_VERSION) || (message.type === 'error' && isVersionRefusal(message))) {
        this.stopped = true;
        this.ws = null;
        ws.close();
        this.events.onStatus('outdated');
        return;
      }
      this.events.onMessage(message);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped || FINAL_CLOSE_CODES.has(ev.code)) {
        this.stopped = true;
        this.events.onStatus('closed');
        return;
      }
      const delay = Math.min(5000, 250 * 2 ** this.attempts++);
      setTimeout(() => this.connect(), delay);
    };
  }

  /**
   * Sends a message when connected; returns false when it could not be sent. A socket that is not
   * the live page does not send a message the hub would close it for (over its size limit or its
   * byte budget): it returns false instead.
   */
  send(message: ClientMessage): boolean {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    const text = encodeMessage(message);
    if (this.mode !== 'live') {
      const bytes = utf8Bytes(text);
      if (bytes > FOLLOWER_MAX_MESSAGE_BYTES || bytes > this.spareBytes()) return false;
      this.spend(bytes);
    }
    this.ws.send(text);
    return true;
  }

  /** Bytes this socket can send now without passing the hub's byte budget (unbounded for the live page). */
  spareBytes(): number {
    if (this.mode === 'live') return Number.POSITIVE_INFINITY;
    this.spend(0);
    return Math.max(0, this.byteTokens - BUDGET_MARGIN);
  }

  private spend(bytes: number): void {
    const now = performance.now();
    // Refilled a little slower than the hub does: the two clocks start apart.
    this.byteTokens = Math.min(FOLLOWER_BYTES_BURST, this.byteTokens + ((now - this.byteRefilledAt) / 1000) * FOLLOWER_BYTES_PER_SECOND * 0.95);
    this.byteRefilledAt = now;
    this.byteTokens -= bytes;
  }

  /** Drops the socket and connects again, forgetting lastSeq so that a full snapshot comes. */
  resync(): void {
    this.lastSeq = undefined;
    this.ws?.close();
  }

  /** Closes for good. */
  stop(): void {
    this.stopped = true;
    this.ws?.close();
  }
}

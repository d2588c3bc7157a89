// The browser's WebSocket to the hub on its own proxied host, reconnecting with backoff.

import { type ClientMessage, encodeMessage, PROTOCOL_VERSION, parseServerMessage, type ServerMessage } from '../protocol/messages.js';

/** Close codes after which the browser does not reconnect. */
const FINAL_CLOSE_CODES = new Set([4000, 4400]);

/** What the connection reports to its owner. */
export interface ConnectionEvents {
  onOpen(): void;
  onMessage(message: ServerMessage): void;
  onStatus(status: 'connecting' | 'connected' | 'reconnecting' | 'closed'): void;
}

/** One participant page's link to the hub. */
export class HubConnection {
  private ws: WebSocket | null = null;
  private attempts = 0;
  private stopped = false;
  /** Sequence number of the last broadcast applied; sent on reconnect to resume from there. */
  lastSeq: number | undefined;

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
      ws.send(
        encodeMessage(
          this.lastSeq === undefined
            ? { type: 'hello', v: PROTOCOL_VERSION, mode: this.mode }
            : { type: 'hello', v: PROTOCOL_VERSION, mode: this.mode, lastSeq: this.lastSeq },
        ),
      );
      this.events.onStatus('connected');
      this.events.onOpen();
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      const parsed = parseServerMessage(ev.data);
      if (parsed.ok) this.events.onMessage(parsed.value);
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

  /** Sends a message when connected; returns false when it could not be sent. */
  send(message: ClientMessage): boolean {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(encodeMessage(message));
    return true;
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

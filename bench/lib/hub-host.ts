// The host side of the hub scenario: one WebSocket that says hello as the live page, sends a
// snapshot, then mutation batches at a fixed rate (answering request-snapshot like the recorder).

import WebSocket from 'ws';
import { mutationMessage } from './content.js';
import { withTimeout } from './procs.js';

export interface HostRunResult {
  /** Batches handed to the socket. */
  sent: number;
  /** Milliseconds from the first batch to the last one sent. */
  sendMs: number;
  /** When the hub cut the socket off (its error message, else the close), ms after the first batch; null when it stayed open. */
  closedAfterMs: number | null;
  closeCode: number | null;
  closeReason: string;
  /** Error codes the hub sent back (e.g. RATE_LIMITED). */
  errors: string[];
  snapshotRequests: number;
}

export class HostSocket {
  private closeCode: number | null = null;
  private closeReason = '';
  private closedAt = 0;
  /** When the hub's first error message arrived (it precedes a close for rate limits). */
  private errorAt = 0;
  private errors: string[] = [];
  private snapshotRequests = 0;
  private counter = 0;

  private constructor(
    private readonly ws: WebSocket,
    private readonly snapshot: string,
  ) {
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      if (text.includes('"request-snapshot"')) {
        this.snapshotRequests++;
        if (ws.readyState === WebSocket.OPEN) ws.send(this.snapshot);
      } else if (text.startsWith('{"type":"error"')) {
        const code = (JSON.parse(text) as { code?: string }).code ?? 'error';
        if (this.errorAt === 0) this.errorAt = performance.now();
        if (this.errors.length < 20) this.errors.push(code);
      }
    });
    ws.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      this.closedAt = performance.now();
    });
  }

  /** Connects, waits for the welcome, sends `hello` (when given) and the snapshot. */
  static async open(url: string, headers: Record<string, string>, hello: string | null, snapshot: string): Promise<HostSocket> {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false, handshakeTimeout: 10_000 });
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        ws.once('message', () => resolve());
        ws.once('error', reject);
        ws.once('close', (code) => reject(new Error(`host socket closed before the welcome (code ${code})`)));
      }),
      10_000,
      'host socket welcome',
    );
    const host = new HostSocket(ws, snapshot);
    if (hello) ws.send(hello);
    ws.send(snapshot);
    return host;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends `rate` batches per second for `durationMs` (stops early if the socket closes). */
  async sendAtRate(runId: number, rate: number, durationMs: number): Promise<HostRunResult> {
    const total = Math.max(1, Math.round((rate * durationMs) / 1000));
    const start = performance.now();
    let sent = 0;
    let lastSend = start;
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const elapsed = performance.now() - start;
        const due = Math.min(total, Math.floor((elapsed * rate) / 1000) + 1);
        while (sent < due && this.ws.readyState === WebSocket.OPEN) {
          this.ws.send(mutationMessage(runId, this.counter++));
          sent++;
          lastSend = performance.now();
        }
        if (sent >= total || this.ws.readyState !== WebSocket.OPEN || elapsed > durationMs + 2000) {
          resolve();
          return;
        }
        setTimeout(tick, 1);
      };
      tick();
    });
    if (this.ws.readyState === WebSocket.CLOSING || (this.errorAt > 0 && this.ws.readyState === WebSocket.OPEN)) {
      // The hub closed it: wait for the close to complete, to report its code.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000);
        this.ws.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const cutAt = this.errorAt > 0 ? this.errorAt : this.closedAt;
    return {
      sent,
      sendMs: lastSend - start,
      closedAfterMs: this.closeCode === null ? null : cutAt - start,
      closeCode: this.closeCode,
      closeReason: this.closeReason,
      errors: [...this.errors],
      snapshotRequests: this.snapshotRequests,
    };
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => this.ws.once('close', () => resolve()));
    this.ws.close(1000);
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1000))]);
    this.ws.terminate();
  }
}

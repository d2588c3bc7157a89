// The bridge between uWS's HttpResponse/HttpRequest and streams: reads a request (headers copied
// synchronously, body as a Node stream with flow control) and writes a response with backpressure.

import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { STATUS_CODES } from 'node:http';
import { Readable } from 'node:stream';
import { NOT_ASCII, wireBytes } from './byte-text.js';
import type { LogFields } from './log.js';

/** A request as copied out of uWS while its HttpRequest was still valid. */
export interface IncomingRequest {
  method: string;
  /** Path and query, as received. */
  url: string;
  /** Header values by lowercase name; repeated headers are joined as HTTP says. */
  headers: Record<string, string>;
  /** The client's address; '' when the exchange was told not to copy it. */
  remoteAddress: string;
}

/** A reason phrase as HTTP allows it (tabs, spaces, visible characters, obs-text bytes). */
const REASON_PHRASE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Response headers that the bridge writes itself or that must never be relayed. */
const FRAMING_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'date']);

/** One HTTP exchange on a uWS response: abort tracking, body reading and backpressured writing. */
export class Exchange {
  readonly request: IncomingRequest;
  /** True once the client went away before the response was complete. */
  aborted = false;
  private abortListeners: (() => void)[] | null = null;
  private abortController: AbortController | null = null;
  /** Status of the response once its head was written (0 before). */
  status = 0;
  /** Body bytes received from the client and handed to uWS for it (for logs and metrics). */
  bytesIn = 0;
  bytesOut = 0;
  /** Log fields the handlers learn (session, participant, content kind); the access log line carries them. */
  readonly annotations: LogFields = {};
  private done = false;
  private headWritten = false;
  private onWritableOnce: ((offset: number) => boolean) | null = null;
  /** Headers every response of this exchange carries, whoever writes it (the containment policy of proxied hosts). */
  extraHeaders: readonly [string, string][] = [];
  /** The site's status and reason phrase: a response of that status goes with the site's phrase (a page reads it as statusText). */
  siteReason: { status: number; text: string } | null = null;

  // Lifetime rule: construct synchronously inside the uWS handler, before any await; it copies
  // the request and registers onAborted/onWritable, which uWS requires before returning.
  // `copyAddress`: read the client address now (a getpeername call), for whoever logs it later.
  constructor(
    readonly res: HttpResponse,
    req: HttpRequest,
    copyAddress = true,
  ) {
    const headers: Record<string, string> = {};
    req.forEach((key, value) => {
      const prev = headers[key];
      headers[key] = prev === undefined ? value : `${prev}${key === 'cookie' ? '; ' : ', '}${value}`;
    });
    const query = req.getQuery();
    this.request = {
      method: req.getCaseSensitiveMethod().toUpperCase(),
      url: query ? `${req.getUrl()}?${query}` : req.getUrl(),
      headers,
      remoteAddress: copyAddress ? Buffer.from(res.getRemoteAddressAsText()).toString() : '',
    };
    res.onAborted(() => {
      this.done = true;
      this.aborted = true;
      this.abortController?.abort();
      const listeners = this.abortListeners;
      this.abortListeners = null;
      for (const listener of listeners ?? []) listener();
      const waiter = this.onWritableOnce;
      this.onWritableOnce = null;
      waiter?.(0);
    });
    res.onWritable((offset) => {
      const waiter = this.onWritableOnce;
      if (!waiter) return true;
      this.onWritableOnce = null;
      return waiter(offset);
    });
  }

  /** Runs `listener` when the client goes away (at once if it has); no AbortSignal is made for it. */
  onAbort(listener: () => void): void {
    if (this.aborted) listener();
    else (this.abortListeners ??= []).push(listener);
  }

  /** An AbortSignal that aborts when the client goes away (made on first use: most exchanges never need one). */
  get signal(): AbortSignal {
    if (!this.abortController) {
      this.abortController = new AbortController();
      if (this.aborted) this.abortController.abort();
    }
    return this.abortController.signal;
  }

  /** True once the client went away or the response was ended. */
  get finished(): boolean {
    return this.done;
  }

  /**
   * The request body as a stream, or null for methods without one. Must be called synchronously
   * in the uWS handler (uWS delivers data right after it returns). Pauses the socket when the
   * consumer is slow; errors with PAYLOAD_TOO_LARGE past `maxBytes`.
   */
  readBody(maxBytes: number): Readable | null {
    const { method, headers } = this.request;
    const hasBody = headers['content-length'] !== undefined ? headers['content-length'] !== '0' : headers['transfer-encoding'] !== undefined;
    if (method === 'GET' || method === 'HEAD' || !hasBody) return null;
    const res = this.res;
    let received = 0;
    let paused = false;
    const body = new Readable({
      read: () => {
        // uWS misbehaves when resume() is called on a socket that is not paused.
        if (paused && !this.done) {
          paused = false;
          res.resume();
        }
      },
    });
    res.onData((chunk, isLast) => {
      received += chunk.byteLength;
      this.bytesIn = received;
      if (received > maxBytes) {
        body.destroy(Object.assign(new Error(`request body larger than ${maxBytes} bytes`), { code: 'PAYLOAD_TOO_LARGE' }));
        return;
      }
      // Lifetime rule: uWS neuters `chunk` when this callback returns, so copy it.
      if (!body.push(Buffer.from(chunk.slice(0))) && !isLast) {
        paused = true;
        res.pause();
      }
      if (isLast) body.push(null);
    });
    return body;
  }

  /** Ends the response with a complete body (small responses: pages, JSON, errors). */
  sendComplete(status: number, headers: Iterable<[string, string]>, body: string | Uint8Array): void {
    if (this.done) return;
    this.done = true;
    this.res.cork(() => {
      this.writeHead(status, headers);
      if (this.request.method === 'HEAD') this.endEmpty(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
      else {
        this.res.end(body);
        this.bytesOut += typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
      }
    });
  }

  /**
   * Ends the response without a body, announcing `length` bytes (what a GET would get) when it
   * is known. The header is written here, never through `endWithoutBody(length)`: with a length
   * above 0 this uWS leaves the response open, as if that many bytes were still to come, and
   * closes the connection at the client's next request on it (test/passthrough-body.test.ts).
   */
  private endEmpty(length: number | null): void {
    if (length !== null) this.res.writeHeader('Content-Length', String(length));
    this.res.endWithoutBody();
  }

  /**
   * Streams a response body with backpressure. With a known `length` the response carries
   * Content-Length, otherwise it is chunked. Stops (and closes `body`) when the client aborts.
   */
  async sendStream(status: number, headers: Iterable<[string, string]>, body: AsyncIterable<Uint8Array> | null, length: number | null): Promise<void> {
    if (this.done) return;
    const noBody = body === null || this.request.method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
    if (noBody) {
      this.done = true;
      this.res.cork(() => {
        this.writeHead(status, headers);
        if (status === 204 || status === 304) this.res.endWithoutBody();
        // A HEAD of unknown length says none (Content-Length: 0 would claim an empty body).
        else this.endEmpty(this.request.method === 'HEAD' ? length : (length ?? 0));
      });
      if (body && Symbol.asyncIterator in body) await drain(body);
      return;
    }
    if (length !== null) await this.streamKnownLength(status, headers, body, length);
    else await this.streamChunked(status, headers, body);
  }

  /**
   * Streams a chunked body that comes as parts, each a few pieces written back to back: the head
   * goes out with the first part and the end with the last, so a part costs one write. Stops when
   * the client aborts (and closes `parts`).
   */
  async sendParts(status: number, headers: Iterable<[string, string]>, parts: AsyncIterable<{ pieces: readonly Uint8Array[]; last: boolean }>): Promise<void> {
    if (this.done) return;
    for await (const { pieces, last } of parts) {
      if (this.done) return;
      let ok = true;
      this.res.cork(() => {
        if (!this.headWritten) this.writeHead(status, headers);
        for (const piece of pieces) {
          ok = this.res.write(piece) && ok;
          this.bytesOut += piece.byteLength;
        }
        if (last) {
          this.done = true;
          this.res.end();
        }
      });
      if (last) return;
      if (!ok) {
        await this.drained();
      }
    }
    if (this.done) return;
    this.done = true;
    this.res.cork(() => {
      if (!this.headWritten) this.writeHead(status, headers);
      this.res.end();
    });
  }

  /**
   * Answers with an error: a complete response while nothing was sent yet, otherwise (a body
   * already streaming) the connection is closed so that the client sees a truncated response.
   */
  fail(status: number, headers: Iterable<[string, string]>, body: string): void {
    if (this.done) return;
    if (this.headWritten) {
      this.done = true;
      this.res.close();
      return;
    }
    this.sendComplete(status, headers, body);
  }

  /** Resolves when uWS can take more of the body (after a write it could not take at once). */
  private drained(): Promise<void> {
    return new Promise<void>((resolve) =>
      this.waitWritable(() => {
        resolve();
        return true;
      }),
    );
  }

  private writeHead(status: number, headers: Iterable<[string, string]>): void {
    this.headWritten = true;
    this.status = status;
    const site = this.siteReason;
    const reason = site !== null && site.status === status && REASON_PHRASE.test(site.text) ? site.text : (STATUS_CODES[status] ?? '');
    this.res.writeStatus(NOT_ASCII.test(reason) ? wireBytes(`${status} ${reason}`) : `${status} ${reason}`);
    for (const [name, value] of headers) {
      if (!FRAMING_HEADERS.has(name.toLowerCase())) this.res.writeHeader(name, NOT_ASCII.test(value) ? wireBytes(value) : value);
    }
    for (const [name, value] of this.extraHeaders) this.res.writeHeader(name, value);
  }

  /**
   * A chunked body: the head goes out with the first chunk, and the end with the last one when
   * the body ends before the event loop's next turn (a small body costs one write, not three).
   * A chunk is held back no longer than that turn.
   */
  private async streamChunked(status: number, headers: Iterable<[string, string]>, body: AsyncIterable<Uint8Array>): Promise<void> {
    const it = body[Symbol.asyncIterator]();
    let held: Uint8Array | null = null;
    let next = it.next();
    let ended = false;
    try {
      for (;;) {
        let r: IteratorResult<Uint8Array> | typeof LATER = held === null ? await next : await settledSoon(next);
        if (r === LATER) {
          // The body goes on later: what is held leaves now.
          if (!this.done && !this.writeChunk(status, headers, held, false)) await this.drained();
          held = null;
          r = await next;
        }
        if (this.done) return;
        if (r.done) {
          ended = true;
          this.done = true;
          this.writeChunk(status, headers, held, true);
          return;
        }
        const ok = held === null || this.writeChunk(status, headers, held, false);
        held = r.value;
        next = it.next();
        if (!ok) await this.drained();
      }
    } finally {
      // Stopped early (the client went, or the body failed): the body is closed, so is its upstream.
      if (!ended) await it.return?.().catch(() => undefined);
    }
  }

  /** One write: the head when it has not gone yet, `chunk`, and the end when `last`; false when uWS could not take it all. */
  private writeChunk(status: number, headers: Iterable<[string, string]>, chunk: Uint8Array | null, last: boolean): boolean {
    let ok = true;
    this.res.cork(() => {
      if (!this.headWritten) this.writeHead(status, headers);
      if (chunk !== null) {
        ok = this.res.write(chunk);
        this.bytesOut += chunk.byteLength;
      }
      if (last) this.res.end();
    });
    return ok;
  }

  /** The head goes out with the first chunk (one write instead of two). */
  private async streamKnownLength(status: number, headers: Iterable<[string, string]>, body: AsyncIterable<Uint8Array>, length: number): Promise<void> {
    let sent = 0;
    let completed = false;
    for await (const chunk of body) {
      // Once the response is complete the loop still runs to the body's end: leaving it early
      // would destroy the upstream stream (an AbortError per response, measured in bench/).
      if (completed) continue;
      if (this.done) return;
      const startOffset = this.res.getWriteOffset();
      let result: [boolean, boolean] = [true, false];
      this.res.cork(() => {
        if (!this.headWritten) this.writeHead(status, headers);
        result = this.res.tryEnd(chunk, length);
      });
      sent += chunk.byteLength;
      this.bytesOut += chunk.byteLength;
      if (result[1]) {
        this.done = true;
        completed = true;
        continue;
      }
      if (!result[0]) await this.resendFrom(chunk, startOffset, length);
    }
    if (this.done) return;
    this.done = true;
    if (sent < length) {
      // The upstream body ended short of its Content-Length: close rather than hang.
      this.res.close();
      return;
    }
    // An empty body (Content-Length: 0): nothing went through tryEnd.
    this.res.cork(() => {
      if (!this.headWritten) this.writeHead(status, headers);
      this.res.end();
    });
  }

  /**
   * Ends the response with a body given as pieces (a rewritten page: slices of what the site sent
   * and the injected tag), written back to back in one cork with their total as Content-Length:
   * no copy into one buffer (a fresh 50 KB buffer per page cost ~20 µs of CPU, measured in
   * bench/). Waits only when uWS cannot take a piece at once.
   */
  async sendPieces(status: number, headers: Iterable<[string, string]>, pieces: readonly Uint8Array[]): Promise<void> {
    if (this.done) return;
    if (pieces.length <= 1 || this.request.method === 'HEAD') {
      this.sendComplete(status, headers, pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces));
      return;
    }
    let length = 0;
    for (const piece of pieces) length += piece.byteLength;
    let next = 0;
    let partial: { chunk: Uint8Array; start: number } | null = null;
    this.res.cork(() => {
      this.writeHead(status, headers);
      // Every piece before this one was taken whole (tryEnd said ok): the body's write offset is
      // the sum of their lengths, not asked of uWS again for each piece.
      let start = 0;
      while (next < pieces.length) {
        const chunk = pieces[next++]!;
        const [ok, finished] = this.res.tryEnd(chunk, length);
        this.bytesOut += chunk.byteLength;
        if (finished) {
          this.done = true;
          return;
        }
        if (!ok) {
          partial = { chunk, start };
          return;
        }
        start += chunk.byteLength;
      }
    });
    if (this.done) return;
    const held = partial as { chunk: Uint8Array; start: number } | null;
    if (held) await this.resendFrom(held.chunk, held.start, length);
    while (next < pieces.length && !this.done) {
      const chunk = pieces[next++]!;
      const start = this.res.getWriteOffset();
      const [ok, finished] = this.res.tryEnd(chunk, length);
      this.bytesOut += chunk.byteLength;
      if (finished) this.done = true;
      else if (!ok) await this.resendFrom(chunk, start, length);
    }
    // Every piece went through tryEnd, so the response is complete (or the client went away).
    this.done = true;
  }

  /** Lifetime rule: uWS kept only part of `chunk` (written from body offset `startOffset`); resends the rest from the offset it reports, as it becomes writable. */
  private resendFrom(chunk: Uint8Array, startOffset: number, length: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const retry = (offset: number): boolean => {
        if (this.done) {
          resolve();
          return true;
        }
        const [ok, finished] = this.res.tryEnd(chunk.subarray(offset - startOffset), length);
        if (finished) this.done = true;
        if (ok || finished) resolve();
        else this.waitWritable(retry);
        return ok;
      };
      this.waitWritable(retry);
    });
  }

  private waitWritable(handler: (offset: number) => boolean): void {
    if (this.done) {
      handler(0);
      return;
    }
    this.onWritableOnce = handler;
  }
}

/** What settledSoon gives for a promise still pending at the event loop's next turn. */
export const LATER = Symbol('later');

/** What `p` settles to if it does so before the event loop's next turn, else LATER (p keeps running). */
export function settledSoon<T>(p: Promise<T>): Promise<T | typeof LATER> {
  return new Promise((resolve, reject) => {
    const timer = setImmediate(() => resolve(LATER));
    p.then(
      (value) => {
        clearImmediate(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearImmediate(timer);
        reject(err);
      },
    );
  });
}

async function drain(body: AsyncIterable<Uint8Array>): Promise<void> {
  const it = body[Symbol.asyncIterator]();
  await it.return?.();
}

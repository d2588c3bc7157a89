// One request to a site through the gateway's undici Agent, with a dispatch handler of our own
// rather than `agent.request()`: the response body is a small async-iterable queue fed by the
// handler, with no Readable stream, async-iterator adapter or AbortSignal per request between the
// socket and the client. Measured on a bare uWS + undici proxy of a 50 KB page: 106 µs of CPU per
// request against 137 µs with `request()` (bench/README.md, session 15).

import type { Readable } from 'node:stream';
import { type Agent, type Dispatcher, errors as undiciErrors } from 'undici';
import { GatewayError } from './errors.js';
import type { RawHeaders } from './header-policy.js';

/** Largest request body (uploads included) the gateway forwards. */
export const MAX_REQUEST_BODY = 64 * 1024 * 1024;

/** Bytes of a response body queued while nobody reads it before the upstream socket is paused. */
const HIGH_WATER = 256 * 1024;

/** What the gateway asks of the site. */
export interface UpstreamRequest {
  origin: string;
  path: string;
  method: string;
  headers: Record<string, string>;
  body: Readable | null;
}

/** A response whose head has arrived. */
export interface UpstreamResponse {
  statusCode: number;
  /** The site's reason phrase ('' when it sent none). */
  statusText: string;
  headers: RawHeaders;
  body: UpstreamBody;
}

/** Where the caller learns that the client went away (the request is then aborted). */
export interface AbortSource {
  readonly aborted: boolean;
  onAbort(listener: () => void): void;
}

/** The error an upstream request or body fails with when the client went away. */
export class ClientGoneError extends Error {
  override readonly name = 'AbortError';
  readonly code = 'ABORT_ERR';
  constructor() {
    super('the client went away');
  }
}

/**
 * A response body as it arrives: iterate it once (for await). Stopping the iteration before the
 * end, or destroy(), aborts the request (undici closes that connection); reading to the end keeps
 * the connection for the next request.
 */
export class UpstreamBody implements AsyncIterable<Buffer>, AsyncIterator<Buffer> {
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private failure: Error | null = null;
  private waiter: { resolve: (r: IteratorResult<Buffer>) => void; reject: (err: Error) => void } | null = null;
  private controller: Dispatcher.DispatchController | null = null;
  private iterated = false;
  private peeker: (() => void) | null = null;

  /** @internal the handler's side */
  attach(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
  }

  /** @internal */
  push(chunk: Buffer): void {
    if (this.ended || this.failure) return;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = null;
      waiter.resolve({ value: chunk, done: false });
      return;
    }
    this.queue.push(chunk);
    this.queued += chunk.byteLength;
    if (this.queued > HIGH_WATER) this.controller?.pause();
    this.wakePeeker();
  }

  private wakePeeker(): void {
    const peeker = this.peeker;
    this.peeker = null;
    peeker?.();
  }

  /**
   * The body's first bytes that have arrived, up to `limit`, once there are at least `min` of them
   * or the body is complete (as many as came). They stay to be read. Not while the body is being
   * read.
   */
  async peek(min: number, limit: number): Promise<Buffer> {
    while (this.queued < min && !this.complete) {
      await new Promise<void>((resolve) => {
        this.peeker = resolve;
      });
    }
    const head = this.queue.length === 1 ? this.queue[0]! : Buffer.concat(this.queue);
    return head.subarray(0, limit);
  }

  /** @internal */
  end(): void {
    if (this.ended || this.failure) return;
    this.ended = true;
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.resolve({ value: undefined, done: true });
    this.wakePeeker();
  }

  /** @internal */
  fail(err: Error): void {
    if (this.ended || this.failure) return;
    this.failure = err;
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.reject(err);
    this.wakePeeker();
  }

  /** Bytes that arrived and wait for the reader. */
  get queuedBytes(): number {
    return this.queued;
  }

  /** True once the whole body has arrived (or failed). */
  get complete(): boolean {
    return this.ended || this.failure !== null;
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    if (this.iterated) throw new Error('an upstream body can be read once');
    this.iterated = true;
    return this;
  }

  next(): Promise<IteratorResult<Buffer>> {
    const chunk = this.queue.shift();
    if (chunk !== undefined) {
      this.queued -= chunk.byteLength;
      if (this.queued <= HIGH_WATER / 2 && this.controller?.paused) this.controller.resume();
      return Promise.resolve({ value: chunk, done: false });
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** The reader stopped: what has not arrived is not wanted (the request is aborted). */
  return(): Promise<IteratorResult<Buffer>> {
    this.destroy();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Stops the body: queued chunks are dropped and, unless it ended, the request is aborted. */
  destroy(): void {
    this.queue.length = 0;
    this.queued = 0;
    if (this.ended || this.failure) return;
    this.fail(new Error('the upstream body was not read to its end'));
    if (this.controller && !this.controller.aborted) this.controller.abort(new Error('the gateway stopped reading the body'));
  }
}

/**
 * Sends `request` to the site; resolves with the response once its head arrived (its body then
 * streams into `body`), rejects when the request fails before that. When `client` reports that the
 * client went away, the request is aborted (its body, if it started, fails with ClientGoneError).
 */
export function sendUpstream(agent: Agent, request: UpstreamRequest, client: AbortSource): Promise<UpstreamResponse> {
  if (request.method.toUpperCase() === 'CONNECT') return Promise.reject(new Error('CONNECT is not sent upstream'));
  return new Promise<UpstreamResponse>((resolve, reject) => {
    const body = new UpstreamBody();
    let started = false;
    let controller: Dispatcher.DispatchController | null = null;
    let gone = client.aborted;
    client.onAbort(() => {
      gone = true;
      if (controller && !controller.aborted) controller.abort(new ClientGoneError());
    });
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        body.attach(c);
        if (gone) c.abort(new ClientGoneError());
      },
      onResponseStart(_c, statusCode, headers, statusMessage) {
        // An interim answer (100 Continue, 102 Processing, 103 Early Hints) comes before the
        // final one, whose head (and Set-Cookie) is the one that counts: it is not passed on.
        if (statusCode < 200) return;
        started = true;
        resolve({ statusCode, statusText: statusMessage ?? '', headers: headers as RawHeaders, body });
      },
      onRequestUpgrade(_c, _statusCode, _headers, socket) {
        // undici takes any answer to CONNECT (or to an Upgrade request) for an upgrade; the
        // gateway sends neither (proxyRequest refuses CONNECT), so the socket is closed.
        socket.destroy();
        reject(new Error('the site answered with a protocol upgrade the gateway did not ask for'));
      },
      onResponseData(_c, chunk) {
        body.push(chunk);
      },
      onResponseEnd() {
        body.end();
      },
      onResponseError(_c, err) {
        if (started) body.fail(gone ? new ClientGoneError() : err);
        else reject(gone ? new ClientGoneError() : err);
      },
    };
    try {
      agent.dispatch(
        {
          origin: request.origin,
          path: request.path,
          method: request.method as Dispatcher.HttpMethod,
          headers: request.headers,
          body: request.body,
        },
        handler,
      );
    } catch (err) {
      reject(err);
    }
  });
}

/**
 * The gateway's answer when the site's body failed after its head arrived and before the gateway
 * had sent anything of it (a page held for rewriting): the site closed the connection or stopped
 * sending. Null for an error that is not the upstream connection's.
 */
export function upstreamBodyError(err: unknown, target: URL): GatewayError | null {
  if (err instanceof undiciErrors.BodyTimeoutError) {
    return new GatewayError('UPSTREAM_TIMEOUT', 504, `${target.origin} stopped sending its answer before its end.`, { cause: err });
  }
  if (err instanceof undiciErrors.SocketError || err instanceof undiciErrors.ResponseContentLengthMismatchError) {
    return new GatewayError('UPSTREAM_FAILED', 502, `${target.origin} broke off its answer before its end.`, { cause: err });
  }
  return null;
}

/** The largest response head the gateway takes from a site, in bytes (server.ts's Agent). */
export const MAX_RESPONSE_HEAD = 256 * 1024;

/** The gateway's answer to a request to `target` that failed before its response's head arrived. */
export function upstreamError(err: unknown, target: URL): GatewayError {
  if (err instanceof undiciErrors.HeadersOverflowError) {
    return new GatewayError('UPSTREAM_FAILED', 502, `${target.origin} sent response headers larger than ${MAX_RESPONSE_HEAD / 1024} KB.`, { cause: err });
  }
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError || err instanceof undiciErrors.ConnectTimeoutError) {
    return new GatewayError('UPSTREAM_TIMEOUT', 504, `${target.origin} did not answer in time.`, { cause: err });
  }
  if ((err as { code?: string }).code === 'SSRF_BLOCKED') {
    return new GatewayError('SSRF_BLOCKED', 403, `${target.hostname} resolves to an internal network address; the gateway refuses to connect there.`, {
      cause: err,
    });
  }
  if ((err as { code?: string }).code === 'PAYLOAD_TOO_LARGE') {
    return new GatewayError('PAYLOAD_TOO_LARGE', 413, `The request body is larger than ${MAX_REQUEST_BODY} bytes.`, { cause: err });
  }
  return new GatewayError('UPSTREAM_FAILED', 502, `${target.origin} could not be reached.`, { cause: err });
}

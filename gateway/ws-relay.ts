// The site's own WebSockets on proxied hosts: the host's page opens one, the gateway checks who
// asks and where to, opens the upstream socket before answering the browser, then relays
// messages and closes both ways with bounded buffers.

import type { HttpRequest, HttpResponse, WebSocket as UwsSocket, us_socket_context_t, WebSocketBehavior } from 'uWebSockets.js';
import { type ClientRequestArgs, type IncomingMessage, STATUS_CODES } from 'node:http';
import WebSocket from 'ws';
import { effectivePort } from './allowlist.js';
import type { GatewayContext } from './context.js';
import { errorBody, GatewayError, toGatewayError } from './errors.js';
import { errorFields, type LogFields } from './log.js';
import { participantFromCookie, RESERVED_PREFIX } from './proxied-host.js';
import { cookieContexts } from './same-site.js';
import type { Participant, Session } from './session.js';
import type { UpstreamLookup } from './upstream-dns.js';
import { withPathOf } from './url-mapper.js';

/** Largest message either side may send. */
const MAX_PAYLOAD = 16 * 1024 * 1024;
/** Bytes queued towards the browser past which reading from upstream pauses until uWS drains. */
const BROWSER_PAUSE_AT = 1024 * 1024;
/** Bytes queued towards upstream past which the browser's socket is closed with 1013. */
const UPSTREAM_MAX_BUFFERED = MAX_PAYLOAD;
/** Options of every upstream socket: no redirects, no compression (CPU and memory per socket), the payload limit. */
const UPSTREAM_OPTIONS = { handshakeTimeout: 10_000, maxPayload: MAX_PAYLOAD, perMessageDeflate: false, followRedirects: false } as const;
/** Upstream is pinged this often; a ping without a pong by the next beat ends the relay. */
const HEARTBEAT_MS = 30_000;

/** Headers of the browser's handshake the relay needs; uWS's request is gone after the upgrade call returns. */
const HANDSHAKE_HEADERS = ['host', 'cookie', 'origin', 'user-agent', 'sec-websocket-key', 'sec-websocket-protocol', 'sec-websocket-extensions'] as const;
type Handshake = Record<(typeof HANDSHAKE_HEADERS)[number], string>;

/** One browser socket and its upstream socket. */
class Relay {
  browser: UwsSocket<RelayData> | null = null;
  upstream: WebSocket | null = null;
  /** The browser's side is gone (aborted handshake or closed socket). */
  gone = false;
  /** Upstream answered the last heartbeat ping. */
  alive = true;
  /** Upstream messages that arrived before the browser's socket opened. */
  readonly early: [Buffer, boolean][] = [];
  /** Upstream's close, when it came before the browser's socket opened. */
  upstreamClose: [number, Buffer] | null = null;

  constructor(
    readonly session: Session,
    readonly participant: Participant,
    readonly target: URL,
    readonly realOrigin: string | null,
  ) {}

  get fields(): LogFields {
    return { sessionId: this.session.id, participantId: this.participant.id, role: this.participant.role, origin: this.target.origin };
  }
}

type RelayData = { relay: Relay };

/** Codes a close frame may carry (RFC 6455 7.4). */
function sendable(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

function upstreamError(err: unknown, target: URL): GatewayError {
  if (err instanceof GatewayError) return err;
  const { code, message } = err as { code?: string; message?: string };
  if (code === 'SSRF_BLOCKED') return new GatewayError('SSRF_BLOCKED', 403, `${target.hostname} resolves to an internal network address.`, { cause: err });
  if (message?.includes('handshake has timed out'))
    return new GatewayError('UPSTREAM_TIMEOUT', 504, `${target.origin} did not answer in time.`, { cause: err });
  return new GatewayError('UPSTREAM_FAILED', 502, `${target.origin} could not be reached.`, { cause: err });
}

/** The site's WebSockets of every session, by session: upgrade checks, relays, and their end. */
export class SiteSockets {
  private readonly bySession = new Map<string, Set<Relay>>();
  private readonly heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS);

  constructor(
    private readonly gw: GatewayContext,
    /** The DNS guard for a connection to a port (lookupsByPort). */
    private readonly lookupFor: (port: number) => UpstreamLookup,
  ) {
    this.heartbeat.unref();
  }

  /** The uWS behavior for every path on proxied hosts but the hub's. */
  behavior(): WebSocketBehavior<RelayData> {
    return {
      maxPayloadLength: MAX_PAYLOAD,
      maxBackpressure: MAX_PAYLOAD,
      closeOnBackpressureLimit: 1,
      idleTimeout: 120,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => this.upgrade(res, req, context),
      open: (ws) => this.guard(ws, () => this.opened(ws)),
      message: (ws, message, isBinary) => this.guard(ws, () => this.fromBrowser(ws, message, isBinary)),
      drain: (ws) => {
        const { upstream } = ws.getUserData().relay;
        if (upstream?.isPaused && ws.getBufferedAmount() < BROWSER_PAUSE_AT / 2) upstream.resume();
      },
      close: (ws, code, message) => this.browserClosed(ws.getUserData().relay, code, Buffer.from(new Uint8Array(message))),
    };
  }

  /** Closes every site socket of an ended session. */
  endSession(sessionId: string): void {
    for (const relay of [...(this.bySession.get(sessionId) ?? [])]) {
      if (relay.browser) relay.browser.end(1001, 'session ended');
      else relay.upstream?.terminate();
    }
    this.bySession.delete(sessionId);
  }

  /** Stops the heartbeat and closes every relay (the gateway stops). */
  close(): void {
    clearInterval(this.heartbeat);
    for (const sessionId of [...this.bySession.keys()]) this.endSession(sessionId);
  }

  private upgrade(res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void {
    const query = req.getQuery();
    const h = Object.fromEntries(HANDSHAKE_HEADERS.map((name) => [name, req.getHeader(name)])) as Handshake;
    const url = req.getUrl();
    const who: LogFields = {};
    let relay: Relay | null = null;
    let aborted = false;
    // Lifetime rule: onAborted before the first await; after an abort, res must not be touched.
    res.onAborted(() => {
      aborted = true;
      if (!relay) return;
      relay.gone = true;
      relay.upstream?.terminate();
      this.forget(relay);
    });
    this.admit(h, url, query ? `?${query}` : '', who)
      .then((admitted) => {
        relay = admitted;
        if (aborted) throw new GatewayError('BAD_REQUEST', 400, 'The browser went away.');
        let set = this.bySession.get(admitted.session.id);
        if (!set) this.bySession.set(admitted.session.id, (set = new Set()));
        set.add(admitted);
        return this.connect(admitted, h);
      })
      .then((upstream) => {
        if (!relay) return;
        if (relay.gone) return upstream.close(1001);
        if (relay.session.ended) throw new GatewayError('SESSION_NOT_FOUND', 404, 'This cobrowsing session has ended.');
        const admitted = relay;
        res.cork(() => res.upgrade<RelayData>({ relay: admitted }, h['sec-websocket-key'], upstream.protocol, h['sec-websocket-extensions'], context));
      })
      .catch((err: unknown) => {
        if (relay) {
          relay.upstream?.terminate();
          this.forget(relay);
        }
        if (!aborted) this.refuse(res, err, relay?.fields ?? who);
      });
  }

  /** Who asks (written into `who` as it is learned) and where to; throws the GatewayError the handshake is refused with. */
  private async admit(h: Handshake, path: string, search: string, who: LogFields): Promise<Relay> {
    const { gw } = this;
    const host = gw.mapper.parseHost(h.host);
    if (!host) throw new GatewayError('UNKNOWN_HOST', 404, 'This host is not served by the cobrowsing gateway.');
    who.sessionId = host.sessionId;
    const session = await gw.registry.load(host.sessionId);
    if (!session) throw new GatewayError('SESSION_NOT_FOUND', 404, 'This cobrowsing session has ended or never existed.');
    const found = await participantFromCookie(gw, h.cookie, session.id);
    if (!found) throw new GatewayError('NOT_A_PARTICIPANT', 401, 'You are not a participant of this session.');
    const { participant } = found;
    Object.assign(who, { participantId: participant.id, role: participant.role });
    if (participant.role !== 'host') {
      gw.log.warn("refused a follower's site WebSocket: only the host's page runs the site's scripts", who);
      throw new GatewayError('FORBIDDEN', 403, "Only the host's page opens the site's WebSockets.");
    }
    const realOrigin = URL.canParse(h.origin) ? (gw.mapper.toRealUrl(new URL(h.origin), session.id, session.origins)?.origin ?? null) : null;
    if (h.origin && !realOrigin) {
      gw.log.warn('refused a site WebSocket opened from a page outside the session', who);
      throw new GatewayError('FORBIDDEN', 403, 'This WebSocket was not opened by a page of this session.');
    }
    if (path.startsWith('/__cobrowse/blocked-origin/')) throw new GatewayError('SITE_NOT_ALLOWED', 403, 'This site is not allowed on this cobrowsing gateway.');
    if (path.startsWith(RESERVED_PREFIX)) throw new GatewayError('NOT_FOUND', 404, `Nothing is served at ${path}.`);
    const origin = await gw.registry.originOf(session, host.label);
    if (!origin) throw new GatewayError('NOT_FOUND', 404, 'This session has no such site.');
    const target = withPathOf(origin, path, search);
    who.origin = target.origin;
    if (!gw.allowlist.allows(target)) throw new GatewayError('SITE_NOT_ALLOWED', 403, gw.allowlist.refusal(target));
    return new Relay(session, participant, target, realOrigin);
  }

  /** Opens the upstream socket; resolves once it is open (paused) and its cookies are in the jar. */
  private async connect(relay: Relay, h: Handshake): Promise<WebSocket> {
    const { session, target } = relay;
    // SameSite as for the site's other requests (same-site.ts): a socket that a page of another
    // site opens carries SameSite=None cookies only, and its handshake's answer sets only those.
    const initiator = relay.realOrigin ? new URL(relay.realOrigin) : null;
    const sameSite = cookieContexts({ method: 'GET', target, initiator, fetchMode: 'websocket', fetchDest: 'websocket' });
    const cookie = await session.jar.cookieHeader(target, sameSite.request);
    if (relay.gone) throw new GatewayError('BAD_REQUEST', 400, 'The browser went away.');
    const url = new URL(target);
    url.protocol = target.protocol === 'https:' ? 'wss:' : 'ws:';
    const headers: Record<string, string> = {};
    if (cookie) headers.cookie = cookie;
    if (relay.realOrigin) headers.origin = relay.realOrigin;
    if (h['user-agent']) headers['user-agent'] = h['user-agent'];
    const protocols = h['sec-websocket-protocol'].split(/\s*,\s*/).filter(Boolean);
    const options: WebSocket.ClientOptions & Pick<ClientRequestArgs, 'lookup'> = {
      ...UPSTREAM_OPTIONS,
      headers,
      lookup: this.lookupFor(effectivePort(url.protocol, url.port)) as ClientRequestArgs['lookup'],
    };
    let upstream: WebSocket;
    try {
      upstream = new WebSocket(url, protocols, options);
    } catch (err) {
      throw new GatewayError('BAD_REQUEST', 400, 'The WebSocket subprotocols are not valid.', { cause: err });
    }
    relay.upstream = upstream;
    let stored: Promise<unknown> = Promise.resolve();
    const store = (response: IncomingMessage) => {
      const setCookies = response.headers['set-cookie'] ?? [];
      if (setCookies.length > 0) stored = session.jar.store(setCookies, target, sameSite.response);
    };
    upstream.on('upgrade', store);
    upstream.on('message', (data, isBinary) => this.toBrowser(relay, data as Buffer, isBinary));
    upstream.on('close', (code, reason) => this.closeBrowser(relay, code, reason));
    upstream.on('pong', () => {
      relay.alive = true;
    });
    await new Promise<void>((resolve, reject) => {
      upstream.once('open', () => {
        upstream.pause();
        resolve();
      });
      upstream.once('unexpected-response', (request, response) => {
        store(response);
        response.resume();
        request.destroy();
        reject(new GatewayError('UPSTREAM_FAILED', 502, `${target.origin} refused the WebSocket (HTTP ${response.statusCode}).`));
      });
      upstream.on('error', (err) => {
        reject(upstreamError(err, target));
        if (relay.browser) this.gw.log.debug('site websocket upstream error', { ...relay.fields, ...errorFields(err) });
      });
    });
    await stored.catch(() => {});
    return upstream;
  }

  private opened(ws: UwsSocket<RelayData>): void {
    const relay = ws.getUserData().relay;
    relay.browser = ws;
    this.gw.log.debug('site websocket opened', relay.fields);
    if (relay.session.ended) {
      ws.end(1001, 'session ended');
      return;
    }
    relay.session.touch();
    for (const [data, isBinary] of relay.early.splice(0)) if (relay.browser) ws.send(data, isBinary);
    if (relay.upstreamClose) this.closeBrowser(relay, ...relay.upstreamClose);
    else relay.upstream?.resume();
  }

  private fromBrowser(ws: UwsSocket<RelayData>, message: ArrayBuffer, isBinary: boolean): void {
    const relay = ws.getUserData().relay;
    const { upstream } = relay;
    if (upstream?.readyState !== WebSocket.OPEN) return;
    relay.session.touch();
    upstream.send(Buffer.from(new Uint8Array(message)), { binary: isBinary });
    if (upstream.bufferedAmount > UPSTREAM_MAX_BUFFERED) {
      this.gw.log.warn('site websocket closed: upstream is not keeping up', { ...relay.fields, buffered: upstream.bufferedAmount });
      ws.end(1013, 'upstream is not keeping up');
    }
  }

  private toBrowser(relay: Relay, data: Buffer, isBinary: boolean): void {
    if (relay.gone) return;
    if (!relay.browser) {
      relay.early.push([data, isBinary]);
      return;
    }
    relay.session.touch();
    relay.browser.send(data, isBinary);
    if (relay.browser && relay.browser.getBufferedAmount() > BROWSER_PAUSE_AT) relay.upstream?.pause();
  }

  /** Passes upstream's close on (its code and reason, no code, or a dropped connection), now or once the browser's socket opens. */
  private closeBrowser(relay: Relay, code: number, reason: Buffer): void {
    const { browser } = relay;
    if (!browser) relay.upstreamClose = [code, reason];
    else if (sendable(code)) browser.end(code, reason);
    else if (code === 1005) browser.end();
    else browser.close();
  }

  private browserClosed(relay: Relay, code: number, reason: Buffer): void {
    relay.browser = null;
    relay.gone = true;
    this.forget(relay);
    const { upstream } = relay;
    if (upstream?.readyState === WebSocket.OPEN) {
      if (sendable(code)) upstream.close(code, reason);
      else if (code === 1005) upstream.close();
      else upstream.close(1001);
    } else if (upstream?.readyState === WebSocket.CONNECTING) {
      upstream.terminate();
    }
    this.gw.log.debug('site websocket closed', { ...relay.fields, code });
  }

  private forget(relay: Relay): void {
    const set = this.bySession.get(relay.session.id);
    set?.delete(relay);
    if (set?.size === 0) this.bySession.delete(relay.session.id);
  }

  private beat(): void {
    for (const set of this.bySession.values()) {
      for (const relay of set) {
        const { upstream } = relay;
        if (!relay.browser || upstream?.readyState !== WebSocket.OPEN || upstream.isPaused) continue;
        if (!relay.alive) {
          this.gw.log.warn('site websocket upstream stopped answering pings', relay.fields);
          upstream.terminate();
          continue;
        }
        relay.alive = false;
        upstream.ping();
      }
    }
  }

  /** Runs a socket handler; a throw is logged and closes that socket only. */
  private guard(ws: UwsSocket<RelayData>, run: () => void): void {
    try {
      run();
    } catch (err) {
      this.gw.log.error('site websocket handler failed', { ...ws.getUserData().relay.fields, ...errorFields(err, true) });
      try {
        ws.end(1011, 'internal error');
      } catch {}
    }
  }

  /** Answers a refused handshake with the error's status and JSON body. */
  private refuse(res: HttpResponse, err: unknown, fields: LogFields): void {
    const gerr = toGatewayError(err);
    const line = { ...fields, code: gerr.code, error: gerr.message };
    if (gerr.code === 'INTERNAL') this.gw.log.error('site websocket upgrade failed', { ...line, ...errorFields(gerr.cause, true) });
    else if (gerr.code === 'UPSTREAM_FAILED' || gerr.code === 'UPSTREAM_TIMEOUT') this.gw.log.warn('site websocket upstream failed', line);
    else this.gw.log.debug('site websocket refused', line);
    if (gerr.code === 'UPSTREAM_FAILED' || gerr.code === 'UPSTREAM_TIMEOUT') this.gw.metrics?.upstreamFailed(gerr.code);
    else this.gw.metrics?.rejected(gerr.code);
    try {
      res.cork(() => {
        res
          .writeStatus(`${gerr.status} ${STATUS_CODES[gerr.status] ?? ''}`)
          .writeHeader('content-type', 'application/json; charset=utf-8')
          .writeHeader('cache-control', 'no-store')
          .end(errorBody(gerr));
      });
    } catch {}
  }
}

// Every HTTP request the gateway's port takes (WebSockets apart): routed by its Host header to the
// gateway's own Hono app, to a proxied host, or refused; counted, logged, and answered with a 500
// if its handler fails, so that one request never takes the process down.

import type uWS from 'uWebSockets.js';
import { Readable } from 'node:stream';
import type { GatewayContext } from './context.js';
import { errorPage, GatewayError } from './errors.js';
import { Exchange, type IncomingRequest } from './http-bridge.js';
import type { Lifecycle } from './lifecycle.js';
import { errorFields } from './log.js';
import type { HostKind } from './metrics.js';
import { serveProxiedHost } from './proxied-host.js';

type FetchHandler = (request: Request) => Response | Promise<Response>;

export interface RequestHandlerOptions {
  lifecycle: Lifecycle;
  /** The gateway's own app (the landing page, the API, the invite pages, health and metrics). */
  gatewayApp: FetchHandler;
  /** No publicUrl is configured: requests to localhost or 127.0.0.1 are the gateway's too (see routeRequest). */
  redirectLoopback: boolean;
  /** Proxies in front of the gateway whose X-Forwarded-For entry names the client. */
  trustProxy: number;
}

function isLoopbackAlias(hostHeader: string): boolean {
  const host = hostHeader.replace(/:\d+$/, '').toLowerCase();
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
}

/** The handler of uWS's `any` route. */
export function requestHandler(gw: GatewayContext, options: RequestHandlerOptions): (res: uWS.HttpResponse, req: uWS.HttpRequest) => void {
  const { lifecycle, gatewayApp, redirectLoopback, trustProxy } = options;
  const { log } = gw;

  /** Routes one request by its Host header; `accounting.host` says where it went. */
  function routeRequest(exchange: Exchange, accounting: { host: HostKind }): Promise<void> {
    const hostHeader = exchange.request.headers.host ?? '';
    if (gw.mapper.isGatewayHost(hostHeader)) {
      accounting.host = 'gateway';
      return serveGatewayApp(gw, exchange, gatewayApp);
    }
    if (redirectLoopback && isLoopbackAlias(hostHeader)) {
      // localhost or 127.0.0.1: API clients and health checks are served as they are; a browser
      // is sent to the canonical gateway host (cobrowse.localhost), where its cookies belong.
      if (/^\/(api|healthz|readyz|metrics)(\/|\?|$)/.test(exchange.request.url)) return serveGatewayApp(gw, exchange, gatewayApp);
      exchange.sendComplete(302, [['location', `${gw.mapper.gatewayOrigin}${exchange.request.url}`]], '');
      return Promise.resolve();
    }
    const proxied = gw.mapper.parseHost(hostHeader);
    if (proxied) {
      accounting.host = 'proxied';
      exchange.annotations.sessionId = proxied.sessionId;
      return serveProxiedHost(gw, exchange, proxied);
    }
    gw.metrics?.rejected('UNKNOWN_HOST');
    const err = new GatewayError('UNKNOWN_HOST', 404, 'This host is not served by the cobrowsing gateway.');
    exchange.sendComplete(err.status, [['content-type', 'text/html; charset=utf-8']], errorPage(err));
    return Promise.resolve();
  }

  return (res, req) => {
    // Only the debug access log reads the client address.
    const exchange = new Exchange(res, req, log.enabled('debug'));
    const started = performance.now();
    const ended = lifecycle.begin();
    const accounting: { host: HostKind } = { host: 'unknown' };
    let work: Promise<void>;
    try {
      work = routeRequest(exchange, accounting);
    } catch (err) {
      work = Promise.reject(err);
    }
    // Every handler answers its own errors; this is the net under them.
    void work
      .catch((err: unknown) => {
        log.error('request handler failed', {
          ...exchange.annotations,
          host: accounting.host,
          path: loggablePath(accounting.host, exchange.request.url),
          ...errorFields(err, true),
        });
        exchange.fail(
          500,
          [['content-type', 'application/json; charset=utf-8']],
          '{"error":{"code":"INTERNAL","message":"The gateway failed to handle this request."}}',
        );
      })
      .catch(() => {})
      .finally(() => {
        ended();
        finishExchange(gw, exchange, accounting.host, started, trustProxy);
      });
  };
}

/** A request's path as it may be logged: no query string, no join-link secret, bounded length. */
export function loggablePath(host: HostKind, url: string): string {
  const path = url.split('?')[0] ?? '';
  if (host === 'gateway' && path.startsWith('/j/')) return '/j/:invite';
  return path.length > 200 ? `${path.slice(0, 200)}...` : path;
}

/** The client's address: the socket's, or the X-Forwarded-For entry added by the nearest of `trustProxy` proxies. */
export function clientAddress(request: IncomingRequest, trustProxy: number): string {
  const forwarded = request.headers['x-forwarded-for'];
  if (trustProxy <= 0 || !forwarded) return request.remoteAddress;
  const hops = forwarded.split(',').map((s) => s.trim());
  return hops[Math.max(0, hops.length - trustProxy)] || request.remoteAddress;
}

/** Counts a finished exchange and writes its access-log line (debug). */
function finishExchange(gw: GatewayContext, exchange: Exchange, host: HostKind, started: number, trustProxy: number): void {
  gw.metrics?.httpExchange(host, exchange.bytesIn, exchange.bytesOut);
  if (!gw.log.enabled('debug')) return;
  const { request } = exchange;
  gw.log.debug(exchange.annotations.kind ? 'proxied' : 'request', {
    ...exchange.annotations,
    host,
    method: request.method,
    path: loggablePath(host, request.url),
    status: exchange.status || null,
    bytes: exchange.bytesOut,
    bytesIn: exchange.bytesIn || undefined,
    ms: Math.round(performance.now() - started),
    aborted: exchange.aborted || undefined,
    client: clientAddress(request, trustProxy),
  });
}

/** Runs a fetch-style handler (the Hono app) for one uWS exchange. */
async function serveGatewayApp(gw: GatewayContext, exchange: Exchange, fetchHandler: FetchHandler): Promise<void> {
  const { request } = exchange;
  const body = exchange.readBody(1024 * 1024);
  try {
    const init: RequestInit & { duplex?: 'half' } = { method: request.method, headers: request.headers, signal: exchange.signal };
    if (body) {
      init.body = Readable.toWeb(body) as ReadableStream<Uint8Array>;
      init.duplex = 'half';
    }
    const response = await fetchHandler(new Request(`${gw.mapper.gatewayOrigin}${request.url}`, init));
    const payload = response.body ? new Uint8Array(await response.arrayBuffer()) : new Uint8Array(0);
    exchange.sendComplete(response.status, response.headers.entries(), payload);
  } catch (err) {
    body?.destroy();
    if (exchange.finished) return;
    gw.log.warn('gateway request failed', { path: request.url.split('?')[0], error: (err as Error).message });
    exchange.fail(
      400,
      [['content-type', 'application/json; charset=utf-8']],
      JSON.stringify({ error: { code: 'BAD_REQUEST', message: 'The request could not be read.' } }),
    );
  }
}

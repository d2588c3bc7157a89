// Starts the gateway: uWS owns the port; each request is routed by its Host header to the
// gateway's own Hono app, to a proxied host, or refused.

import uWS from 'uWebSockets.js';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { Agent } from 'undici';
import type { GatewayConfig, SiteConfig } from '../config/schema.js';
import { type DemoSite, startDemoSite } from '../demo/site.js';
import { Allowlist, parseSitePattern } from './allowlist.js';
import { createGatewayApp } from './api.js';
import type { GatewayContext } from './context.js';
import { errorPage, GatewayError } from './errors.js';
import { Exchange } from './http-bridge.js';
import { Hub } from './hub.js';
import { Logger } from './log.js';
import { participantFromCookie, serveProxiedHost } from './proxied-host.js';
import { SessionRegistry } from './session.js';
import { UrlMapper } from './url-mapper.js';

/** Options that do not come from the config file. */
export interface StartOptions {
  log?: Logger;
  /** GATEWAY_API_KEY; when set, creating sessions needs it. */
  apiKey?: string | null;
  /** The browser bundle; read from dist/inject.js when not given. */
  injectBundle?: Uint8Array;
  /** How often idle sessions are swept, in ms. */
  sweepIntervalMs?: number;
}

/** A running gateway. */
export interface RunningGateway {
  /** The gateway's public base URL (landing page and API). */
  url: string;
  port: number;
  demo: DemoSite | null;
  context: GatewayContext;
  hub: Hub;
  close(): Promise<void>;
}

/** Path of the built browser bundle, relative to the working directory. */
export const INJECT_BUNDLE_PATH = 'dist/inject.js';

function readInjectBundle(): Uint8Array {
  try {
    return readFileSync(INJECT_BUNDLE_PATH);
  } catch {
    throw new Error(`The browser bundle ${INJECT_BUNDLE_PATH} is missing: run "npm run build" first.`);
  }
}

function listen(app: uWS.TemplatedApp, host: string, port: number): Promise<uWS.us_listen_socket> {
  return new Promise((resolve, reject) => {
    app.listen(host, port, (socket) => {
      if (socket) resolve(socket);
      else reject(new Error(`Could not listen on ${host}:${port} (is the port in use?)`));
    });
  });
}

/** Starts the gateway (and the demo site when enabled) and resolves once it listens. */
export async function startGateway(config: GatewayConfig, options: StartOptions = {}): Promise<RunningGateway> {
  const log = options.log ?? new Logger(Logger.levelFrom(process.env.LOG_LEVEL));
  const injectBundle = options.injectBundle ?? readInjectBundle();
  const demo = config.demo.enabled ? await startDemoSite({ port: config.demo.port }) : null;
  const sites: SiteConfig[] = [...config.sites];
  if (demo) {
    const parsed = parseSitePattern(demo.origin);
    if (!parsed.ok) throw new Error(`demo origin ${demo.origin}: ${parsed.error}`);
    sites.unshift({ url: parsed.value.text, name: 'Demo shop (bundled)', pattern: parsed.value, mask: ['.private'] });
  }

  const app = uWS.App();
  let listenSocket: uWS.us_listen_socket;
  try {
    listenSocket = await listen(app, config.server.host, config.server.port);
  } catch (err) {
    await demo?.close();
    throw err;
  }
  const port = uWS.us_socket_local_port(listenSocket as unknown as uWS.us_socket);
  const publicUrl = config.publicUrl ?? `http://localhost:${port}`;

  const registry = new SessionRegistry({
    idleTimeoutMs: config.sessions.idleTimeoutSeconds * 1000,
    maxSessions: config.sessions.maxSessions,
    maxParticipants: config.sessions.maxParticipants,
    ticketTtlMs: 60_000,
  });
  const gw: GatewayContext = {
    registry,
    allowlist: new Allowlist(sites.map((s) => s.pattern)),
    sites,
    mapper: new UrlMapper(publicUrl),
    agent: new Agent({ connections: 128, headersTimeout: 30_000, bodyTimeout: 60_000, keepAliveTimeout: 10_000 }),
    apiKey: options.apiKey ?? null,
    injectBundle,
    log,
  };
  const hub = new Hub(gw, config.sessions.hostGracePeriodSeconds * 1000);
  registry.onEnd((session, reason) => hub.endSession(session, reason));
  registry.onJarChange((session) => hub.notifyCookiesChanged(session));
  registry.onJarLimit((session, evicted, limits) =>
    log.warn('cookie jar limit reached: oldest cookies evicted', { sessionId: session.id, evicted, maxCookies: limits.maxCookies, maxBytes: limits.maxBytes }),
  );
  const gatewayApp = createGatewayApp(gw);

  app.ws(
    '/__cobrowse/ws',
    hub.behavior(app, (hostHeader, cookie) => {
      const host = gw.mapper.parseHost(hostHeader);
      if (!host) return null;
      const found = participantFromCookie(gw, cookie, host.sessionId);
      return found ? { ...found, label: host.label } : null;
    }),
  );
  app.any('/*', (res, req) => {
    const exchange = new Exchange(res, req);
    const hostHeader = exchange.request.headers.host ?? '';
    if (gw.mapper.isGatewayHost(hostHeader)) {
      void serveGatewayApp(gw, exchange, gatewayApp.fetch);
      return;
    }
    const proxied = gw.mapper.parseHost(hostHeader);
    if (proxied) {
      void serveProxiedHost(gw, exchange, proxied);
      return;
    }
    const err = new GatewayError('UNKNOWN_HOST', 404, 'This host is not served by the cobrowsing gateway.');
    exchange.sendComplete(err.status, [['content-type', 'text/html; charset=utf-8']], errorPage(err));
  });

  const sweeper = setInterval(() => registry.sweep(), options.sweepIntervalMs ?? 10_000);
  sweeper.unref();
  log.info('gateway listening', { url: publicUrl, port, demo: demo?.origin ?? null, sites: sites.length });

  return {
    url: publicUrl,
    port,
    demo,
    context: gw,
    hub,
    async close() {
      clearInterval(sweeper);
      for (const session of [...registry.all()]) registry.end(session.id, 'The gateway is shutting down.');
      uWS.us_listen_socket_close(listenSocket);
      (app as unknown as { close(): void }).close();
      await gw.agent.close();
      await demo?.close();
    },
  };
}

/** Runs a fetch-style handler (the Hono app) for one uWS exchange. */
async function serveGatewayApp(gw: GatewayContext, exchange: Exchange, fetchHandler: (request: Request) => Response | Promise<Response>): Promise<void> {
  const { request } = exchange;
  const body = exchange.readBody(1024 * 1024);
  try {
    const init: RequestInit & { duplex?: 'half' } = { method: request.method, headers: request.headers, signal: exchange.abort.signal };
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

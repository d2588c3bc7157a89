// Starts the gateway: uWS owns the port; each request is routed by its Host header to the
// gateway's own Hono app, to a proxied host, or refused (request-entry.ts).

import uWS from 'uWebSockets.js';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { Agent } from 'undici';
import type { GatewayConfig, SiteConfig } from '../config/schema.js';
import { type DemoSite, startDemoSite } from '../demo/site.js';
import {
  Allowlist,
  effectivePort,
  type GatewayHosts,
  hostMatches,
  isListenerHost,
  listenerAddresses,
  parseSitePattern,
  patternCoversGateway,
} from './allowlist.js';
import { createGatewayApp } from './api.js';
import { bundlePath } from './bundle-path.js';
import { DEFAULT_CHECKPOINT_LIMITS } from './checkpoint.js';
import type { GatewayContext } from './context.js';
import { Hub } from './hub.js';
import { addressKey } from './ip-address.js';
import { Lifecycle, type ReadinessCheck } from './lifecycle.js';
import { Logger } from './log.js';
import { GatewayMetrics } from './metrics.js';
import { participantFromCookie } from './proxied-host.js';
import { requestHandler } from './request-entry.js';
import { SessionRegistry } from './session-registry.js';
import { guardSocketBehavior } from './socket-guard.js';
import { memoryBackend } from './state/memory-store.js';
import { connectRedis, type RedisBackend, redactRedisUrl } from './state/redis-backend.js';
import type { StateBackend } from './state/store.js';
import { MAX_RESPONSE_HEAD } from './upstream.js';
import { guardedConnector, lookupsByPort } from './upstream-dns.js';
import { UrlMapper } from './url-mapper.js';
import { readWorkerBundle } from './worker-prelude.js';
import { SiteSockets } from './ws-relay.js';

/** Options that do not come from the config file. */
export interface StartOptions {
  log?: Logger;
  /** GATEWAY_API_KEY; when set, creating sessions needs it. */
  apiKey?: string | null;
  /** METRICS_TOKEN; when set, GET /metrics needs it as a bearer token. */
  metricsToken?: string | null;
  /** Dependencies GET /readyz checks, by name (e.g. `redis`); see Lifecycle.addReadinessCheck. */
  readinessChecks?: Record<string, ReadinessCheck>;
  /** The browser bundle; read from dist/inject.js when not given. */
  injectBundle?: Uint8Array;
  /** The worker runtime; read from dist/inject-worker.js when not given. */
  workerBundle?: Uint8Array;
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
  lifecycle: Lifecycle;
  /**
   * Graceful stop: refuses new sessions, tells every participant, waits up to `deadlineMs`
   * (default `shutdown.deadline`) for in-flight requests, then closes everything.
   */
  shutdown(deadlineMs?: number): Promise<ShutdownReport>;
  /** Immediate stop: ends every session and closes every connection now. */
  close(): Promise<void>;
}

/** How a graceful stop went. */
export interface ShutdownReport {
  /** True when every in-flight request finished before the deadline. */
  drained: boolean;
  /** Requests still in flight at the deadline, closed unfinished. */
  cutOff: number;
  ms: number;
}

/** What participants are told when the gateway starts draining. */
export const DRAINING_MESSAGE = 'This cobrowsing gateway is restarting: the session will end in a few seconds.';

/** Base host when no publicUrl is configured; browsers resolve every *.localhost to loopback. */
export const DEFAULT_BASE_HOST = 'cobrowse.localhost';

/** Path of the built browser bundle (bundle-path.ts). */
export const INJECT_BUNDLE_PATH = bundlePath('inject.js');

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

/**
 * The bundled demo shop, when enabled. Nodes sharing Redis must agree on its origin: with a fixed
 * `demo.port` a node that finds the port taken (another node on this machine serves it) uses it.
 */
async function startDemo(config: GatewayConfig, log: Logger): Promise<DemoSite | null> {
  if (!config.demo.enabled) return null;
  if (config.redis && config.demo.port === 0) {
    log.warn('the demo shop runs on a random port while the state is shared: other nodes and restarts will not reach it; set demo.port');
  }
  try {
    return await startDemoSite({ port: config.demo.port });
  } catch (err) {
    if (!config.redis || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    const origin = `http://127.0.0.1:${config.demo.port}`;
    log.info('the demo shop port is taken: using the demo another node of this machine serves', { demo: origin });
    return { origin, close: async () => {} };
  }
}

/** Starts the gateway (and the demo site when enabled) and resolves once it listens. */
export async function startGateway(config: GatewayConfig, options: StartOptions = {}): Promise<RunningGateway> {
  const log = options.log ?? new Logger(Logger.levelFrom(process.env.LOG_LEVEL || config.log.level));
  const injectBundle = options.injectBundle ?? readInjectBundle();
  const demo = await startDemo(config, log);
  const sites: SiteConfig[] = [...config.sites];
  if (demo) {
    const parsed = parseSitePattern(demo.origin);
    if (!parsed.ok) throw new Error(`demo origin ${demo.origin}: ${parsed.error}`);
    sites.unshift({
      url: parsed.value.text,
      name: 'Demo shop (bundled)',
      pattern: parsed.value,
      mask: ['.private'],
      control: 'take',
      hostOnly: ['#pay-now'],
      hostOnlyUrls: ['/checkout*'],
      privateNetwork: true,
    });
  }

  // Shared state first: a node that cannot reach its Redis must not take traffic.
  let redis: RedisBackend | null = null;
  if (config.redis) {
    try {
      redis = await connectRedis(config.redis, log, DEFAULT_CHECKPOINT_LIMITS);
    } catch (err) {
      await demo?.close();
      throw err;
    }
  }
  const backend: StateBackend = redis ?? memoryBackend();

  const app = uWS.App();
  let listenSocket: uWS.us_listen_socket;
  try {
    listenSocket = await listen(app, config.server.host, config.server.port);
  } catch (err) {
    await demo?.close();
    await redis?.close();
    throw err;
  }
  const port = uWS.us_socket_local_port(listenSocket as unknown as uWS.us_socket);
  // Not bare `localhost`: under `cobrowse.localhost` the gateway and all proxied hosts are one
  // site for browsers, so a session's hosts can make credentialed requests to each other.
  const publicUrl = config.publicUrl ?? `http://${DEFAULT_BASE_HOST}:${port}`;
  // The gateway never proxies to itself, whatever the sites say (the config refuses what it can
  // tell: publicUrl's host and port, the machine's own addresses on the file's port; the port it
  // listens on is known only now). The machine's addresses are read once, here, never refreshed:
  // one an interface gains later (a new DHCP lease, a container network) is refused only after a
  // restart (until then the DNS guard still refuses a private one unless its site is privateNetwork).
  const own = new URL(publicUrl);
  const interfaces = networkInterfaces();
  const gatewayHosts: GatewayHosts = {
    hostname: own.hostname,
    ports: [effectivePort(own.protocol, own.port), port],
    listenPort: port,
    addresses: listenerAddresses(config.server.host, interfaces),
  };
  // Every address of this machine, whatever the gateway is bound to: other services listen there.
  const machine = listenerAddresses('0.0.0.0', interfaces);
  for (const site of sites) {
    if (patternCoversGateway(site.pattern, gatewayHosts))
      log.warn("a site entry covers the gateway's own host: requests there are refused", { site: site.url });
  }

  const registry = new SessionRegistry(
    {
      idleTimeoutMs: config.sessions.idleTimeoutSeconds * 1000,
      maxSessions: config.sessions.maxSessions,
      maxParticipants: config.sessions.maxParticipants,
      ticketTtlMs: 60_000,
    },
    backend,
    log,
  );
  // One SSRF guard for every upstream connection (HTTP through undici, the site's WebSockets through ws);
  // on the port the gateway listens on it also refuses a name whose answer is the gateway itself,
  // and on any port one whose answer is this machine (unless its site is privateNetwork).
  const lookupFor = lookupsByPort((hostname) => sites.some((s) => s.privateNetwork && hostMatches(s.pattern, hostname)), {
    port,
    reaches: (address) => isListenerHost(gatewayHosts, address),
    isMachine: (address) => {
      const key = addressKey(address);
      return key !== null && machine.has(key);
    },
  });
  const gw: GatewayContext = {
    registry,
    allowlist: new Allowlist(
      sites.map((s) => s.pattern),
      gatewayHosts,
    ),
    sites,
    mapper: new UrlMapper(publicUrl),
    agent: new Agent({
      connections: 128,
      headersTimeout: 30_000,
      bodyTimeout: 60_000,
      keepAliveTimeout: 10_000,
      // What Chromium takes (its limit is 256 KB): undici's default, 16 KB, refused real sites'
      // answers with large policies and cookies that the browser would have shown.
      maxHeaderSize: MAX_RESPONSE_HEAD,
      connect: guardedConnector(lookupFor),
    }),
    apiKey: options.apiKey ?? null,
    injectBundle,
    workerBundle: options.workerBundle ?? readWorkerBundle(),
    log,
    metrics: config.metrics.enabled ? new GatewayMetrics() : undefined,
    stateHealth: () => backend.store.health(),
  };
  const hub = new Hub(gw, backend, config.sessions.hostGracePeriodSeconds * 1000);
  const siteSockets = new SiteSockets(gw, lookupFor);
  const lifecycle = new Lifecycle();
  for (const [name, check] of Object.entries(options.readinessChecks ?? {})) lifecycle.addReadinessCheck(name, check);
  if (redis) lifecycle.addReadinessCheck('redis', () => backend.store.health());
  gw.metrics?.attach({
    sessionsOpen: () => registry.size,
    participantsConnected: () => {
      const counts: Record<string, number> = {};
      for (const session of registry.all()) for (const p of session.participants.values()) if (p.connections > 0) counts[p.role] = (counts[p.role] ?? 0) + 1;
      return counts;
    },
    socketsOpen: () => hub.connectionCount,
    requestsInFlight: () => lifecycle.requestsInFlight,
    draining: () => lifecycle.draining,
  });
  registry.onEnd((session, reason) => {
    hub.endSession(session, reason);
    siteSockets.endSession(session.id);
    gw.metrics?.sessionEnded();
    log.info('session ended', { sessionId: session.id, reason });
  });
  registry.onJarChange((session) => hub.notifyCookiesChanged(session));
  registry.onJarLimit((session, evicted, limits) =>
    log.warn('cookie jar limit reached: oldest cookies evicted', { sessionId: session.id, evicted, maxCookies: limits.maxCookies, maxBytes: limits.maxBytes }),
  );
  const metricsToken = options.metricsToken || null;
  const gatewayApp = createGatewayApp(gw, { lifecycle, metricsToken });

  app.ws(
    '/__cobrowse/ws',
    guardSocketBehavior(
      gw,
      hub.behavior(app, async (hostHeader, cookie) => {
        const host = gw.mapper.parseHost(hostHeader);
        const found = host ? await participantFromCookie(gw, cookie, host.sessionId) : null;
        if (!host || !found) {
          gw.metrics?.rejected('NOT_A_PARTICIPANT');
          log.debug('hub connection refused: not a participant', { sessionId: host?.sessionId });
          return null;
        }
        return { ...found, label: host.label };
      }),
    ),
  );
  // The site's own WebSockets: every other path (uWS matches the static hub route first).
  app.ws('/*', siteSockets.behavior());
  app.any('/*', requestHandler(gw, { lifecycle, gatewayApp: gatewayApp.fetch, redirectLoopback: !config.publicUrl, trustProxy: config.trustProxy }));

  let sweeping = false;
  const sweeper = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    registry
      .sweep()
      .catch((err: unknown) => log.warn('idle session sweep failed', { error: (err as Error).message }))
      .finally(() => {
        sweeping = false;
      });
  }, options.sweepIntervalMs ?? 10_000);
  sweeper.unref();
  log.info('gateway listening', {
    url: publicUrl,
    port,
    demo: demo?.origin ?? null,
    sites: sites.length,
    metrics: Boolean(gw.metrics),
    state: config.redis ? redactRedisUrl(config.redis) : 'memory',
    node: backend.bus.nodeId,
  });
  if (gw.metrics && !metricsToken && config.publicUrl?.startsWith('https:')) {
    log.warn('GET /metrics is open to anyone who reaches the gateway host: set METRICS_TOKEN');
  }

  let closing: Promise<void> | null = null;
  let listening = true;
  const stopListening = () => {
    if (!listening) return;
    listening = false;
    uWS.us_listen_socket_close(listenSocket);
  };
  const closeAll = (graceMs: number): Promise<void> =>
    (closing ??= (async () => {
      clearInterval(sweeper);
      if (redis) {
        // Shared state: the sessions live on in Redis and on the other nodes; this node's
        // participants reconnect (1012), through the load balancer, to another one.
        hub.disconnectAll();
      } else {
        for (const session of [...registry.all()]) await registry.end(session.id, 'The gateway is shutting down.').catch(() => {});
      }
      siteSockets.close();
      stopListening();
      // Let the participants' sockets take the "ended" message and close cleanly before the rest is cut.
      const until = performance.now() + graceMs;
      while (hub.connectionCount > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
      (app as unknown as { close(): void }).close();
      if (graceMs > 0) await gw.agent.close();
      else await gw.agent.destroy();
      await demo?.close();
      await redis?.close([...registry.all()].map((s) => s.id));
      gw.metrics?.close();
      lifecycle.markStopped();
    })());

  let stopping: Promise<ShutdownReport> | null = null;
  const shutdown = (deadlineMs = config.shutdown.deadlineSeconds * 1000): Promise<ShutdownReport> =>
    (stopping ??= (async () => {
      const t0 = performance.now();
      lifecycle.startDraining();
      // With shared state, new connections go to the other nodes at once; the sessions go on there.
      if (redis) stopListening();
      const told = redis ? 0 : hub.broadcast({ type: 'error', code: 'DRAINING', message: DRAINING_MESSAGE });
      log.info('draining: new sessions are refused', { deadlineMs, inFlight: lifecycle.requestsInFlight, sessions: registry.size, told });
      const drained = await lifecycle.whenIdle(deadlineMs);
      const cutOff = drained ? 0 : lifecycle.requestsInFlight;
      if (!drained) log.warn('shutdown deadline passed: closing requests still in flight', { deadlineMs, cutOff });
      await closeAll(drained ? Math.min(1000, Math.max(100, deadlineMs - (performance.now() - t0))) : 0);
      const ms = Math.round(performance.now() - t0);
      log.info('gateway stopped', { drained, cutOff, ms });
      return { drained, cutOff, ms };
    })());

  return {
    url: publicUrl,
    port,
    demo,
    context: gw,
    hub,
    lifecycle,
    shutdown,
    close: () => closeAll(0),
  };
}

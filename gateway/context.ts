// Everything a request handler needs, passed explicitly (no module-level state).

import type { Agent } from 'undici';
import type { SiteConfig } from '../config/schema.js';
import type { Allowlist } from './allowlist.js';
import type { Logger } from './log.js';
import type { GatewayMetrics } from './metrics.js';
import type { SessionRegistry } from './session-registry.js';
import type { UrlMapper } from './url-mapper.js';

/** The running gateway's shared parts. */
export interface GatewayContext {
  registry: SessionRegistry;
  allowlist: Allowlist;
  /** Sites shown on the landing page (the configured ones plus the demo when enabled). */
  sites: readonly SiteConfig[];
  mapper: UrlMapper;
  /** One undici Agent for every upstream request (keep-alive pools per origin). */
  agent: Agent;
  /** API key from GATEWAY_API_KEY; null leaves the API open (local use only). */
  apiKey: string | null;
  /** The bundled browser script served at /__cobrowse/inject.js. */
  injectBundle: Uint8Array;
  /** The worker URL runtime put in front of the site's worker scripts. */
  workerBundle: Uint8Array;
  log: Logger;
  /** Prometheus metrics of this gateway; absent when `metrics.enabled` is false. */
  metrics?: GatewayMetrics;
  /** Null while the session store answers, or what is wrong with it. */
  stateHealth(): Promise<string | null>;
}

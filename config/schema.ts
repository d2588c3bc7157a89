// The gateway's configuration: its types and its validation against the settings table
// (config/settings.ts). Every error names the setting's path (e.g. `sites[1].url`) and what is
// wrong with it.

import { networkInterfaces } from 'node:os';
import {
  effectivePort,
  type GatewayHosts,
  listenerAddresses,
  parseSitePattern,
  patternCoversGateway,
  patternNamesOwnAddress,
  type SitePattern,
} from '../gateway/allowlist.js';
import type { ControlPolicy } from '../protocol/messages.js';
import { selectorMistake } from '../protocol/selector-check.js';
import { defaultOf, settingKeys } from './settings.js';

/** One allowed site as configured. */
export interface SiteConfig {
  url: string;
  name: string;
  pattern: SitePattern;
  /** CSS selectors whose elements are masked in the host's browser before anything is sent. */
  mask: string[];
  /** Who may act on the host's page. */
  control: ControlPolicy;
  /** CSS selectors of elements only the host may use (a pay button, say). */
  hostOnly: string[];
  /** The site's names may resolve to private or loopback addresses (an intranet site). */
  privateNetwork: boolean;
  /** Path patterns (`*` for any characters) only the host may open. */
  hostOnlyUrls: string[];
}

/** The validated configuration the gateway runs on. */
export interface GatewayConfig {
  server: { host: string; port: number };
  /** Base URL of the gateway as browsers reach it; proxied hosts are subdomains of its host. */
  publicUrl: string | null;
  /** How many reverse proxies in front of the gateway append to X-Forwarded-For (0: none is trusted). */
  trustProxy: number;
  sessions: { idleTimeoutSeconds: number; hostGracePeriodSeconds: number; maxSessions: number; maxParticipants: number };
  sites: SiteConfig[];
  demo: { enabled: boolean; port: number };
  /** `format: auto` is pretty on a terminal and JSON otherwise; LOG_LEVEL and LOG_FORMAT override. */
  log: { level: 'debug' | 'info' | 'warn' | 'error' | 'silent'; format: 'auto' | 'json' | 'pretty' };
  /** GET /metrics on the gateway host; its bearer token comes from METRICS_TOKEN. */
  metrics: { enabled: boolean };
  /** After SIGTERM, how long in-flight requests get to finish. */
  shutdown: { deadlineSeconds: number };
  /** Shared state for several gateway nodes (`redis://` URL); null keeps everything in this process. `REDIS_URL` overrides it. */
  redis: string | null;
}

/** One problem found in a configuration, located by its setting path. */
export interface ConfigProblem {
  path: string;
  message: string;
}

/** Thrown when a configuration is invalid; lists every problem found. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(
    readonly source: string,
    readonly problems: ConfigProblem[],
  ) {
    super(`${source}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  }
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/;
const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

/** Reads a duration such as `30m`, `45s`, `2h` or a number of seconds; null when malformed. */
export function parseDuration(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 ? v : null;
  if (typeof v !== 'string') return null;
  const m = DURATION.exec(v.trim());
  if (!m?.[1]) return null;
  const seconds = Number(m[1]) * (UNIT_SECONDS[m[2] ?? 's'] ?? 1);
  return seconds > 0 ? seconds : null;
}

class Collector {
  readonly problems: ConfigProblem[] = [];
  add(path: string, message: string): void {
    this.problems.push({ path, message });
  }
  unknownKeys(obj: Obj, path: string, known: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (!known.includes(key)) {
        const where = path ? `${path}.${key}` : key;
        this.add(where, `unknown setting (known here: ${known.join(', ')})`);
      }
    }
  }
  section(root: Obj, key: string, known: readonly string[]): Obj {
    const v = root[key];
    if (v === undefined || v === null) return {};
    if (!isObj(v)) {
      this.add(key, 'must be a mapping');
      return {};
    }
    this.unknownKeys(v, key, known);
    return v;
  }
  port(v: unknown, path: string, fallback: number): number {
    if (v === undefined) return fallback;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535) return v;
    this.add(path, `must be a port number from 0 to 65535, got ${JSON.stringify(v)}`);
    return fallback;
  }
  positiveInt(v: unknown, path: string, fallback: number): number {
    if (v === undefined) return fallback;
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
    this.add(path, `must be a whole number above 0, got ${JSON.stringify(v)}`);
    return fallback;
  }
  wholeNumber(v: unknown, path: string, fallback: number): number {
    if (v === undefined) return fallback;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
    this.add(path, `must be a whole number (0 or more), got ${JSON.stringify(v)}`);
    return fallback;
  }
  /** A duration setting in seconds; its default comes from SETTINGS. */
  duration(v: unknown, path: string, examples: string): number {
    const fallback = parseDuration(defaultOf(path)) ?? 0;
    if (v === undefined) return fallback;
    const d = parseDuration(v);
    if (d !== null) return d;
    this.add(path, `must be a duration such as ${examples}, got ${JSON.stringify(v)}`);
    return fallback;
  }
  /** One of a fixed set of words; its default comes from SETTINGS. */
  oneOf<T extends string>(v: unknown, path: string, choices: readonly T[]): T {
    const fallback = defaultOf<T>(path);
    if (v === undefined) return fallback;
    if (typeof v === 'string' && (choices as readonly string[]).includes(v)) return v as T;
    this.add(path, `must be one of ${choices.join(', ')}, got ${JSON.stringify(v)}`);
    return fallback;
  }
  bool(v: unknown, path: string, fallback: boolean): boolean {
    if (v === undefined) return fallback;
    if (typeof v === 'boolean') return v;
    this.add(path, `must be true or false, got ${JSON.stringify(v)}`);
    return fallback;
  }
}

/** Names of the settings at the top level of the file. */
export const TOP_LEVEL_KEYS: readonly string[] = settingKeys('');

function validatePublicUrl(v: unknown, c: Collector): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') {
    c.add('publicUrl', 'must be a URL such as http://localhost:8080');
    return null;
  }
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    c.add('publicUrl', `is not a URL: ${JSON.stringify(v)}`);
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') c.add('publicUrl', 'must start with http:// or https://');
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    c.add('publicUrl', 'must be an origin only (scheme, host and optional port), with no path, query or credentials');
  }
  if (/^\d+\.\d+\.\d+\.\d+$/.test(url.hostname) || url.hostname.startsWith('[')) {
    c.add('publicUrl', 'must use a host name, not an IP address: proxied pages live on its subdomains');
  }
  return url.origin;
}

/** Checks a Redis URL (`redis://` or `rediss://`); `path` names where it came from in errors. */
export function validateRedisUrl(v: unknown, path: string, c: { add(path: string, message: string): void }): string | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string') {
    c.add(path, 'must be a URL such as redis://127.0.0.1:6379');
    return null;
  }
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    c.add(path, `is not a URL: ${JSON.stringify(v.replace(/\/\/[^@/]*@/, '//***@'))}`);
    return null;
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    c.add(path, `must start with redis:// or rediss://, got ${JSON.stringify(url.protocol)}`);
    return null;
  }
  if (!url.hostname) {
    c.add(path, 'must name a host, such as redis://127.0.0.1:6379');
    return null;
  }
  const db = url.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d{1,2}$/.test(db)) {
    c.add(path, `names database ${JSON.stringify(db)}: the path must be a database number such as /0`);
    return null;
  }
  return v;
}

/**
 * Where the gateway itself is reached, as far as the file tells: publicUrl's host (and the names
 * below it, where proxied hosts live) on publicUrl's port. Without a publicUrl, or for the port it
 * listens on, the gateway refuses such origins when it runs (and says so when it starts).
 */
function gatewayHostsOf(publicUrl: string | null): GatewayHosts | null {
  if (publicUrl === null || !URL.canParse(publicUrl)) return null;
  const url = new URL(publicUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  return { hostname: url.hostname, ports: [effectivePort(url.protocol, url.port)], listenPort: null, addresses: new Set() };
}

/** Where the file says the gateway listens: server.host, and server.port when it is not 0 (any free port). */
interface Listener {
  host: string;
  port: number;
  /** The machine's own non-loopback addresses a listener on host is reached at (listenerAddresses). */
  addresses: ReadonlySet<string>;
}

function validateSites(v: unknown, c: Collector, publicUrl: string | null, listener: Listener | null): SiteConfig[] {
  const gateway = gatewayHostsOf(publicUrl);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    c.add('sites', 'must be a list of entries with url: and optional name:');
    return [];
  }
  const sites: SiteConfig[] = [];
  const listed = new Map<string, number>();
  v.forEach((entry: unknown, i: number) => {
    const path = `sites[${i}]`;
    const raw = typeof entry === 'string' ? { url: entry } : entry;
    if (!isObj(raw)) {
      c.add(path, 'must be a mapping with url: and optional name:');
      return;
    }
    c.unknownKeys(raw, path, settingKeys('sites[]'));
    if (typeof raw.url !== 'string' || raw.url === '') {
      c.add(`${path}.url`, 'is required: an origin such as https://example.com or a pattern such as https://*.example.com');
      return;
    }
    const parsed = parseSitePattern(raw.url);
    if (!parsed.ok) {
      c.add(`${path}.url`, parsed.error);
      return;
    }
    const first = listed.get(parsed.value.text);
    if (first !== undefined) {
      // Which entry's masks and rules would apply is not for the gateway to guess.
      c.add(`${path}.url`, `${JSON.stringify(parsed.value.text)} is listed twice (sites[${first}] too): merge the two entries`);
      return;
    }
    listed.set(parsed.value.text, i);
    if (gateway && patternCoversGateway(parsed.value, gateway)) {
      c.add(
        `${path}.url`,
        `${JSON.stringify(parsed.value.text)} covers the gateway's own host (publicUrl ${publicUrl}) or its proxied hosts (*.${gateway.hostname}): the gateway would proxy to itself; remove the entry or give the gateway another publicUrl`,
      );
      return;
    }
    // `--port`, `$PORT` and `--host` are applied later: what they change is refused when the gateway starts.
    if (listener && patternNamesOwnAddress(parsed.value, listener.addresses, listener.port)) {
      c.add(
        `${path}.url`,
        `${JSON.stringify(parsed.value.text)} is this machine's own address on the port the gateway listens on (server.host ${listener.host}, server.port ${listener.port}): the gateway would proxy to itself; remove the entry, or listen on another port or address`,
      );
      return;
    }
    if (raw.name !== undefined && (typeof raw.name !== 'string' || raw.name.trim() === '')) {
      c.add(`${path}.name`, 'must be a non-empty string');
      return;
    }
    const mask = selectorList(raw.mask, `${path}.mask`, c);
    const hostOnly = selectorList(raw.hostOnly, `${path}.hostOnly`, c);
    let control: ControlPolicy = 'take';
    if (raw.control !== undefined) {
      if (raw.control === 'take' || raw.control === 'request' || raw.control === 'host-only') control = raw.control;
      else c.add(`${path}.control`, `must be take, request or host-only, got ${JSON.stringify(raw.control)}`);
    }
    const privateNetwork = c.bool(raw.privateNetwork, `${path}.privateNetwork`, false);
    const hostOnlyUrls: string[] = [];
    if (raw.hostOnlyUrls !== undefined) {
      if (!Array.isArray(raw.hostOnlyUrls)) c.add(`${path}.hostOnlyUrls`, 'must be a list of path patterns such as /checkout*');
      else
        raw.hostOnlyUrls.forEach((pattern: unknown, j: number) => {
          if (typeof pattern !== 'string' || !pattern.startsWith('/'))
            c.add(`${path}.hostOnlyUrls[${j}]`, `must be a path pattern starting with /, got ${JSON.stringify(pattern)}`);
          else hostOnlyUrls.push(pattern);
        });
    }
    sites.push({
      privateNetwork,
      hostOnlyUrls,
      url: parsed.value.text,
      name: typeof raw.name === 'string' ? raw.name.trim() : parsed.value.text,
      pattern: parsed.value,
      mask,
      control,
      hostOnly,
    });
  });
  return sites;
}

function selectorList(v: unknown, path: string, c: Collector): string[] {
  const out: string[] = [];
  if (v === undefined) return out;
  if (!Array.isArray(v)) {
    c.add(path, 'must be a list of CSS selectors');
    return out;
  }
  v.forEach((sel: unknown, j: number) => {
    if (typeof sel !== 'string' || sel.trim() === '' || /[{}<]/.test(sel)) {
      c.add(`${path}[${j}]`, `must be a CSS selector such as .card-number, got ${JSON.stringify(sel)}`);
      return;
    }
    const mistake = selectorMistake(sel.trim());
    if (mistake) c.add(`${path}[${j}]`, `${JSON.stringify(sel)} is not a selector browsers accept: ${mistake}`);
    else out.push(sel.trim());
  });
  return out;
}

/** Validates a parsed YAML document; throws ConfigError listing every problem. */
export function validateConfig(doc: unknown, source: string): GatewayConfig {
  const c = new Collector();
  const root: Obj = doc === null || doc === undefined ? {} : isObj(doc) ? doc : {};
  if (doc !== null && doc !== undefined && !isObj(doc)) c.add('(top level)', 'must be a mapping of settings');
  c.unknownKeys(root, '', TOP_LEVEL_KEYS);

  const server = c.section(root, 'server', settingKeys('server'));
  const host = server.host === undefined ? defaultOf<string>('server.host') : server.host;
  if (typeof host !== 'string' || host === '') c.add('server.host', 'must be an address to listen on, such as 127.0.0.1 or 0.0.0.0');

  const sessions = c.section(root, 'sessions', settingKeys('sessions'));
  const demo = c.section(root, 'demo', settingKeys('demo'));
  const log = c.section(root, 'log', settingKeys('log'));
  const metrics = c.section(root, 'metrics', settingKeys('metrics'));
  const shutdown = c.section(root, 'shutdown', settingKeys('shutdown'));
  // Read ahead of the literal below, in its order (the order problems are listed in): the sites are checked against publicUrl.
  const serverProblems = c.problems.length;
  const port = c.port(server.port, 'server.port', defaultOf('server.port'));
  // The sites are checked against the machine's addresses only for a host and port that are valid.
  const listener =
    typeof host === 'string' && host !== '' && port !== 0 && c.problems.length === serverProblems
      ? { host, port, addresses: listenerAddresses(host, networkInterfaces()) }
      : null;
  const publicUrlProblems = c.problems.length;
  const publicUrl = validatePublicUrl(root.publicUrl, c);
  // The sites are checked against a publicUrl that is valid, not one already refused.
  const gatewayUrl = c.problems.length === publicUrlProblems ? publicUrl : null;
  const config: GatewayConfig = {
    server: { host: typeof host === 'string' ? host : defaultOf<string>('server.host'), port },
    publicUrl,
    trustProxy: c.wholeNumber(root.trustProxy, 'trustProxy', defaultOf('trustProxy')),
    sessions: {
      idleTimeoutSeconds: c.duration(sessions.idleTimeout, 'sessions.idleTimeout', '30m, 90s or 2h'),
      hostGracePeriodSeconds: c.duration(sessions.hostGracePeriod, 'sessions.hostGracePeriod', '15s or 1m'),
      maxSessions: c.positiveInt(sessions.maxSessions, 'sessions.maxSessions', defaultOf('sessions.maxSessions')),
      maxParticipants: c.positiveInt(sessions.maxParticipants, 'sessions.maxParticipants', defaultOf('sessions.maxParticipants')),
    },
    sites: validateSites(root.sites, c, gatewayUrl, listener),
    demo: { enabled: c.bool(demo.enabled, 'demo.enabled', defaultOf('demo.enabled')), port: c.port(demo.port, 'demo.port', defaultOf('demo.port')) },
    log: {
      level: c.oneOf(log.level, 'log.level', ['debug', 'info', 'warn', 'error', 'silent'] as const),
      format: c.oneOf(log.format, 'log.format', ['auto', 'json', 'pretty'] as const),
    },
    metrics: { enabled: c.bool(metrics.enabled, 'metrics.enabled', defaultOf('metrics.enabled')) },
    shutdown: { deadlineSeconds: c.duration(shutdown.deadline, 'shutdown.deadline', '10s or 1m') },
    redis: validateRedisUrl(root.redis, 'redis', c),
  };
  if (config.sites.length === 0 && !config.demo.enabled && c.problems.length === 0) {
    c.add('sites', 'lists no site, and the demo is off: nothing could be proxied (add a site, or set demo.enabled: true)');
  }
  if (c.problems.length > 0) throw new ConfigError(source, c.problems);
  return config;
}

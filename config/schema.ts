// The gateway's settings: their types, defaults and validation. Every error names the setting's
// path (e.g. `sites[1].url`) and what is wrong with it.

import { parseSitePattern, type SitePattern } from '../gateway/allowlist.js';

/** One allowed site as configured. */
export interface SiteConfig {
  url: string;
  name: string;
  pattern: SitePattern;
  /** CSS selectors whose elements are masked in the host's browser before anything is sent. */
  mask: string[];
}

/** The validated configuration the gateway runs on. */
export interface GatewayConfig {
  server: { host: string; port: number };
  /** Base URL of the gateway as browsers reach it; proxied hosts are subdomains of its host. */
  publicUrl: string | null;
  sessions: { idleTimeoutSeconds: number; hostGracePeriodSeconds: number; maxSessions: number; maxParticipants: number };
  sites: SiteConfig[];
  demo: { enabled: boolean; port: number };
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
  bool(v: unknown, path: string, fallback: boolean): boolean {
    if (v === undefined) return fallback;
    if (typeof v === 'boolean') return v;
    this.add(path, `must be true or false, got ${JSON.stringify(v)}`);
    return fallback;
  }
}

/** Names of the settings at the top level of the file. */
export const TOP_LEVEL_KEYS = ['server', 'publicUrl', 'sessions', 'sites', 'demo'] as const;

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

function validateSites(v: unknown, c: Collector): SiteConfig[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    c.add('sites', 'must be a list of entries with url: and optional name:');
    return [];
  }
  const sites: SiteConfig[] = [];
  v.forEach((entry: unknown, i: number) => {
    const path = `sites[${i}]`;
    const raw = typeof entry === 'string' ? { url: entry } : entry;
    if (!isObj(raw)) {
      c.add(path, 'must be a mapping with url: and optional name:');
      return;
    }
    c.unknownKeys(raw, path, ['url', 'name', 'mask']);
    if (typeof raw.url !== 'string' || raw.url === '') {
      c.add(`${path}.url`, 'is required: an origin such as https://example.com or a pattern such as https://*.example.com');
      return;
    }
    const parsed = parseSitePattern(raw.url);
    if (!parsed.ok) {
      c.add(`${path}.url`, parsed.error);
      return;
    }
    if (raw.name !== undefined && (typeof raw.name !== 'string' || raw.name.trim() === '')) {
      c.add(`${path}.name`, 'must be a non-empty string');
      return;
    }
    const mask: string[] = [];
    if (raw.mask !== undefined) {
      if (!Array.isArray(raw.mask)) c.add(`${path}.mask`, 'must be a list of CSS selectors');
      else
        raw.mask.forEach((sel: unknown, j: number) => {
          if (typeof sel !== 'string' || sel.trim() === '' || /[{}<>]/.test(sel))
            c.add(`${path}.mask[${j}]`, `must be a CSS selector such as .card-number, got ${JSON.stringify(sel)}`);
          else mask.push(sel.trim());
        });
    }
    sites.push({ url: parsed.value.text, name: typeof raw.name === 'string' ? raw.name.trim() : parsed.value.text, pattern: parsed.value, mask });
  });
  return sites;
}

/** Validates a parsed YAML document; throws ConfigError listing every problem. */
export function validateConfig(doc: unknown, source: string): GatewayConfig {
  const c = new Collector();
  const root: Obj = doc === null || doc === undefined ? {} : isObj(doc) ? doc : {};
  if (doc !== null && doc !== undefined && !isObj(doc)) c.add('(top level)', 'must be a mapping of settings');
  c.unknownKeys(root, '', TOP_LEVEL_KEYS);

  const server = c.section(root, 'server', ['host', 'port']);
  const host = server.host === undefined ? '127.0.0.1' : server.host;
  if (typeof host !== 'string' || host === '') c.add('server.host', 'must be an address to listen on, such as 127.0.0.1 or 0.0.0.0');

  const sessions = c.section(root, 'sessions', ['idleTimeout', 'hostGracePeriod', 'maxSessions', 'maxParticipants']);
  let idle = 30 * 60;
  if (sessions.idleTimeout !== undefined) {
    const d = parseDuration(sessions.idleTimeout);
    if (d === null) c.add('sessions.idleTimeout', `must be a duration such as 30m, 90s or 2h, got ${JSON.stringify(sessions.idleTimeout)}`);
    else idle = d;
  }

  let grace = 15;
  if (sessions.hostGracePeriod !== undefined) {
    const d = parseDuration(sessions.hostGracePeriod);
    if (d === null) c.add('sessions.hostGracePeriod', `must be a duration such as 15s or 1m, got ${JSON.stringify(sessions.hostGracePeriod)}`);
    else grace = d;
  }

  const demo = c.section(root, 'demo', ['enabled', 'port']);
  const config: GatewayConfig = {
    server: { host: typeof host === 'string' ? host : '127.0.0.1', port: c.port(server.port, 'server.port', 8080) },
    publicUrl: validatePublicUrl(root.publicUrl, c),
    sessions: {
      idleTimeoutSeconds: idle,
      hostGracePeriodSeconds: grace,
      maxSessions: c.positiveInt(sessions.maxSessions, 'sessions.maxSessions', 1000),
      maxParticipants: c.positiveInt(sessions.maxParticipants, 'sessions.maxParticipants', 50),
    },
    sites: validateSites(root.sites, c),
    demo: { enabled: c.bool(demo.enabled, 'demo.enabled', false), port: c.port(demo.port, 'demo.port', 0) },
  };
  if (config.sites.length === 0 && !config.demo.enabled && c.problems.length === 0) {
    c.add('sites', 'lists no site, and the demo is off: nothing could be proxied (add a site, or set demo.enabled: true)');
  }
  if (c.problems.length > 0) throw new ConfigError(source, c.problems);
  return config;
}

// The one mapping between real origins and proxied hosts:
//   http://<label>--<session-id>.<base-host>[:port]/<original path>
// The label names an origin in the session's OriginTable, so any origin fits in one DNS label.

import { createHash } from 'node:crypto';

/** Session ids: 26 base32 characters (130 random bits), lowercase so that they survive DNS. */
export const SESSION_ID_PATTERN = /^[a-z2-7]{26}$/;

// `o<n>`: labels a session's table hands out in order (one process); `h<10 base32>`: labels
// derived from the origin, so that nodes sharing a session name an origin alike without asking each other.
const PROXIED_LABEL = /^(o[1-9][0-9]{0,3}|h[a-z2-7]{10})--([a-z2-7]{26})$/;

/** The label an origin gets in a hashed table: 50 bits of its SHA-256, base32. */
export function hashedLabel(origin: string): string {
  const digest = createHash('sha256').update(origin).digest();
  let out = 'h';
  let value = 0;
  let bits = 0;
  for (const byte of digest) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5 && out.length < 11) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length === 11) break;
  }
  return out;
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/**
 * The labels a session gives its origins: `sequential` (o1, o2, ... in the order met) or
 * `hashed` (derived from the origin; used when several nodes share the session). `onAdd` hears
 * of every origin this table labels itself (not of those taken in with `register`).
 */
export class OriginTable {
  private readonly byLabel = new Map<string, string>();
  private readonly byOrigin = new Map<string, string>();

  /** Most origins one session may reach. */
  static readonly MAX_ORIGINS = 200;

  constructor(
    private readonly scheme: 'sequential' | 'hashed' = 'sequential',
    private readonly onAdd: (label: string, origin: string) => void = () => {},
  ) {}

  /** The label of `origin`, registering it when new; null when the table is full. */
  labelFor(origin: string): string | null {
    const known = this.byOrigin.get(origin);
    if (known) return known;
    if (this.byLabel.size >= OriginTable.MAX_ORIGINS) return null;
    const label = this.scheme === 'hashed' ? hashedLabel(origin) : `o${this.byLabel.size + 1}`;
    if (this.byLabel.has(label)) return null;
    this.register(label, origin);
    this.onAdd(label, origin);
    return label;
  }

  /** Takes in a pair labelled elsewhere (the stored table). */
  register(label: string, origin: string): void {
    if (this.byLabel.has(label)) return;
    this.byLabel.set(label, origin);
    this.byOrigin.set(origin, label);
  }

  /** The origin a label stands for, if registered. */
  originOf(label: string): string | undefined {
    return this.byLabel.get(label);
  }

  /** How many origins are labelled (the table only grows: a count names its state). */
  get size(): number {
    return this.byLabel.size;
  }

  /** Every (label, origin) pair, for persistence and the API. */
  entries(): [string, string][] {
    return [...this.byLabel.entries()];
  }
}

/** Where a proxied host points: which session, which origin label. */
export interface ProxiedHost {
  label: string;
  sessionId: string;
}

/** Builds and parses proxied URLs for one public base URL. */
export class UrlMapper {
  readonly scheme: string;
  readonly baseHostname: string;
  readonly port: string;

  constructor(publicUrl: string) {
    const url = new URL(publicUrl);
    this.scheme = url.protocol;
    this.baseHostname = url.hostname.toLowerCase();
    this.port = url.port;
  }

  /** Origin of the gateway's own pages and API. */
  get gatewayOrigin(): string {
    return `${this.scheme}//${this.baseHostname}${this.port ? `:${this.port}` : ''}`;
  }

  /** Host name (without port) of a proxied origin. */
  proxiedHostname(host: ProxiedHost): string {
    return `${host.label}--${host.sessionId}.${this.baseHostname}`;
  }

  /** Origin (scheme, host, port) under which a session's origin label is served. */
  proxiedOrigin(host: ProxiedHost): string {
    return `${this.scheme}//${this.proxiedHostname(host)}${this.port ? `:${this.port}` : ''}`;
  }

  /** Reads a Host header; null when it is not a proxied host of this gateway. */
  parseHost(hostHeader: string): ProxiedHost | null {
    const hostname = stripPort(hostHeader).toLowerCase();
    const suffix = `.${this.baseHostname}`;
    if (!hostname.endsWith(suffix)) return null;
    const m = PROXIED_LABEL.exec(hostname.slice(0, -suffix.length));
    if (!m) return null;
    return { label: m[1]!, sessionId: m[2]! };
  }

  /** True when a Host header names the gateway's own host. */
  isGatewayHost(hostHeader: string): boolean {
    return stripPort(hostHeader).toLowerCase() === this.baseHostname;
  }

  /** Maps a real URL into the session; null when its origin cannot get a label. */
  toProxiedUrl(real: URL, sessionId: string, origins: OriginTable): string | null {
    const label = origins.labelFor(real.origin);
    if (!label) return null;
    return `${this.proxiedOrigin({ label, sessionId })}${real.pathname}${real.search}${real.hash}`;
  }

  /** Maps a proxied URL of the session back to the real one; null for any other URL. */
  toRealUrl(proxied: URL, sessionId: string, origins: OriginTable): URL | null {
    if (proxied.protocol !== this.scheme || proxied.port !== this.port) return null;
    const host = this.parseHost(proxied.host);
    if (!host || host.sessionId !== sessionId) return null;
    const origin = origins.originOf(host.label);
    if (!origin) return null;
    return withPathOf(origin, proxied.pathname, proxied.search, proxied.hash);
  }
}

/**
 * `origin` with the given path, query and fragment. Never `new URL(path, origin)`: a path such as
 * `//evil.com/x` would be read as another host.
 */
export function withPathOf(origin: string, pathname: string, search = '', hash = ''): URL {
  const url = new URL(origin);
  url.pathname = pathname;
  // An origin has no query or fragment: each setter re-serializes the URL, so only what is there is set.
  if (search !== '') url.search = search;
  if (hash !== '') url.hash = hash;
  return url;
}

function stripPort(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.lastIndexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

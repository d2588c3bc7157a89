// Which origins the gateway may proxy: exact origins and `scheme://*.domain[:port]` patterns, never
// the gateway itself (its own host, its proxied hosts, loopback names and the machine's own
// addresses on the port it listens on), whatever the list says: that would be a loop, and a way
// around the gateway's own checks.

import type { NetworkInterfaceInfo } from 'node:os';
import { addressKey, isLoopbackAddress } from './ip-address.js';

/** A parsed `sites[].url` entry. */
export interface SitePattern {
  /** The entry as written, normalized (lowercase, default port dropped). */
  text: string;
  scheme: 'http:' | 'https:';
  /** Exact host name, or the suffix after `*.` for a wildcard. */
  host: string;
  wildcard: boolean;
  /** Port as a string, '' for the scheme's default. */
  port: string;
}

/** Outcome of parsing a site entry. */
export type PatternResult = { ok: true; value: SitePattern } | { ok: false; error: string };

const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

function validHostName(host: string): boolean {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) return host.split('.').every((p) => Number(p) <= 255);
  if (/^\[[0-9a-f:.]+\]$/.test(host)) return true;
  return host.length <= 253 && host.split('.').every((label) => HOST_LABEL.test(label));
}

/** Parses an allowlist entry such as `https://example.com` or `https://*.example.com:8443`. */
export function parseSitePattern(input: string): PatternResult {
  const m = /^(https?):\/\/(\*\.)?([^/:?#]+|\[[^\]]+\])(?::(\d{1,5}))?\/?$/i.exec(input.trim());
  if (!m) {
    return {
      ok: false,
      error: `${JSON.stringify(input)} is not an origin such as https://example.com or a pattern such as https://*.example.com (no path, query or credentials)`,
    };
  }
  const scheme = `${m[1]!.toLowerCase()}:` as 'http:' | 'https:';
  const wildcard = m[2] !== undefined;
  const host = m[3]!.toLowerCase();
  if (!validHostName(host)) return { ok: false, error: `${JSON.stringify(host)} is not a valid host name` };
  if (wildcard && (host.startsWith('[') || /^\d+\.\d+\.\d+\.\d+$/.test(host) || !host.includes('.'))) {
    return { ok: false, error: `a wildcard needs a domain with at least two labels after "*.", got ${JSON.stringify(host)}` };
  }
  const portNum = m[4] === undefined ? null : Number(m[4]);
  if (portNum !== null && (portNum < 1 || portNum > 65535)) return { ok: false, error: `port ${portNum} is out of range` };
  const defaultPort = scheme === 'https:' ? 443 : 80;
  const port = portNum === null || portNum === defaultPort ? '' : String(portNum);
  const text = `${scheme}//${wildcard ? '*.' : ''}${host}${port ? `:${port}` : ''}`;
  return { ok: true, value: { text, scheme, host, wildcard, port } };
}

/** True when the origin (as URL.origin gives it) is allowed by the pattern. */
export function patternMatches(pattern: SitePattern, origin: URL): boolean {
  if (origin.protocol !== pattern.scheme || origin.port !== pattern.port) return false;
  return hostMatches(pattern, origin.hostname);
}

/** True when a host name (any port or scheme) falls under the pattern. */
export function hostMatches(pattern: SitePattern, hostname: string): boolean {
  const host = hostname.toLowerCase();
  return pattern.wildcard ? host.endsWith(`.${pattern.host}`) : host === pattern.host;
}

/** Where the gateway itself is reached: never an upstream. */
export interface GatewayHosts {
  /** The host name of publicUrl: the gateway's pages, and below it every proxied host. */
  hostname: string;
  /** The ports that host name reaches the gateway on: publicUrl's (or its scheme's default) and the one it listens on. */
  ports: readonly number[];
  /** The port the gateway listens on, where loopback names (localhost, *.localhost, 127/8, [::1]) reach it too; null when not known yet. */
  listenPort: number | null;
  /** The machine's non-loopback addresses that reach the gateway on listenPort (addressKey spelling; see listenerAddresses). */
  addresses: ReadonlySet<string>;
}

/** The network interfaces as `os.networkInterfaces()` lists them. */
export type NetworkInterfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

/**
 * The non-loopback addresses (addressKey spelling) at which a listener on `host` is reached: all
 * of the interfaces' for `0.0.0.0` and `::` (both families: an address of the other family reaches
 * this machine anyway), the address itself for any other address, none for `localhost` (loopback
 * is refused by name), and all of the interfaces' for another name (it resolves to one of them).
 */
export function listenerAddresses(host: string, interfaces: NetworkInterfaces): ReadonlySet<string> {
  const own = new Set<string>();
  const bound = addressKey(host);
  if (bound !== null && bound !== '0.0.0.0' && bound !== '0:0:0:0:0:0:0:0') {
    if (!isLoopbackAddress(bound)) own.add(bound);
    return own;
  }
  if (bound === null && isLoopbackName(host.toLowerCase())) return own;
  for (const infos of Object.values(interfaces)) {
    for (const info of infos ?? []) {
      const key = addressKey(info.address);
      if (key !== null && !isLoopbackAddress(key)) own.add(key);
    }
  }
  return own;
}

/** The port a URL or pattern means: the one written, else its scheme's default. */
export function effectivePort(scheme: string, port: string): number {
  if (port !== '') return Number(port);
  return scheme === 'https:' || scheme === 'wss:' ? 443 : 80;
}

/** Names that are this machine whatever DNS says: `localhost`, `*.localhost` (RFC 6761), 127/8, 0.0.0.0, [::1]. */
function isLoopbackName(hostname: string): boolean {
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) return true;
  return isLoopbackAddress(hostname.startsWith('[') ? hostname.slice(1, -1) : hostname);
}

/** True when `hostname` is `base` or a name below it. */
function atOrBelow(hostname: string, base: string): boolean {
  return hostname === base || hostname.endsWith(`.${base}`);
}

/**
 * True when a host on the gateway's listening port is the gateway: a loopback name or address, or
 * one of the machine's own addresses. A URL's host name or a DNS answer; IPv6 with brackets or not.
 */
export function isListenerHost(gateway: GatewayHosts, host: string): boolean {
  if (isLoopbackName(host)) return true;
  if (gateway.addresses.size === 0) return false;
  const key = addressKey(host);
  return key !== null && gateway.addresses.has(key);
}

/** True when `url` reaches the gateway itself (its host or a proxied host on its ports; a loopback name or one of the machine's own addresses on its listening port). */
export function isGatewayUrl(gateway: GatewayHosts, url: URL): boolean {
  const hostname = url.hostname.toLowerCase().replace(/\.$/, '');
  const port = effectivePort(url.protocol, url.port);
  if (gateway.ports.includes(port) && atOrBelow(hostname, gateway.hostname)) return true;
  return port === gateway.listenPort && isListenerHost(gateway, hostname);
}

/** True when some origin the pattern allows reaches the gateway itself (see isGatewayUrl). */
export function patternCoversGateway(pattern: SitePattern, gateway: GatewayHosts): boolean {
  const port = effectivePort(pattern.scheme, pattern.port);
  // `*.example.com` allows the names below example.com; an exact pattern, its one name.
  const reaches = (base: string) => atOrBelow(pattern.host, base) || (pattern.wildcard && base.endsWith(`.${pattern.host}`));
  if (gateway.ports.includes(port) && reaches(gateway.hostname)) return true;
  if (port !== gateway.listenPort) return false;
  return isLoopbackName(pattern.host) || patternNamesOwnAddress(pattern, gateway.addresses, port);
}

/** True when the pattern is one of `addresses` (the machine's own, see listenerAddresses) on `port`: a listener there is the gateway. */
export function patternNamesOwnAddress(pattern: SitePattern, addresses: ReadonlySet<string>, port: number): boolean {
  // A wildcard's names are never addresses (parseSitePattern refuses `*.` before one).
  if (pattern.wildcard || effectivePort(pattern.scheme, pattern.port) !== port) return false;
  const key = addressKey(pattern.host);
  return key !== null && addresses.has(key);
}

/** The set of sites the gateway may proxy. */
export class Allowlist {
  /** `gateway`: where the gateway itself is reached, refused whatever the patterns say. */
  constructor(
    private readonly patterns: readonly SitePattern[],
    private readonly gateway: GatewayHosts | null = null,
  ) {}

  /** True when `url`'s origin is allowed; only http(s) URLs without credentials can be, never the gateway's own. */
  allows(url: URL): boolean {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    if (url.username || url.password) return false;
    if (this.isGateway(url)) return false;
    return this.patterns.some((p) => patternMatches(p, url));
  }

  /** True when `url` reaches the gateway itself. */
  isGateway(url: URL): boolean {
    return this.gateway !== null && isGatewayUrl(this.gateway, url);
  }

  /** What the user is told when `url` is not allowed. */
  refusal(url: URL): string {
    return this.isGateway(url)
      ? `${url.origin} is this cobrowsing gateway itself: it never proxies to itself.`
      : `${url.origin} is not on this gateway's list of allowed sites.`;
  }
}

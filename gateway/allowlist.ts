// Which origins the gateway may proxy: exact origins and `scheme://*.domain[:port]` patterns.

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

/** The set of sites the gateway may proxy. */
export class Allowlist {
  constructor(private readonly patterns: readonly SitePattern[]) {}

  /** True when `url`'s origin is allowed; only http(s) URLs without credentials can be. */
  allows(url: URL): boolean {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    if (url.username || url.password) return false;
    return this.patterns.some((p) => patternMatches(p, url));
  }
}

/** The first configured site whose pattern matches `url`'s origin. */
export function siteFor<T extends { pattern: SitePattern }>(sites: readonly T[], url: URL): T | undefined {
  return sites.find((s) => patternMatches(s.pattern, url));
}

// Which headers cross the gateway, and how URLs in them are mapped. Pure functions only.

import { utf8Bytes, utf8Text } from './byte-text.js';
import { mapSpeculationRulesHeader } from './json-body.js';
import { type MarkedModule, mapLinkHeader } from './link-header.js';
import { refreshUrlSpan } from './rewrite/meta-refresh.js';

/** Hop-by-hop headers (RFC 9110 7.6.1) and others that never cross the proxy. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

/** Request headers the gateway replaces or must not forward. */
const REQUEST_DROP = new Set([
  'host',
  'cookie',
  'origin',
  'referer',
  'sec-fetch-site',
  'accept-encoding',
  'content-length',
  // The client's 100-continue is settled between it and the gateway (uWS answers it); undici
  // refuses to send the header, which failed every upload curl makes (it asks above 1 KB).
  'expect',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-real-ip',
]);

/** Response headers the gateway consumes or must not relay to the browser. */
const RESPONSE_DROP = new Set([
  'set-cookie',
  'set-cookie2',
  'strict-transport-security',
  'alt-svc',
  'public-key-pins',
  'public-key-pins-report-only',
  'expect-ct',
  'content-length',
  // Where the browser itself sends reports (network errors, deprecations, COOP/COEP violations):
  // the real site's endpoints, straight from the browser, naming the proxied host. Not relayed.
  'report-to',
  'reporting-endpoints',
  'nel',
]);

/** Maps a URL seen by the browser back to the real site; null when it is not of this session. */
export type ToRealUrl = (url: URL) => URL | null;
/** Maps a real URL to the URL the browser should see (a proxied host, or the gateway's "not allowed" page). */
export type ToBrowserUrl = (url: URL) => string;

/** The headers a Connection header names (RFC 9110 7.6.1) besides the fixed hop-by-hop ones; null when none (the usual case). */
function connectionNames(connection: string | undefined): Set<string> | null {
  if (!connection) return null;
  let names: Set<string> | null = null;
  for (const token of connection.split(',')) {
    const name = token.trim().toLowerCase();
    if (name && !HOP_BY_HOP.has(name)) (names ??= new Set()).add(name);
  }
  return names;
}

function mapBrowserUrl(value: string, toReal: ToRealUrl): URL | null {
  try {
    return toReal(new URL(value));
  } catch {
    return null;
  }
}

/**
 * Headers for the upstream request: hop-by-hop and gateway-only headers dropped, Host set by the
 * client library from the target, Origin and Referer rebuilt for the real site, cookies from the
 * session's jar only (the browser's Cookie header carries gateway cookies and never goes upstream).
 * The browser's Sec-Fetch-Site is relative to the proxied hosts (all one site): `fetchSite` is the
 * one rebuilt for the real sites (same-site.ts, upstreamFetchSite), none when undefined.
 * Sec-Fetch-Mode, -Dest and -User go as the browser sent them.
 */
export function upstreamRequestHeaders(
  incoming: Readonly<Record<string, string>>,
  toReal: ToRealUrl,
  jarCookie: string,
  fetchSite?: string,
): Record<string, string> {
  const drop = connectionNames(incoming.connection);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (!HOP_BY_HOP.has(name) && !REQUEST_DROP.has(name) && !drop?.has(name)) out[name] = value;
  }
  const origin = incoming.origin;
  if (origin !== undefined) {
    const real = origin === 'null' ? null : mapBrowserUrl(origin, toReal);
    out.origin = real ? real.origin : 'null';
  }
  const referer = incoming.referer;
  if (referer !== undefined) {
    const real = mapBrowserUrl(referer, toReal);
    if (real) out.referer = real.href;
  }
  if (fetchSite !== undefined) out['sec-fetch-site'] = fetchSite;
  if (jarCookie) out.cookie = jarCookie;
  out['accept-encoding'] = upstreamAcceptEncoding(incoming['accept-encoding']);
  return out;
}

/** The content codings the gateway decodes, in the order it asks for them. */
const DECODED_CODINGS = ['gzip', 'deflate', 'br'] as const;
export type DecodedCoding = (typeof DECODED_CODINGS)[number];

/**
 * The codings of DECODED_CODINGS an Accept-Encoding value accepts, its q-values and `*` read as
 * RFC 9110 12.5.3 says. No header at all accepts none here: RFC 9110 lets a server pick any coding
 * then, but such clients (curl, a script's HTTP client) are the ones that cannot decode.
 */
export function acceptedCodings(value: string | undefined): DecodedCoding[] {
  if (value === undefined) return [];
  const q = new Map<string, number>();
  for (const part of value.split(',')) {
    const [rawName = '', ...params] = part.split(';');
    const name = rawName.trim().toLowerCase();
    if (name === '') continue;
    let weight = 1;
    for (const param of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(param);
      if (m) weight = Number(m[1]);
    }
    if (!Number.isFinite(weight)) weight = 0;
    const key = name === 'x-gzip' ? 'gzip' : name;
    q.set(key, Math.max(weight, q.get(key) ?? 0));
  }
  const any = q.get('*');
  return DECODED_CODINGS.filter((coding) => (q.get(coding) ?? any ?? 0) > 0);
}

/**
 * The Accept-Encoding sent to the site: the codings the browser accepts of those the gateway
 * decodes (acceptedCodings), else `identity`. The gateway decodes whatever it rewrites, but a body
 * it passes on (an image, JSON, a download) reaches the client in the coding the site chose, so
 * the site must never be offered one the client did not ask for.
 */
export function upstreamAcceptEncoding(value: string | undefined): string {
  const accepted = acceptedCodings(value);
  return accepted.length > 0 ? accepted.join(', ') : 'identity';
}

/** Raw upstream response headers as undici gives them. */
export type RawHeaders = Record<string, string | string[] | undefined>;

/** Response headers for the browser, and the Set-Cookie values for the session's jar. */
export interface DownstreamHeaders {
  headers: [string, string][];
  setCookies: string[];
  /** Modules a Link header preloads by their integrity-marked URL (link-header.ts). */
  markedModules: MarkedModule[];
}

/** A Refresh header with its URL mapped: the same steps as <meta http-equiv=refresh> (meta-refresh.ts), the rest kept as written. */
function mapRefresh(value: string, base: URL, toBrowser: ToBrowserUrl): string {
  const span = refreshUrlSpan(value);
  if (span === null || span[0] === span[1]) return value;
  let [s, e] = span;
  const url = value.slice(s, e);
  // The quotes around a quoted URL go (the mapped URL needs none).
  const q = value.charCodeAt(s - 1);
  if ((q === 0x22 || q === 0x27) && value.charCodeAt(e) === q) {
    s--;
    e++;
  }
  try {
    return `${value.slice(0, s)}${toBrowser(new URL(url, base))}${value.slice(e)}`;
  } catch {
    return value;
  }
}

/**
 * `map` of a header value as browsers read the URLs in Location, Refresh and Link (utf8Text: a
 * site's `Location: /café` in UTF-8 is /caf%C3%A9, not the %C3%83%C2%A9 its latin1 reading would
 * give), given back as bytes: its URLs are ASCII once mapped, the rest goes as it came.
 */
function mapAsText(value: string, map: (text: string) => string): string {
  const text = utf8Text(value);
  const out = map(text);
  return text === value ? out : utf8Bytes(out);
}

function mapOrigin(value: string, toBrowser: ToBrowserUrl): string {
  try {
    return new URL(toBrowser(new URL(value))).origin;
  } catch {
    return value;
  }
}

/** Whether `value` is an origin as the browser serializes it (`https://a.example`, not `HTTPS://A.example/` nor `https://a.example:443`). */
function isSerializedOrigin(value: string): boolean {
  try {
    return new URL(value).origin === value;
  } catch {
    return false;
  }
}

/** The proxied origin of a session's real origin `value`; null when it is none of the session's (the "not allowed" page). */
function sessionOrigin(value: string, toBrowser: ToBrowserUrl): string | null {
  // A wildcard (`https://*.maps.example`) stands for origins no proxied host can: kept as written.
  if (value.includes('*')) return null;
  try {
    const real = new URL(value);
    if (real.protocol !== 'http:' && real.protocol !== 'https:') return null;
    const mapped = new URL(toBrowser(real));
    return mapped.pathname === '/' && mapped.search === '' ? mapped.origin : null;
  } catch {
    return null;
  }
}

/**
 * A Permissions-Policy (a structured dictionary: origins are its strings) or Feature-Policy (origins
 * are bare words) with the session's origins mapped to their proxied hosts, so that a feature the
 * site grants a frame of another of its origins (`geolocation=(self "https://maps.example")`) is
 * granted to that frame through the gateway. Other origins stay as written (they match no frame
 * here: the feature stays off for them, as for an origin the site did not list).
 */
export function mapPermissionsPolicy(value: string, legacy: boolean, toBrowser: ToBrowserUrl): string {
  if (legacy) return value.replace(/https?:\/\/[^\s;,'"]+/gi, (origin) => sessionOrigin(origin, toBrowser) ?? origin);
  return value.replace(/"([^"\\]*)"/g, (whole, origin: string) => {
    const mapped = sessionOrigin(origin, toBrowser);
    return mapped === null ? whole : `"${mapped}"`;
  });
}

/**
 * Headers for the browser: hop-by-hop, HSTS and Alt-Svc dropped (X-Frame-Options kept: each
 * origin has a proxied host of its own, so it means what it means on the real site), Set-Cookie
 * taken out for the jar, and URLs in Location, Content-Location, Refresh and Link mapped.
 */
export function downstreamResponseHeaders(raw: RawHeaders, requestUrl: URL, toBrowser: ToBrowserUrl): DownstreamHeaders {
  const connection = raw.connection;
  const drop = connectionNames(Array.isArray(connection) ? connection.join(',') : connection);
  const headers: [string, string][] = [];
  const setCookies: string[] = [];
  const markedModules: MarkedModule[] = [];
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    const values = Array.isArray(value) ? value : [value];
    if (lower === 'set-cookie') {
      setCookies.push(...values);
      continue;
    }
    if (HOP_BY_HOP.has(lower) || RESPONSE_DROP.has(lower) || drop?.has(lower)) continue;
    for (const v of values) {
      switch (lower) {
        case 'location':
        case 'content-location':
          try {
            headers.push([lower, mapAsText(v, (text) => toBrowser(new URL(text, requestUrl)))]);
          } catch {
            headers.push([lower, v]);
          }
          break;
        case 'refresh':
          headers.push([lower, mapAsText(v, (text) => mapRefresh(text, requestUrl, toBrowser))]);
          break;
        case 'link': {
          let markedLinks: MarkedModule[] = [];
          headers.push([
            lower,
            mapAsText(v, (text) => {
              const link = mapLinkHeader(text, requestUrl, toBrowser);
              markedLinks = link.markedModules;
              return link.value;
            }),
          ]);
          markedModules.push(...markedLinks);
          break;
        }
        case 'permissions-policy':
        case 'permissions-policy-report-only':
          headers.push([lower, mapPermissionsPolicy(v, false, toBrowser)]);
          break;
        case 'speculation-rules': {
          // A header the browser would ignore (a string that does not end) is not relayed.
          const text = utf8Text(v);
          const rules = mapSpeculationRulesHeader(text, requestUrl, toBrowser);
          if (rules !== null) headers.push([lower, text === v ? rules : utf8Bytes(rules)]);
          break;
        }
        case 'feature-policy':
          headers.push([lower, mapPermissionsPolicy(v, true, toBrowser)]);
          break;
        case 'timing-allow-origin':
          // Origins whose pages may read the answer's timing: the session's are asked from their proxied hosts.
          // The browser compares serialized origins as strings: only a token that is one is mapped.
          headers.push([lower, v.replace(/[^,\s]+/g, (origin) => (isSerializedOrigin(origin) ? (sessionOrigin(origin, toBrowser) ?? origin) : origin))]);
          break;
        case 'access-control-allow-origin':
          // CORS answers name the real origin that asked; the browser asked from its proxied host.
          // Access-Control-Allow-Credentials goes as the site sent it: the browser sends a cookie
          // (the participant's) only where the page asked for credentials, and the gateway adds the
          // session's cookies only to those (proxied-host.ts), so the site's answer means what it
          // means on the real site (`*` never exposes a credentialed answer).
          headers.push([lower, v === '*' || v === 'null' ? v : mapOrigin(v, toBrowser)]);
          break;
        default:
          headers.push([lower, v]);
      }
    }
  }
  return { headers, setCookies, markedModules };
}

/**
 * Headers of a body the gateway changes (rewritten HTML, CSS and scripts): decoded, its own length,
 * a weak validator and no ranges (RFC 9110 8.8.1: the bytes are not the site's, so a range of the
 * site's bytes must never be combined with them; If-None-Match still revalidates).
 */
export function changedBodyHeaders(headers: [string, string][]): [string, string][] {
  const out: [string, string][] = [];
  for (const [name, value] of headers) {
    if (name === 'content-encoding' || name === 'content-md5' || name === 'digest' || name === 'accept-ranges' || name === 'content-range') continue;
    out.push(name === 'etag' && !value.startsWith('W/') ? [name, `W/${value}`] : [name, value]);
  }
  return out;
}

/** The media type of a Content-Type header (its first value), lowercase, without parameters: `text/html` of `text/HTML; charset=utf-8`. */
export function mediaType(contentType: string | string[] | undefined): string {
  const value = Array.isArray(contentType) ? contentType[0] : contentType;
  return String(value ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
}

// SameSite for the session's jar, as Chromium applies it (RFC 6265bis 5.2, 5.6.7, 5.8.3). Every
// proxied host is a subdomain of the gateway's host, so for the browser all the sites of a session
// are one site and its own SameSite logic never separates them (it protects only the participant
// cookie). The jar does it instead, from what the browser says about each request: its initiator
// (Origin, else Referer, mapped back to the real site) and its Fetch Metadata (Sec-Fetch-Site,
// -Mode, -Dest). Pure functions only.
//
// "Same site" is schemeful: the scheme and the registrable domain (tough-cookie's
// getPublicSuffix, i.e. tldts with the special-use names; the host itself for an IP address) of
// the REAL initiator and the REAL target. Ports do not count: 127.0.0.1:1 and 127.0.0.1:2 are one site.
//
// What differs from Chromium, which decides from the frame tree (the "site for cookies") the
// gateway cannot see:
// - A subresource is judged by its initiator, not by the top-level page: the same-origin requests
//   of a document framed by another site count as same-site (Chromium: cross-site).
// - A request with neither an initiator (no Origin, no Referer) nor Fetch Metadata is not placed:
//   it counts as same-site. Browsers send Fetch Metadata to potentially trustworthy origins only
//   (https, *.localhost), so a gateway on plain http to other names gets none of it.
// - What the real relation of a request cannot see (realFetchSite): the hops of a redirect chain
//   before the last, and the page behind a style sheet's Referer; and a subresource that comes
//   back to its initiator's origin through another host counts as cross-site (isSameSiteRequest).

import { getPublicSuffix } from 'tough-cookie';
import type { ToRealUrl } from './header-policy.js';

/**
 * Which cookies a request may carry or its response may set: tough-cookie's `sameSiteContext`
 * ('strict': every cookie; 'lax': all but SameSite=Strict; 'none': SameSite=None only), and
 * 'lax-unsafe', Chromium's context of a cross-site top-level navigation by an unsafe method (a
 * form's POST): as 'none', except that a cookie without SameSite created in the last two minutes
 * goes too (Chromium's "Lax+POST" exception to Lax by default).
 */
export type SameSiteContext = 'strict' | 'lax' | 'lax-unsafe' | 'none';

/** What the browser said about one request, its initiator mapped back to the real site. */
export interface RequestFacts {
  method: string;
  /** The real URL the request goes to. */
  target: URL;
  /**
   * The real URL of the page that made it (from Origin, else Referer); 'foreign' when the browser
   * named an initiator that is not a page of the session (another site, the gateway's own pages,
   * another session) or an opaque one (`Origin: null`); null when it named none.
   */
  initiator: URL | 'foreign' | null;
  /** Sec-Fetch-Site, -Mode and -Dest as the browser sent them (undefined when absent). */
  fetchSite?: string | undefined;
  fetchMode?: string | undefined;
  fetchDest?: string | undefined;
  /** The Accept header: what tells a navigation apart when the browser sent no Fetch Metadata. */
  accept?: string | undefined;
}

/** The contexts of one request. */
export interface CookieContexts {
  /** Which cookies go upstream with the request. */
  request: SameSiteContext;
  /** Which cookies its response may set ('none': SameSite=None only; any other: every cookie). */
  response: SameSiteContext;
  /** What document.cookie shows in a document this response is. */
  script: SameSiteContext;
}

/** `scheme://registrable-domain` of a URL (ws: counts as http:, wss: as https:). */
export function siteOf(url: URL): string {
  const scheme = url.protocol === 'wss:' ? 'https:' : url.protocol === 'ws:' ? 'http:' : url.protocol;
  return `${scheme}//${registrableDomain(url.hostname)}`;
}

/** Registrable domains already looked up (a public-suffix lookup per cross-host request otherwise); bounded. */
const domains = new Map<string, string>();
const MAX_DOMAINS = 4096;

function registrableDomain(hostname: string): string {
  const cached = domains.get(hostname);
  if (cached !== undefined) return cached;
  const host = hostname.toLowerCase().replace(/\.$/, '');
  const domain = getPublicSuffix(host, { allowSpecialUseDomain: true, ignoreError: true }) ?? host;
  if (domains.size >= MAX_DOMAINS) domains.clear();
  domains.set(hostname, domain);
  return domain;
}

/** Whether two URLs are of one site (schemeful). */
export function isSameSite(a: URL, b: URL): boolean {
  return siteOf(a) === siteOf(b);
}

/** Sec-Fetch-Site of a request a page made. */
export type FetchSite = 'same-origin' | 'same-site' | 'cross-site';

/** How a request relates to its target: Sec-Fetch-Site's values ('none': asked for by the user, or by no page at all). */
export type SiteRelation = FetchSite | 'none';

/** Sec-Fetch-Site between two real URLs (schemeful site; the origin, port included, for same-origin). */
export function fetchSiteBetween(initiator: URL, target: URL): FetchSite {
  if (initiator.origin === target.origin) return 'same-origin';
  return isSameSite(initiator, target) ? 'same-site' : 'cross-site';
}

/**
 * The real relation of a request to its real target: the Sec-Fetch-Site the browser would have
 * sent had the pages been loaded directly (Fetch Metadata 2.4: same-origin, else same-site, else
 * cross-site, between the request's initiator and each URL of its redirect chain; `none` for what
 * the user asked for). The Sec-Fetch-Site the real site gets (upstreamFetchSite) and the jar's
 * SameSite contexts (isSameSiteRequest, cookieContexts) both derive from it.
 * The browser's own value, relative to the proxied hosts, is the upper bound: a proxied host is
 * one real origin, so its `same-origin` is exact, and a `same-site` only says the initiator or a
 * hop of the chain was another host of the gateway's site.
 * - `none` (typed, bookmarked, reloaded) and `cross-site` (a page outside the gateway's site, an
 *   opaque initiator, a chain through another site) stay as they are; `same-origin` too, even when
 *   the Referer names another origin (a style sheet's images have its URL for Referer, but are
 *   the document's requests) or the Origin is `null` (a POST under Referrer-Policy: no-referrer).
 * - `same-site`: the real initiator (Origin, else Referer) against the real target. Without one
 *   (Referrer-Policy: no-referrer, rel=noreferrer, or a hop through the gateway's ticket redirect,
 *   which hides the Referer) or with one that is no page of the session, the real relation is
 *   unknown: cross-site, the answer that never lets a request through that the site would refuse.
 *   An initiator of the target's own origin means the chain went through another host (a
 *   redirect, or the Referer is a style sheet of another origin): which site it was is unknown,
 *   so cross-site too.
 * - A value of a later Fetch Metadata (or not a browser's): nothing to rebuild it from, cross-site.
 * - No Fetch Metadata at all (browsers send it to potentially trustworthy origins only, so a
 *   gateway on plain http to other names gets none): the initiator alone decides; `none` without
 *   one (not a page's request: a tool, the participant's own client), cross-site when it is foreign.
 * What the gateway cannot reproduce: it sees each hop of a redirect chain as a request of its
 * own, and a hop's Referer and Origin name the initiator, not the hops before it. So a chain
 * from www.b.example through another site to shop.b.example is same-site (Chromium: cross-site).
 * And the Referer of a style sheet's request is the style sheet: an image of B in a style sheet
 * of B's site (another origin than the image's) on A's page is same-site (Chromium: cross-site),
 * and an image of shop.b.example in a style sheet of A on a page of www.b.example is cross-site
 * (Chromium: same-site).
 */
export function realFetchSite(f: RequestFacts): SiteRelation {
  const browser = f.fetchSite;
  if (browser === undefined) {
    if (f.initiator === null) return 'none';
    return f.initiator === 'foreign' ? 'cross-site' : fetchSiteBetween(f.initiator, f.target);
  }
  if (browser === 'none' || browser === 'same-origin' || browser === 'cross-site') return browser;
  if (browser !== 'same-site') return 'cross-site';
  if (f.initiator === null || f.initiator === 'foreign') return 'cross-site';
  const real = fetchSiteBetween(f.initiator, f.target);
  return real === 'same-origin' ? 'cross-site' : real;
}

/**
 * The Sec-Fetch-Site the real site gets: the real relation (realFetchSite); undefined when the
 * browser sent none (a gateway on plain http to other names): none is invented. Chromium sends no
 * Fetch Metadata with a WebSocket handshake: the site WebSocket relay has none to rebuild.
 */
export function upstreamFetchSite(f: RequestFacts): SiteRelation | undefined {
  return f.fetchSite === undefined ? undefined : realFetchSite(f);
}

/**
 * Whether the request goes with the cookies of a same-site request (Chromium's SameSite context
 * "same-site strict"): its real relation (realFetchSite) is not cross-site, or it is a navigation
 * back to its initiator's own origin through another host.
 * That exception is where Chromium's cookies and its Fetch Metadata differ: Chromium decides the
 * SameSite context from the initiator and the site for cookies, not from the redirect chain (its
 * check of the chain, the CookieSameSiteConsidersRedirectChain feature, is not on by default), so
 * a page of B whose link goes through a redirect by A back to B sends B's Strict cookies with
 * `Sec-Fetch-Site: cross-site` (measured: test/e2e/same-site-cookies.test.ts, fetch-metadata.test.ts). A navigation's Referer is the document that
 * started it, so a navigation the browser calls same-site with an initiator of the target's own
 * origin is such a chain. A subresource is not told apart from an image of a style sheet of the
 * target's origin on another host's page (its Referer is the style sheet; Chromium: the page's
 * relation, cross-site from another site), so it stays cross-site: an image of B's page that
 * comes back to B through a redirect by another host gets SameSite=None cookies only (Chromium:
 * all of them).
 */
export function isSameSiteRequest(f: RequestFacts): boolean {
  if (realFetchSite(f) !== 'cross-site') return true;
  return f.fetchSite === 'same-site' && f.fetchMode === 'navigate' && f.initiator instanceof URL && f.initiator.origin === f.target.origin;
}

/** A top-level navigation (a window's document, not a frame's); without Fetch Metadata, a request that asks for HTML (a frame's too). */
export function isTopLevelNavigation(f: RequestFacts): boolean {
  if (f.fetchMode !== undefined || f.fetchDest !== undefined) return f.fetchMode === 'navigate' && f.fetchDest === 'document';
  return (f.accept ?? '').includes('text/html');
}

/**
 * The SameSite contexts of a request (RFC 6265bis, Chromium), same-site or not by isSameSiteRequest:
 * - request: same-site 'strict'; a cross-site top-level navigation by GET or HEAD 'lax'
 *   (Strict cookies stay behind), by another method (a form's POST) 'lax-unsafe'; anything else
 *   cross-site (fetch, images, frames) 'none'.
 * - response: a same-site request or any top-level navigation (a cross-site POST too: an SSO
 *   callback sets its Lax session cookie) may set every cookie; other cross-site responses only SameSite=None.
 * - script: a top-level document sees its own site's cookies ('strict', whoever navigated to it);
 *   a document in a frame of another site sees SameSite=None cookies only, as in Chromium.
 * Cookies without a SameSite attribute are Lax (Chromium's default): see cookie-jar.ts.
 */
export function cookieContexts(f: RequestFacts): CookieContexts {
  const same = isSameSiteRequest(f);
  const top = isTopLevelNavigation(f);
  const safe = f.method === 'GET' || f.method === 'HEAD';
  return {
    request: same ? 'strict' : top ? (safe ? 'lax' : 'lax-unsafe') : 'none',
    response: same ? 'strict' : top ? 'lax' : 'none',
    script: same || top ? 'strict' : 'none',
  };
}

function mapped(value: string, toReal: ToRealUrl): URL | 'foreign' {
  try {
    return toReal(new URL(value)) ?? 'foreign';
  } catch {
    return 'foreign';
  }
}

/** The facts of a proxied request from the browser's headers (lowercase names), its Origin or Referer mapped with `toReal`. */
export function requestFacts(headers: Readonly<Record<string, string>>, method: string, target: URL, toReal: ToRealUrl): RequestFacts {
  const origin = headers.origin;
  const referer = headers.referer;
  // Origin first (a POST always has one); `null` is an opaque or privacy-hidden initiator, which
  // Chromium counts as cross-site too.
  const initiator = origin !== undefined && origin !== '' ? (origin === 'null' ? 'foreign' : mapped(origin, toReal)) : referer ? mapped(referer, toReal) : null;
  return {
    method: method.toUpperCase(),
    target,
    initiator,
    fetchSite: headers['sec-fetch-site'],
    fetchMode: headers['sec-fetch-mode'],
    fetchDest: headers['sec-fetch-dest'],
    accept: headers.accept,
  };
}

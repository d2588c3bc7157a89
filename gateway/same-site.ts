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
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  return `${scheme}//${getPublicSuffix(host, { allowSpecialUseDomain: true, ignoreError: true }) ?? host}`;
}

/** Whether two URLs are of one site (schemeful). */
export function isSameSite(a: URL, b: URL): boolean {
  return siteOf(a) === siteOf(b);
}

/** Whether the request was made by a page of the target's own site (or by the user: typed, bookmarked, reloaded). */
export function isSameSiteRequest(f: RequestFacts): boolean {
  // The browser itself (address bar, bookmark, reload): no initiator, as when the user types the URL.
  if (f.fetchSite === 'none') return true;
  // A page outside the gateway's site (the session's pages are all same-site to the browser), or a redirect through one.
  if (f.fetchSite === 'cross-site') return false;
  if (f.initiator === 'foreign') return false;
  if (f.initiator) return isSameSite(f.initiator, f.target);
  // No Origin nor Referer (Referrer-Policy: no-referrer): the target's own host (same-origin) is
  // its own site; another host of the gateway's site could be any of the session's sites.
  if (f.fetchSite === 'same-site') return false;
  return true;
}

/** A top-level navigation (a window's document, not a frame's); without Fetch Metadata, a request that asks for HTML (a frame's too). */
export function isTopLevelNavigation(f: RequestFacts): boolean {
  if (f.fetchMode !== undefined || f.fetchDest !== undefined) return f.fetchMode === 'navigate' && f.fetchDest === 'document';
  return (f.accept ?? '').includes('text/html');
}

/**
 * The SameSite contexts of a request (RFC 6265bis, Chromium):
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

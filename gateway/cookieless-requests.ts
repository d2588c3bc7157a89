// What a request that reached a proxied host without the participant cookie is, by its headers
// (Fetch Metadata, Origin): one that may go through the gateway host for a ticket, or one the
// browser sends without credentials on purpose, which goes upstream without the session's jar
// (proxied-host.ts). Pure functions of the request's headers.

import type { Exchange } from './http-bridge.js';

/**
 * Requests without the participant cookie that may be sent through the gateway host for a ticket:
 * navigations (pages, frames) and no-cors subresources (images, styles, scripts) from a page of the
 * same site. The gateway host knows the browser by its own cookie; CORS requests cannot follow.
 */
export function canBounce(headers: Record<string, string>): boolean {
  const mode = headers['sec-fetch-mode'];
  if (mode === undefined) return isDocumentNavigation(headers);
  const site = headers['sec-fetch-site'];
  return mode === 'navigate' || (mode === 'no-cors' && (site === 'same-site' || site === 'same-origin'));
}

export function isDocumentNavigation(headers: Record<string, string>): boolean {
  const dest = headers['sec-fetch-dest'];
  if (dest !== undefined) return dest === 'document';
  return (headers.accept ?? '').includes('text/html');
}

/** A CORS request (the browser sent no cookie: the page did not ask for credentials). */
export function isCorsRequest(request: Exchange['request']): boolean {
  return request.headers['sec-fetch-mode'] === 'cors';
}

/**
 * A request that is no navigation, of a document whose origin is opaque or of a CORS request
 * redirected across origins: `Origin: null` (no-cors ones of such a document carry it too).
 */
export function fromOpaqueDocument(request: Exchange['request']): boolean {
  const { headers } = request;
  if (headers.origin !== 'null') return false;
  const mode = headers['sec-fetch-mode'];
  return mode === undefined ? !isDocumentNavigation(headers) : mode !== 'navigate';
}

/**
 * A fetch of a page to its own host that omits credentials (`credentials: 'omit'`): CORS or
 * same-origin mode, same-origin by Fetch Metadata, no Origin (a GET or HEAD) or the host's own
 * (`own`).
 */
export function ownOmittingCredentials(request: Exchange['request'], own: string): boolean {
  const { headers } = request;
  const mode = headers['sec-fetch-mode'];
  if ((mode !== 'cors' && mode !== 'same-origin') || headers['sec-fetch-site'] !== 'same-origin') return false;
  return headers.origin === undefined || headers.origin === own;
}

// Documents of a proxied host the gateway does not inject into (text, images, JSON, XML, SVG, PDF,
// HTML it cannot decode). Without the runtime their realm has the browser's own cookie accessors,
// and a same-origin page that reaches their window could set real cookies on the gateway's parent
// domain (a cookie planted in every session of that browser, or a cookie bomb). They get an opaque
// origin, or for PDFs an agent cluster of their own. The browser's HTTP cache keeps one stored
// response per URL and gives it to any destination, so the policy goes on every response of such
// a URL, whatever its destination, and a 304 changes none of what is stored. Measured in Chromium
// 156; see ARCHITECTURE.md (cookie shim) and test/e2e/uninjected-documents.test.ts.

import { mediaType, type RawHeaders } from './header-policy.js';
import type { Exchange } from './http-bridge.js';
import { isAttachment } from './response-kind.js';

/** The opaque origin of such a document: document.cookie throws, other pages cannot reach in; its own scripts (SVG, the XML viewer) still run. */
export const DOCUMENT_SANDBOX = 'sandbox allow-scripts allow-forms allow-popups allow-popups-to-escape-sandbox allow-modals allow-downloads';

/**
 * Chromium's PDF viewer ignores DOCUMENT_SANDBOX (its document keeps the host's origin). This puts
 * the document into an agent cluster of its own: its opener, its parent and every other page of
 * the origin get a SecurityError as from another origin, and the viewer still renders.
 */
export const PDF_ISOLATION = 'isolate-and-credentialless';

/**
 * On the gateway's own answers on a proxied host (error pages, `/__cobrowse/` endpoints, its
 * scripts): none has the runtime, and a page of the site can navigate a frame or popup it holds
 * to any of them. Inert where a worker imports the worker runtime (importScripts, a module's import).
 */
export const GATEWAY_ANSWER_SANDBOX: readonly [string, string][] = [['content-security-policy', DOCUMENT_SANDBOX]];

/**
 * The follower's view page runs the gateway's script in the host's origin without the cookie shim
 * (and needs that origin: its socket goes with the participant cookie), so no page may hold its
 * window: it cannot be framed, and it leaves its opener's browsing context group.
 */
export const UNREACHABLE_PAGE: readonly [string, string][] = [
  ['content-security-policy', "frame-ancestors 'none'"],
  ['x-frame-options', 'DENY'],
  ['cross-origin-opener-policy', 'same-origin'],
];

/** Destinations whose response's CSP binds a worker (with the sandbox its origin is opaque and its requests lose their cookies). */
const WORKER_DESTS = new Set(['worker', 'sharedworker', 'serviceworker']);

/**
 * Types no browser runs as a script, a worker's included (Chromium refuses image, audio, video and
 * text/csv for every script load, measured in Chromium 156; a text/plain, JSON, XML or PDF
 * response still runs as a classic worker). Without Fetch Metadata they get the sandbox anyway.
 */
function neverScript(type: string): boolean {
  return type.startsWith('image/') || type.startsWith('audio/') || type.startsWith('video/') || type === 'text/csv';
}

/** Content types Chromium's PDF viewer renders: its own two, and those it sniffs (a PDF's bytes make one). */
const PDF_VIEWER_TYPES = new Set(['application/pdf', 'text/pdf', '', '*/*', 'unknown/unknown', 'application/unknown']);

/** Policies that stay with the body they were sent with. */
const STORED_POLICIES = new Set(['content-security-policy', 'content-security-policy-report-only', 'document-isolation-policy']);

/**
 * Sets the policies of a response from what it is, not where it goes: `injected` is HTML with the
 * runtime (for every destination). Everything else, downloads (Content-Disposition: attachment)
 * apart, gets the sandbox (inert on images, scripts, styles and fetches), PDFs the isolation too,
 * and `Vary: Sec-Fetch-Dest`, so that a stored response of another destination is validated
 * first. A worker's script gets neither policy and no validators: revalidated for a document, its
 * 304 would hand the document the worker's headers. A 304 carries no policies at all (not even
 * the containment policy, `exchange.extraHeaders`): the browser replaces the stored headers of
 * each name a 304 has, and keeps those it was given with the body. Without Fetch Metadata, every
 * answer to a browsing context's load has its validators marked (withoutFetchMetadata).
 */
export function applyDocumentPolicies(exchange: Exchange, headers: [string, string][], raw: RawHeaders, status: number, injected: boolean): void {
  const { headers: request } = exchange.request;
  const dest = request['sec-fetch-dest'];
  if (status === 304) weakAsStored(headers, request['if-none-match']);
  if (dest === undefined) markedOnlyForNavigations(headers, navigational(request));
  if (status === 304) {
    keepStoredPolicies(exchange, headers);
    return;
  }
  if (injected || isAttachment(raw)) return;
  if (dest === undefined) {
    withoutFetchMetadata(headers, raw, navigational(request));
    return;
  }
  headers.push(['vary', 'Sec-Fetch-Dest']);
  if (WORKER_DESTS.has(dest)) {
    removeAll(headers, (name) => name === 'etag' || name === 'last-modified');
    return;
  }
  sandboxDocument(headers, mediaType(raw['content-type']));
}

/** The sandbox, and for the PDF viewer's types the isolation too (whose one value replaces the site's). */
function sandboxDocument(headers: [string, string][], type: string): void {
  headers.push(['content-security-policy', DOCUMENT_SANDBOX]);
  if (PDF_VIEWER_TYPES.has(type)) {
    // One value only: two would not parse, and the document would be isolated by neither.
    removeAll(headers, (name) => name === 'document-isolation-policy');
    headers.push(['document-isolation-policy', PDF_ISOLATION]);
  }
}

/**
 * Without Fetch Metadata (a plain-http gateway on a name other than localhost) the request's Accept
 * tells a load into a browsing context (a page, frame, popup, object or embed: Chromium asks for
 * text/html first) from the rest (workers, fetch, XHR: `*\/*`; images ask for image types).
 * Measured in Chromium 156. A page's fetch may ask for text/html too: it then gets a sandboxed
 * answer, inert on a fetch.
 */
function navigational(request: Readonly<Record<string, string>>): boolean {
  return /\btext\/html\b/i.test(request.accept ?? '');
}

/**
 * The policies of an uninjected response without Fetch Metadata: a browsing context's gets the
 * sandbox (and the PDF isolation) and marked validators (markedOnlyForNavigations); any other gets
 * the sandbox only for a type no browser runs as a script (so that a worker's script keeps its
 * origin). All vary on Accept, so that the browser's cache hands neither kind to the other without
 * asking the gateway again, and upstreamConditions lets a condition through only to the kind of
 * load whose stored response it came from: a 304 never gives a document another load's stored
 * headers, nor a worker a document's.
 */
function withoutFetchMetadata(headers: [string, string][], raw: RawHeaders, context: boolean): void {
  headers.push(['vary', 'Accept']);
  const type = mediaType(raw['content-type']);
  if (!context) {
    if (neverScript(type)) headers.push(['content-security-policy', DOCUMENT_SANDBOX]);
    return;
  }
  sandboxDocument(headers, type);
}

/**
 * Put at the start of the opaque part of the entity tags the gateway gives to a browsing context's
 * load without Fetch Metadata: a condition holding such a tag came from such a load's stored
 * response, whatever load the browser sends it with (Chromium revalidates a stored response of
 * another Accept with that response's validators).
 */
const NAVIGATION_TAG = 'cb-nav:';

interface EntityTag {
  weak: boolean;
  opaque: string;
}

/** The entity tags of a validator or condition (`W/"a", "b"`), or null when it is anything else (`*`, a date, a malformed value). */
export function entityTags(value: string): EntityTag[] | null {
  const tags: EntityTag[] = [];
  let i = 0;
  const n = value.length;
  for (;;) {
    while (i < n && (value[i] === ' ' || value[i] === '\t' || value[i] === ',')) i++;
    if (i >= n) return tags.length > 0 ? tags : null;
    const weak = value.startsWith('W/', i);
    if (weak) i += 2;
    if (value[i] !== '"') return null;
    const close = value.indexOf('"', i + 1);
    if (close < 0) return null;
    tags.push({ weak, opaque: value.slice(i + 1, close) });
    i = close + 1;
    if (i < n && value[i] !== ',' && value[i] !== ' ' && value[i] !== '\t') return null;
  }
}

function formatTags(tags: readonly EntityTag[]): string {
  return tags.map((t) => `${t.weak ? 'W/' : ''}"${t.opaque}"`).join(', ');
}

const marked = (tag: EntityTag): boolean => tag.opaque.startsWith(NAVIGATION_TAG);
const unmarked = (tag: EntityTag): EntityTag => (marked(tag) ? { weak: tag.weak, opaque: tag.opaque.slice(NAVIGATION_TAG.length) } : tag);

/**
 * The validators of an answer (200 or 304, injected or not) without Fetch Metadata. A browsing
 * context's: its entity tag marked (NAVIGATION_TAG; one that does not parse is dropped), no
 * Last-Modified (a date cannot be marked), so that its revalidation can be told from another
 * load's and still be answered by the site's 304. Any other load's: a tag the site sent marked is
 * dropped, so that no stored response of such a load holds a tag that would pass for a browsing
 * context's (a site could otherwise have its unsandboxed text shown in a frame, from the cache).
 */
function markedOnlyForNavigations(headers: [string, string][], context: boolean): void {
  for (let i = headers.length - 1; i >= 0; i--) {
    const [name, value] = headers[i]!;
    if (name === 'last-modified' && context) headers.splice(i, 1);
    else if (name === 'etag') {
      const tags = entityTags(value);
      const tag = tags?.length === 1 ? tags[0]! : null;
      if (tag === null ? context : marked(tag)) headers.splice(i, 1);
      else if (tag !== null && context) headers[i] = ['etag', formatTags([{ weak: tag.weak, opaque: NAVIGATION_TAG + tag.opaque }])];
    }
  }
}

/**
 * A 304's entity tag, weak where the browser's condition holds it weak: a body the gateway changes
 * is sent with the site's tag made weak (changedBodyHeaders), and the browser takes the 304's
 * validator into what it stored, so the site's strong tag must not come back on it (a range of
 * the site's bytes would then be combined with the changed body, RFC 9110 8.8.1). The site's 304
 * carries no Content-Type to tell a changed body by; the condition it answers tells.
 */
function weakAsStored(headers: [string, string][], condition: string | undefined): void {
  const held = condition === undefined ? null : entityTags(condition);
  if (held === null) return;
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i]!;
    if (name !== 'etag') continue;
    const tags = entityTags(value);
    if (tags?.length !== 1 || tags[0]!.weak) continue;
    const { opaque } = tags[0]!;
    if (held.some((tag) => tag.weak && unmarked(tag).opaque === opaque)) headers[i] = ['etag', `W/${value.trim()}`];
  }
}

/**
 * The conditions a request sends upstream. A worker's script request goes without them: the
 * browser holds validators only for a stored response of another destination (a worker's carries
 * none), and the 304 would make the worker run that response, with its sandbox. Without Fetch
 * Metadata, a browsing context's request keeps only the entity tags the gateway marked (given to
 * such a load, markedOnlyForNavigations), unmarked, and no date; any other load drops the marked
 * ones: a 304 then only ever updates a stored response of the same kind of load. If-Match and
 * If-Range go with their tags unmarked.
 */
export function upstreamConditions(request: Readonly<Record<string, string>>, upstream: Record<string, string>): void {
  const dest = request['sec-fetch-dest'];
  if (dest !== undefined) {
    if (!WORKER_DESTS.has(dest)) return;
    delete upstream['if-none-match'];
    delete upstream['if-modified-since'];
    return;
  }
  const context = navigational(request);
  if (context) delete upstream['if-modified-since'];
  const noneMatch = upstream['if-none-match'];
  if (noneMatch !== undefined) {
    const tags = entityTags(noneMatch);
    const kept = tags === null ? null : tags.filter((tag) => marked(tag) === context).map(unmarked);
    if (kept === null ? context : kept.length === 0) delete upstream['if-none-match'];
    else if (kept !== null) upstream['if-none-match'] = formatTags(kept);
  }
  for (const name of ['if-match', 'if-range']) {
    const value = upstream[name];
    const tags = value === undefined ? null : entityTags(value);
    if (tags?.some(marked)) upstream[name] = formatTags(tags.map(unmarked));
  }
}

function keepStoredPolicies(exchange: Exchange, headers: [string, string][]): void {
  removeAll(headers, (name) => STORED_POLICIES.has(name));
  exchange.extraHeaders = exchange.extraHeaders.filter(([name]) => !STORED_POLICIES.has(name));
  // A 304's Vary replaces the stored one: it keeps the destination in it (the Accept without Fetch Metadata).
  if (headers.some(([name]) => name === 'vary')) headers.push(['vary', exchange.request.headers['sec-fetch-dest'] === undefined ? 'Accept' : 'Sec-Fetch-Dest']);
}

function removeAll(headers: [string, string][], match: (name: string) => boolean): void {
  for (let i = headers.length - 1; i >= 0; i--) if (match(headers[i]![0])) headers.splice(i, 1);
}

// What kind of body a site's answer is for the gateway: which bodies it rewrites (HTML, CSS, the
// scripts of workers and other JavaScript the browser runs), which it passes on as they are (a
// range, a download, anything else), and the type of a document the site sent without one, read
// as the browser reads it (sniff.ts).

import { mediaType, type RawHeaders } from './header-policy.js';
import type { Exchange } from './http-bridge.js';
import { SPECULATION_RULES_TYPE } from './json-body.js';
import type { ContentKind } from './metrics.js';
import { isJavaScriptType, scriptRequestKind } from './script-body.js';
import { htmlVerdict, SNIFF_BYTES, sniffsType } from './sniff.js';
import type { UpstreamResponse } from './upstream.js';
import { isWorkerScript } from './worker-prelude.js';

/**
 * The site's response headers, with `text/html` as the type of a document the site sent without
 * one (or with one that says it does not know) when the browser would sniff it as HTML (sniff.ts):
 * it is then rewritten and injected like any page, and says what it is.
 */
export async function sniffedHeaders(upstream: UpstreamResponse): Promise<RawHeaders> {
  const raw = upstream.headers;
  // As many bytes as have come, then each time more come, until the verdict is in.
  let want = 1;
  for (;;) {
    const head = await upstream.body.peek(want, SNIFF_BYTES);
    const verdict = htmlVerdict(head, upstream.body.complete || head.length >= SNIFF_BYTES);
    if (verdict === false) return raw;
    if (verdict === true) {
      // The site's parameters (a charset) stay with the type.
      const given = String(raw['content-type'] ?? '');
      const params = given.includes(';') ? given.slice(given.indexOf(';')) : '';
      return { ...raw, 'content-type': `text/html${params}` };
    }
    want = Math.min(SNIFF_BYTES, head.length + 1);
  }
}

/** An answer the site marks as a file to save (Content-Disposition: attachment). */
export function isAttachment(headers: RawHeaders): boolean {
  const disposition = headers['content-disposition'];
  return /^\s*attachment\b/i.test(String(Array.isArray(disposition) ? disposition[0] : (disposition ?? '')));
}

/** A navigation's answer that the browser saves instead of rendering. */
function isDownload(headers: RawHeaders, request: Exchange['request']): boolean {
  return isAttachment(headers) && rendersAsDocument(request.headers);
}

/** Whether the browser sniffs this answer's type (a document with no type, or one that says it does not know). */
export function sniffs(upstream: UpstreamResponse, request: Exchange['request']): boolean {
  const raw = upstream.headers;
  const status = upstream.statusCode;
  // Redirects are not rendered; 204 and 304 have no body.
  if (request.method === 'HEAD' || status < 200 || (status >= 300 && status < 400) || status === 204 || isDownload(raw, request)) return false;
  const noSniff = String(raw['x-content-type-options'] ?? '')
    .toLowerCase()
    .includes('nosniff');
  return sniffsType(raw['content-type'], noSniff) && rendersAsDocument(request.headers);
}

/** A request whose answer the browser renders as a document (a page, a frame, an object), so sniffs. */
function rendersAsDocument(headers: Record<string, string>): boolean {
  const dest = headers['sec-fetch-dest'];
  if (dest !== undefined) return dest === 'document' || dest === 'iframe' || dest === 'frame' || dest === 'object' || dest === 'embed';
  return (headers.accept ?? '').includes('text/html');
}

/**
 * Which bodies the gateway rewrites: HTML (URLs in markup, the sync script), CSS (url(), @import),
 * the scripts of workers (the worker URL runtime in front, imports mapped), other JavaScript the
 * browser runs (imports mapped), speculation rule sets and web app manifests (their URLs, json-body.ts).
 */
export function contentKind(headers: RawHeaders, request: Exchange['request'], status: number): ContentKind {
  // A range of the site's bytes is passed on as it is: it cannot be rewritten alone, and the
  // rewritten documents carry no Accept-Ranges and a weak ETag, so a browser never combines it with them.
  if (status === 206) return 'other';
  // A document the browser downloads (it never renders it): saved as the site sent it, not with the
  // gateway's script and mapped URLs in it. A subresource so marked is still used (a stylesheet
  // applies whatever its disposition), so it is rewritten as usual.
  if (isDownload(headers, request)) return 'other';
  // Whatever its type (the browser reads a manifest of any type as JSON: `text/html` is PHP's default).
  if (status >= 200 && status < 300 && request.headers['sec-fetch-dest'] === 'manifest') return 'manifest';
  const type = String(headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('text/html') || type.startsWith('application/xhtml+xml')) return 'html';
  if (type.startsWith('text/css')) return 'css';
  if (status === 200 && isWorkerScript(request.headers)) return 'worker';
  if (status === 200 && isJavaScriptType(type) && scriptRequestKind(request.headers) !== null) return 'script';
  if (status >= 200 && status < 300 && mediaType(type) === SPECULATION_RULES_TYPE) return 'rules';
  return 'other';
}

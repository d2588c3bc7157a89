// HTML documents from data: and blob: URLs in frames (iframe and frame src, object data, embed
// src) and windows. No gateway ever serves them, so their absolute URLs and their scripts' requests
// would go to the real sites. Their markup is mapped as markup written by script is, and the
// runtime's script goes first. A data: document (opaque origin) names the page's proxied host for
// the runtime's endpoints and goes back into a data: URL: it keeps its opaque origin and its data:
// location, as on the real site. A blob: document of this page (same origin) goes into a new blob.

import { decodeDataUrl, decodeHtml, isHtmlDataUrl, isMappedDataDocument, mappedDataUrl } from '../protocol/data-url.js';
import { insertRuntimeTag, type RuntimeTagSettings } from './child-windows.js';
import { mapDocumentTree, parseDocument, serializeDocument } from './markup-mapping.js';

function toBase64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** The bytes of a blob: URL of this page and its type, read synchronously; null when it is not one or cannot be read. */
function readBlob(url: string, NativeXHR: typeof XMLHttpRequest): { type: string; bytes: Uint8Array } | null {
  if (!url.toLowerCase().startsWith(`blob:${location.origin.toLowerCase()}/`)) return null;
  try {
    const xhr = new NativeXHR();
    xhr.open('GET', url, false);
    // Bytes as they are (each one a char below U+0100): the charset is the document's to decide.
    xhr.overrideMimeType('text/plain; charset=x-user-defined');
    xhr.send();
    if (xhr.status !== 200) return null;
    const text = xhr.responseText;
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
    return { type: xhr.getResponseHeader('content-type') ?? '', bytes };
  } catch {
    return null;
  }
}

/**
 * A blob: URL of this page whose body is HTML, as a new blob: URL of the same document with the
 * runtime first and its markup mapped (`mapMarkup`, as srcdoc is); `url` itself otherwise. Made
 * once per URL (`blobDocuments` holds what was made, by URL).
 */
export function mapBlobDocument(
  url: string,
  NativeXHR: typeof XMLHttpRequest,
  mapMarkup: (html: string) => string,
  blobDocuments: Map<string, string>,
): string {
  const known = blobDocuments.get(url);
  if (known !== undefined) return known;
  const body = readBlob(url.replace(/#.*$/s, ''), NativeXHR);
  let mapped = url;
  if (body && /^\s*text\/html\s*(;|$)/i.test(body.type)) {
    const html = mapMarkup(decodeHtml(body));
    mapped = URL.createObjectURL(new Blob([html], { type: 'text/html;charset=utf-8' })) + (/#.*$/s.exec(url)?.[0] ?? '');
    blobDocuments.set(mapped, mapped);
  }
  blobDocuments.set(url, mapped);
  return mapped;
}

/**
 * The data: URL of `url`'s document with its markup mapped and the runtime's script first (the
 * document inherits the page's CSP: the script carries the page's nonce); `url` itself when it is
 * not an HTML data: URL or was mapped already. The body is written back as UTF-8 (saying so).
 */
export function mapDataDocument(
  url: string,
  /** Read after the markup is mapped: the origins met in it are known then. */
  settingsNow: () => RuntimeTagSettings,
): string {
  if (!isHtmlDataUrl(url)) return url;
  const body = decodeDataUrl(url.replace(/^[\0- ]+/, ''));
  if (!body || isMappedDataDocument(body.type)) return url;
  const doc = parseDocument(decodeHtml(body));
  mapDocumentTree(doc);
  // An opaque origin: the runtime's endpoints are on the page's host.
  insertRuntimeTag(doc, { ...settingsNow(), realOrigin: 'null' });
  return mappedDataUrl(toBase64(serializeDocument(doc)), url);
}

// HTML documents from data: and blob: URLs in frames (iframe and frame src, object data, embed
// src) and windows. No gateway ever serves them, so their absolute URLs and their scripts' requests
// would go to the real sites. Their markup is mapped as markup written by script is, and the
// runtime's script goes first. A data: document (opaque origin) names the page's proxied host for
// the runtime's endpoints and goes back into a data: URL: it keeps its opaque origin and its data:
// location, as on the real site. A blob: document of this page (same origin) goes into a new blob.

import { insertRuntimeTag, type RuntimeTagSettings } from './child-windows.js';
import { decodeDataUrl } from './data-url.js';
import { mapDocumentTree, parseDocument, serializeDocument } from './markup-mapping.js';

/** The media type parameter that marks a data: document as mapped already. */
const MAPPED = 'cobrowse=1';

/** True for a data: URL whose body is an HTML document. */
export function isHtmlDataUrl(url: string): boolean {
  return /^[\0- ]*data:[\t\n\f\r ]*text\/html[\t\n\f\r ]*(?:[;,])/i.test(url);
}

/** The charset label of an HTML body: from the media type, a byte order mark, a <meta> in its first 1024 bytes, else windows-1252. */
function charsetOf(type: string, bytes: Uint8Array): string {
  const declared = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(type)?.[1];
  if (declared) return declared;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if ((bytes[0] === 0xfe && bytes[1] === 0xff) || (bytes[0] === 0xff && bytes[1] === 0xfe)) return bytes[0] === 0xfe ? 'utf-16be' : 'utf-16le';
  let head = '';
  for (const b of bytes.subarray(0, 1024)) head += String.fromCharCode(b);
  return /<meta[^>]*?charset\s*=\s*["']?\s*([\w.:-]+)/i.exec(head)?.[1] ?? 'windows-1252';
}

function decode(bytes: Uint8Array, label: string): string {
  try {
    return new TextDecoder(label).decode(bytes);
  } catch {
    return new TextDecoder('windows-1252').decode(bytes);
  }
}

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
    const html = mapMarkup(decode(body.bytes, charsetOf(body.type, body.bytes)));
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
  const params = body?.type.toLowerCase().split(';') ?? [];
  if (!body || params.some((p) => p.trim() === MAPPED)) return url;
  const doc = parseDocument(decode(body.bytes, charsetOf(body.type, body.bytes)));
  mapDocumentTree(doc);
  // An opaque origin: the runtime's endpoints are on the page's host.
  insertRuntimeTag(doc, { ...settingsNow(), realOrigin: 'null' });
  const hash = /#.*$/s.exec(url)?.[0] ?? '';
  return `data:text/html;charset=utf-8;${MAPPED};base64,${toBase64(serializeDocument(doc))}${hash}`;
}

// The body of a data: URL, read synchronously (RFC 2397 as the Fetch standard reads it): for the
// worker scripts the runtime must start from a blob: instead, and for HTML documents of frames,
// which the gateway's rewriter (pages) and the runtime (URLs the page's script sets) rewrite.

/** The media type and bytes of a data: URL, or null when it is not one. */
export function decodeDataUrl(input: string): { type: string; bytes: Uint8Array } | null {
  // The URL parser drops tabs and newlines anywhere in a URL.
  // The fragment goes first: a comma after a `#` does not count (`data:text/html#x,y` has none).
  const url = input.replace(/[\t\n\r]/g, '').replace(/#.*$/s, '');
  if (!/^data:/i.test(url)) return null;
  const comma = url.indexOf(',');
  if (comma === -1) return null;
  const meta = url.slice(5, comma).trim();
  const payload = url.slice(comma + 1);
  const base64 = /;[ \t]*base64$/i.test(meta);
  const type = (base64 ? meta.replace(/;[ \t]*base64$/i, '') : meta).trim() || 'text/plain;charset=US-ASCII';
  const raw = percentDecode(new TextEncoder().encode(payload));
  if (!base64) return { type, bytes: raw };
  let text = '';
  for (const b of raw) text += String.fromCharCode(b);
  try {
    const binary = atob(text.replace(/[\t\n\f\r ]/g, ''));
    return { type, bytes: Uint8Array.from(binary, (c) => c.charCodeAt(0)) };
  } catch {
    return null;
  }
}

function hex(b: number | undefined): number {
  if (b === undefined) return -1;
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  const lower = b | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/** URL percent-decoding of bytes: `%XX` becomes the byte, anything else stays. */
function percentDecode(input: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < input.length; i++) {
    const b = input[i] as number;
    const high = b === 0x25 ? hex(input[i + 1]) : -1;
    const low = high === -1 ? -1 : hex(input[i + 2]);
    if (low === -1) out.push(b);
    else {
      out.push(high * 16 + low);
      i += 2;
    }
  }
  return Uint8Array.from(out);
}

/** The media type parameter that marks a data: document as mapped already (by the gateway or the runtime). */
export const MAPPED_DATA_DOCUMENT = 'cobrowse=1';

/** True for a data: URL whose body is an HTML document. */
export function isHtmlDataUrl(url: string): boolean {
  return /^[\0- ]*data:[\f ]*text\/html[\f ]*(?:[;,])/i.test(url.replace(/[\t\n\r]/g, ''));
}

/** Whether a data: URL's media type marks its document as mapped already. */
export function isMappedDataDocument(type: string): boolean {
  return type
    .toLowerCase()
    .split(';')
    .some((p) => p.trim() === MAPPED_DATA_DOCUMENT);
}

/** The data: URL of a mapped document (its UTF-8 bytes in base64), with the fragment of the URL it came from. */
export function mappedDataUrl(base64: string, from: string): string {
  return `data:text/html;charset=utf-8;${MAPPED_DATA_DOCUMENT};base64,${base64}${/#.*$/s.exec(from)?.[0] ?? ''}`;
}

/** The encoding a label names (WHATWG Encoding), or null when it names none. */
function encodingOf(label: string): string | null {
  try {
    return new TextDecoder(label).encoding;
  } catch {
    return null;
  }
}

/**
 * The encoding of an HTML body as the browser finds it: a byte order mark, the media type's
 * charset (when it names an encoding), a <meta> in its first 1024 bytes (UTF-16 there means
 * UTF-8, x-user-defined windows-1252), else windows-1252.
 */
function htmlCharset(type: string, bytes: Uint8Array): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if ((bytes[0] === 0xfe && bytes[1] === 0xff) || (bytes[0] === 0xff && bytes[1] === 0xfe)) return bytes[0] === 0xfe ? 'utf-16be' : 'utf-16le';
  const declared = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(type)?.[1];
  const transport = declared === undefined ? null : encodingOf(declared);
  if (transport !== null) return transport;
  let head = '';
  for (const b of bytes.subarray(0, 1024)) head += String.fromCharCode(b);
  const label = /<meta[^>]*?charset\s*=\s*["']?\s*([\w.:-]+)/i.exec(head)?.[1];
  const meta = label === undefined ? null : encodingOf(label);
  if (meta === null) return 'windows-1252';
  if (meta === 'utf-16le' || meta === 'utf-16be') return 'utf-8';
  return meta === 'x-user-defined' ? 'windows-1252' : meta;
}

/** The text of a data: URL's HTML body, in the charset the browser would read it in. */
export function decodeHtml(body: { type: string; bytes: Uint8Array }): string {
  const label = htmlCharset(body.type, body.bytes);
  try {
    return new TextDecoder(label).decode(body.bytes);
  } catch {
    return new TextDecoder('windows-1252').decode(body.bytes);
  }
}

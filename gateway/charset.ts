// The charset of an HTML or CSS body whose Content-Type does not name one, found the way browsers
// find it: the byte order mark, then for HTML the <meta> prescan of the first 1024 bytes (WHATWG
// HTML 13.2.3.2, "prescan a byte stream to determine its encoding"), for CSS the @charset rule
// (CSS Syntax 3, 3.2). The proxy reads that much of the body before it answers.

import { Readable } from 'node:stream';
import type { RawHeaders } from './header-policy.js';
import { whatwgEncoding } from './rewrite/text-codec.js';

/** How many bytes the prescan looks at (the HTML standard's limit). */
export const PRESCAN_BYTES = 1024;

/** How long the proxy waits for the first PRESCAN_BYTES before it decides on what it has. */
export const PRESCAN_WAIT_MS = 250;

/** Where a sniffed charset came from: a BOM overrides the header in browsers, a declaration does not. */
export type CharsetSource = 'bom' | 'declaration';

/** The WHATWG encoding name for a label (`latin1` -> `windows-1252`), or null when unknown. */
export function encodingForLabel(label: string): string | null {
  const trimmed = label.trim().toLowerCase();
  if (trimmed === 'x-user-defined') return 'windows-1252';
  return whatwgEncoding(trimmed);
}

/** The encoding a byte order mark at the start of `bytes` stands for. */
export function bomEncoding(bytes: Uint8Array): string | null {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  return null;
}

const isSpace = (c: number | undefined) => c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d || c === 0x20;
const isAlpha = (c: number | undefined) => c !== undefined && ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a));
const lower = (c: number) => (c >= 0x41 && c <= 0x5a ? c + 0x20 : c);

/** Reads bytes as the prescan does: attribute names and values lowercased, positions in bytes. */
class Prescan {
  pos = 0;
  constructor(readonly b: Uint8Array) {}

  startsWith(text: string): boolean {
    for (let i = 0; i < text.length; i++) if (lower(this.b[this.pos + i] ?? -1) !== text.charCodeAt(i)) return false;
    return true;
  }

  /** HTML 13.2.3.2 "get an attribute"; null when there is none (at `>` or at the end). */
  attribute(): [string, string] | null {
    const b = this.b;
    while (isSpace(b[this.pos]) || b[this.pos] === 0x2f) this.pos++;
    if (this.pos >= b.length || b[this.pos] === 0x3e) return null;
    let name = '';
    let value = '';
    for (;;) {
      const c = b[this.pos];
      if (c === undefined) return null;
      if (c === 0x3d && name !== '') {
        this.pos++;
        break;
      }
      if (isSpace(c)) {
        while (isSpace(b[this.pos])) this.pos++;
        if (b[this.pos] !== 0x3d) return [name, ''];
        this.pos++;
        break;
      }
      if (c === 0x2f || c === 0x3e) return [name, ''];
      name += String.fromCharCode(lower(c));
      this.pos++;
    }
    while (isSpace(b[this.pos])) this.pos++;
    const q = b[this.pos];
    if (q === 0x22 || q === 0x27) {
      for (this.pos++; ; this.pos++) {
        const c = b[this.pos];
        if (c === undefined) return null;
        if (c === q) {
          this.pos++;
          return [name, value];
        }
        value += String.fromCharCode(lower(c));
      }
    }
    if (q === 0x3e) return [name, ''];
    for (;;) {
      const c = b[this.pos];
      if (c === undefined) return null;
      if (isSpace(c) || c === 0x3e) return [name, value];
      value += String.fromCharCode(lower(c));
      this.pos++;
    }
  }
}

/** WHATWG HTML "algorithm for extracting a character encoding from a meta element": the charset a content value names. */
export function charsetFromContent(content: string): string | null {
  const s = content.toLowerCase();
  let from = 0;
  for (;;) {
    const at = s.indexOf('charset', from);
    if (at === -1) return null;
    let i = at + 7;
    while (isSpace(s.charCodeAt(i))) i++;
    if (s[i] !== '=') {
      from = at + 7;
      continue;
    }
    i++;
    while (isSpace(s.charCodeAt(i))) i++;
    const q = s[i];
    if (q === '"' || q === "'") {
      const end = s.indexOf(q, i + 1);
      return end === -1 ? null : s.slice(i + 1, end);
    }
    let end = i;
    while (end < s.length && !isSpace(s.charCodeAt(end)) && s[end] !== ';') end++;
    return end > i ? s.slice(i, end) : null;
  }
}

/** The encoding the <meta> prescan finds in the first bytes of an HTML document, or null. */
export function prescanHtml(bytes: Uint8Array): string | null {
  const p = new Prescan(bytes.subarray(0, PRESCAN_BYTES));
  const b = p.b;
  while (p.pos < b.length) {
    if (p.startsWith('<!--')) {
      const end = Buffer.from(b.buffer, b.byteOffset, b.length).indexOf('-->', p.pos + 2);
      if (end === -1) return null;
      p.pos = end + 3;
    } else if (p.startsWith('<meta') && (isSpace(b[p.pos + 5]) || b[p.pos + 5] === 0x2f)) {
      p.pos += 5;
      const found = metaCharset(p);
      if (found) return found;
    } else if ((b[p.pos] === 0x3c && isAlpha(b[p.pos + 1])) || (p.startsWith('</') && isAlpha(b[p.pos + 2]))) {
      while (p.pos < b.length && !isSpace(b[p.pos]) && b[p.pos] !== 0x3e) p.pos++;
      while (p.attribute()) {}
      p.pos++;
    } else if (p.startsWith('<!') || p.startsWith('</') || p.startsWith('<?')) {
      while (p.pos < b.length && b[p.pos] !== 0x3e) p.pos++;
      p.pos++;
    } else {
      p.pos++;
    }
  }
  return null;
}

/** The attributes of one <meta> tag; its charset when it declares one the prescan accepts. */
function metaCharset(p: Prescan): string | null {
  const seen = new Set<string>();
  let gotPragma = false;
  let needPragma: boolean | null = null;
  let charset: string | null = null;
  for (let attr = p.attribute(); attr; attr = p.attribute()) {
    const [name, value] = attr;
    if (seen.has(name)) continue;
    seen.add(name);
    if (name === 'http-equiv' && value === 'content-type') gotPragma = true;
    else if (name === 'content' && charset === null) {
      const label = charsetFromContent(value);
      if (label !== null) {
        charset = encodingForLabel(label);
        needPragma = true;
      }
    } else if (name === 'charset') {
      charset = encodingForLabel(value);
      needPragma = false;
    }
  }
  if (needPragma === null || (needPragma && !gotPragma) || charset === null) return null;
  return charset.startsWith('utf-16') ? 'utf-8' : charset;
}

/** The encoding a stylesheet's leading `@charset "...";` names, or null. */
export function prescanCss(bytes: Uint8Array): string | null {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, PRESCAN_BYTES)).toString('latin1');
  const m = /^@charset "([^"]*)";/.exec(head);
  const found = m?.[1] === undefined ? null : encodingForLabel(m[1]);
  return found?.startsWith('utf-16') ? 'utf-8' : found;
}

/** Reads up to `bytes` of `body` (waiting at most `waitMs`) and gives them back with the rest of the body. */
export async function peekBody(body: AsyncIterable<Uint8Array>, bytes = PRESCAN_BYTES, waitMs = PRESCAN_WAIT_MS): Promise<{ head: Buffer; body: Readable }> {
  const it = body[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  let ended = false;
  let pending: Promise<IteratorResult<Uint8Array>> | null = null;
  const deadline = Date.now() + waitMs;
  while (size < bytes) {
    const next = (pending ??= it.next());
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()), 'timeout')));
    const result = await Promise.race([next, timeout]).finally(() => clearTimeout(timer));
    if (result === 'timeout') {
      // Lifetime rule: the unfinished read is taken over by the rest of the body; until then its failure must not go unhandled.
      next.catch(() => {});
      break;
    }
    pending = null;
    if (result.done) {
      ended = true;
      break;
    }
    chunks.push(Buffer.from(result.value));
    size += result.value.length;
  }
  const head = Buffer.concat(chunks);
  async function* rest(): AsyncGenerator<Uint8Array> {
    try {
      if (head.length > 0) yield head;
      if (ended) return;
      for (let r = await (pending ?? it.next()); !r.done; r = await it.next()) yield r.value;
    } finally {
      await it.return?.();
    }
  }
  return { head, body: Readable.from(rest(), { objectMode: false }) };
}

/** The charset of a body whose header names none: from its BOM or its own declaration, or null. */
export async function sniffCharset(
  body: AsyncIterable<Uint8Array>,
  kind: 'html' | 'css',
): Promise<{ charset: string | null; source: CharsetSource | null; body: Readable }> {
  const peeked = await peekBody(body);
  const bom = bomEncoding(peeked.head);
  if (bom) return { charset: bom, source: 'bom', body: peeked.body };
  const declared = kind === 'html' ? prescanHtml(peeked.head) : prescanCss(peeked.head);
  return { charset: declared, source: declared ? 'declaration' : null, body: peeked.body };
}

/**
 * Whether pages in the charset `label` are transcoded to UTF-8 before rewriting: UTF-16 (not
 * ASCII-compatible) and ISO-2022-JP (stateful: its two-byte mode uses bytes such as `<` and `"`,
 * so a byte scanner would take a kanji for the start of a tag and swallow the real tag after it).
 */
export function isTranscoded(label: string | undefined): boolean {
  const encoding = label === undefined ? null : encodingForLabel(label);
  return encoding !== null && (encoding.startsWith('utf-16') || encoding === 'iso-2022-jp');
}

/**
 * A body in the charset `label` (isTranscoded) as UTF-8, decoded as it streams (for UTF-16 a
 * byte order mark decides the order, and is dropped). HTML has UTF-16 documents submit forms and
 * encode URLs in UTF-8; an ISO-2022-JP page's forms are told to keep ISO-2022-JP by the runtime
 * (accept-charset), its links' raw non-ASCII query text is encoded in UTF-8.
 */
export async function* utf8From(body: AsyncIterable<Uint8Array>, label: string): AsyncGenerator<Buffer> {
  const named = encodingForLabel(label) ?? 'utf-16le';
  // A byte order mark wins over the label (HTML: BOM sniffing first), a UTF-8 one too.
  const decoderFor = (head: Uint8Array) => new TextDecoder(bomEncoding(head) ?? named);
  let decoder: ReturnType<typeof decoderFor> | null = null;
  // The first bytes, until there are enough to tell a byte order mark (three for UTF-8's).
  let head: Buffer = Buffer.alloc(0);
  for await (const chunk of body) {
    let bytes: Uint8Array = chunk;
    if (decoder === null) {
      head = Buffer.concat([head, chunk]);
      if (head.length < 2 || (head.length < 3 && head[0] === 0xef && head[1] === 0xbb)) continue;
      decoder = decoderFor(head);
      bytes = head;
    }
    const text = decoder.decode(bytes, { stream: true });
    if (text !== '') yield Buffer.from(text, 'utf8');
  }
  const rest = decoder === null ? decoderFor(head).decode(head) : decoder.decode();
  if (rest !== '') yield Buffer.from(rest, 'utf8');
}

/**
 * Names the charset in Content-Type, so that the browser decodes the page as the gateway read it
 * even when the injected script pushes the page's own <meta> past the browser's 1024-byte prescan.
 */
export function withCharset(headers: [string, string][], charset: string | null): void {
  const entry = headers.find(([name]) => name === 'content-type');
  if (entry && charset) entry[1] = `${entry[1].replace(/;\s*$/, '')}; charset=${charset}`;
}

/** Content-Type with its charset parameter replaced by `charset` (or added). */
export function setCharset(headers: [string, string][], charset: string): void {
  const entry = headers.find(([name]) => name === 'content-type');
  if (entry) entry[1] = `${entry[1].replace(/;\s*charset\s*=\s*("[^"]*"|[^;]*)/gi, '').replace(/;\s*$/, '')}; charset=${charset}`;
}

/** The charset parameter of an upstream Content-Type, lowercased. */
export function charsetOf(headers: RawHeaders): string | undefined {
  const m = /charset\s*=\s*"?([\w.:-]+)/i.exec(String(headers['content-type'] ?? ''));
  return m?.[1]?.toLowerCase();
}

// Streaming CSS URL rewriter: maps the URLs of url(...), @import strings and image-set() strings
// and copies every other byte through. The scanner works on any string whose ASCII characters are
// the CSS ones: Unicode text (rewriteCss) or bytes held as latin1 (streams, <style> in HTML).

import { Transform, type TransformCallback } from 'node:stream';

/** Longest token held back across chunks; a longer one is copied through unmodified. */
export const MAX_TOKEN = 1 << 20;

/** Maps one URL: the replacement, or null to leave it as it is (a throw counts as null). */
export type CssMapUrl = (url: string) => string | null;

function safe(map: CssMapUrl): CssMapUrl {
  return (url) => {
    try {
      return map(url);
    } catch {
      return null;
    }
  };
}

/** How scanned text relates to Unicode: identity for strings, a charset for latin1-held bytes. */
export interface TextCodec {
  decode(raw: string): string;
  encode(text: string): string;
  /** Non-ASCII characters must be written as escapes (the charset is not UTF-8). */
  asciiOnly: boolean;
}

/** The codec for text that is already Unicode. */
export const UNICODE_CODEC: TextCodec = { decode: (s) => s, encode: (s) => s, asciiOnly: false };

const NON_ASCII = /[^\x00-\x7f]/;

/** A codec for bytes held as a latin1 string in `charset` (default UTF-8); null if the charset is not ASCII-compatible. */
export function byteCodec(charset?: string): TextCodec | null {
  let encoding = 'utf-8';
  if (charset) {
    try {
      encoding = new TextDecoder(charset.trim()).encoding;
    } catch {
      encoding = 'utf-8';
    }
  }
  if (encoding.startsWith('utf-16') || encoding === 'replacement') return null;
  if (encoding === 'utf-8') {
    return {
      decode: (raw) => (NON_ASCII.test(raw) ? Buffer.from(raw, 'latin1').toString('utf8') : raw),
      encode: (text) => (NON_ASCII.test(text) ? Buffer.from(text, 'utf8').toString('latin1') : text),
      asciiOnly: false,
    };
  }
  const decoder = new TextDecoder(encoding);
  return {
    decode: (raw) => (NON_ASCII.test(raw) ? decoder.decode(Buffer.from(raw, 'latin1')) : raw),
    encode: (text) => text,
    asciiOnly: true,
  };
}

const TAB = 0x09;
const LF = 0x0a;
const FF = 0x0c;
const CR = 0x0d;
const SPACE = 0x20;
const DQUOTE = 0x22;
const SQUOTE = 0x27;
const LPAREN = 0x28;
const RPAREN = 0x29;
const STAR = 0x2a;
const SLASH = 0x2f;
const SEMI = 0x3b;
const AT = 0x40;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;

const KEYWORD_MAX = 17;

function isWs(c: number): boolean {
  return c === SPACE || c === LF || c === TAB || c === CR || c === FF;
}

function isNewline(c: number): boolean {
  return c === LF || c === CR || c === FF;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

function isIdent(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f || c === BACKSLASH || c >= 0x80;
}

function isNonPrintable(c: number): boolean {
  return c <= 0x08 || c === 0x0b || (c >= 0x0e && c <= 0x1f) || c === 0x7f;
}

/** Resolves the CSS escapes of a URL or string value. */
export function cssUnescape(s: string): string {
  if (s.indexOf('\\') === -1) return s;
  let out = '';
  let i = 0;
  const n = s.length;
  while (i < n) {
    const b = s.indexOf('\\', i);
    if (b === -1) break;
    out += s.slice(i, b);
    i = b + 1;
    if (i >= n) break;
    const c = s.charCodeAt(i);
    if (isNewline(c)) {
      i += c === CR && s.charCodeAt(i + 1) === LF ? 2 : 1;
    } else if (isHex(c)) {
      let j = i;
      while (j < n && j - i < 6 && isHex(s.charCodeAt(j))) j++;
      const cp = Number.parseInt(s.slice(i, j), 16);
      out += String.fromCodePoint(cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? 0xfffd : cp);
      i = j;
      if (i < n && isWs(s.charCodeAt(i))) i += s.charCodeAt(i) === CR && s.charCodeAt(i + 1) === LF ? 2 : 1;
    } else {
      const cp = s.codePointAt(i) ?? c;
      out += String.fromCodePoint(cp);
      i += cp > 0xffff ? 2 : 1;
    }
  }
  return out + s.slice(i);
}

const UNQUOTED_SPECIAL = /[\x00-\x20"'()\\\x7f]/;
const QUOTED_SPECIAL = /[\x00-\x1f"'\\\x7f]/;
const UNQUOTED_SPECIAL_ASCII = /[\x00-\x20"'()\\\x7f-\uffff]/;
const QUOTED_SPECIAL_ASCII = /[\x00-\x1f"'\\\x7f-\uffff]/;

function hexEscape(cp: number): string {
  return `\\${cp.toString(16)} `;
}

/** Escapes a URL for a CSS string delimited by `quote` ('"' or "'") or, with quote '', for an unquoted url(). */
export function cssEscapeUrl(url: string, quote: string, asciiOnly: boolean): string {
  const special = asciiOnly ? (quote === '' ? UNQUOTED_SPECIAL_ASCII : QUOTED_SPECIAL_ASCII) : quote === '' ? UNQUOTED_SPECIAL : QUOTED_SPECIAL;
  if (!special.test(url)) return url;
  let out = '';
  let from = 0;
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i);
    let rep: string | null = null;
    if (c === BACKSLASH) rep = '\\\\';
    else if (c < 0x20 || c === 0x7f) rep = hexEscape(c);
    else if (quote !== '') {
      if (c === quote.charCodeAt(0)) rep = `\\${quote}`;
    } else if (c === SPACE) rep = '\\20 ';
    else if (c === DQUOTE || c === SQUOTE || c === LPAREN || c === RPAREN) rep = `\\${url[i]}`;
    if (rep === null && asciiOnly && c >= 0x80) {
      const cp = url.codePointAt(i) ?? c;
      rep = hexEscape(cp);
      if (cp > 0xffff) {
        out += url.slice(from, i) + rep;
        i++;
        from = i + 1;
        continue;
      }
    }
    if (rep !== null) {
      out += url.slice(from, i) + rep;
      from = i + 1;
    }
  }
  return from === 0 ? url : out + url.slice(from);
}

const KIND_UNQUOTED = 0;

/** Incremental CSS URL rewriter over a region of a string; the core of rewriteCss, CssRewriteStream and <style> rewriting. */
export class CssScanner {
  /** Set when a scan replaced a URL; the caller resets it. */
  changed = false;
  private edits: number[] = [];
  private urlQuoted = false;

  constructor(
    private readonly map: CssMapUrl,
    private readonly codec: TextCodec,
  ) {}

  /**
   * Rewrites text[start, end) into `out` and returns how far it got: everything before the returned
   * index is written; the rest starts a token that may continue in the next chunk (never when final).
   */
  scan(text: string, start: number, end: number, final: boolean, out: string[]): number {
    const edits = this.edits;
    edits.length = 0;
    let i = start;
    let stop = -1;
    const next = (ch: string): number => {
      const k = text.indexOf(ch, i);
      return k === -1 || k > end ? end : k;
    };
    let nSlash = -1;
    let nDq = -1;
    let nSq = -1;
    let nBackslash = -1;
    let nParen = -1;
    let nAt = -1;
    while (i < end) {
      if (nSlash < i) nSlash = next('/');
      if (nDq < i) nDq = next('"');
      if (nSq < i) nSq = next("'");
      if (nBackslash < i) nBackslash = next('\\');
      if (nParen < i) nParen = next('(');
      if (nAt < i) nAt = next('@');
      i = Math.min(nSlash, nDq, nSq, nBackslash, nParen, nAt);
      if (i >= end) break;
      const c = text.charCodeAt(i);
      let r: number;
      if (c === SLASH) {
        if (i + 1 >= end) {
          if (final) {
            i = end;
            break;
          }
          stop = i;
          break;
        }
        if (text.charCodeAt(i + 1) !== STAR) {
          i++;
          continue;
        }
        r = this.run(0, text, i, i, end, final);
      } else if (c === DQUOTE || c === SQUOTE) {
        r = this.run(1, text, i, i, end, final);
      } else if (c === BACKSLASH) {
        r = this.run(2, text, i, i, end, final);
      } else if (c === LPAREN) {
        const k = identStart(text, i, start);
        const kind = k < 0 ? -1 : keyword(text, k, i);
        if (kind < 0) {
          i++;
          continue;
        }
        r = this.run(kind, text, k, i, end, final);
        if (r < 0) {
          stop = k;
          break;
        }
        i = r;
        continue;
      } else if (c === AT) {
        let k = i + 1;
        while (k < end && k - i <= 10 && isIdent(text.charCodeAt(k))) k++;
        if (k >= end && !final) {
          stop = i;
          break;
        }
        const name = text.slice(i + 1, k).toLowerCase();
        if (name === 'import') r = this.run(5, text, i, k, end, final);
        else if (name === 'namespace') r = this.run(6, text, i, k, end, final);
        else {
          i = k;
          continue;
        }
      } else {
        i++;
        continue;
      }
      if (r < 0) {
        stop = i;
        break;
      }
      i = r;
    }
    let consumed = stop >= 0 ? stop : end;
    if (stop < 0 && !final) {
      let k = end;
      while (k > start && end - k <= KEYWORD_MAX && isIdent(text.charCodeAt(k - 1))) k--;
      consumed = k;
    }
    let emit = start;
    for (let e = 0; e < edits.length; e += 3) {
      const s = edits[e]!;
      const t = edits[e + 1]!;
      if (t > consumed) break;
      const rep = this.mapRaw(text.slice(s, t), edits[e + 2]!);
      if (rep === null) continue;
      out.push(text.slice(emit, s), rep);
      emit = t;
      this.changed = true;
    }
    if (consumed > emit) out.push(text.slice(emit, consumed));
    return consumed;
  }

  private mapRaw(raw: string, kind: number): string | null {
    const url = cssUnescape(this.codec.decode(raw));
    if (url === '') return null;
    const mapped = this.map(url);
    if (mapped === null) return null;
    const quote = kind === KIND_UNQUOTED ? '' : String.fromCharCode(kind);
    return this.codec.encode(cssEscapeUrl(mapped, quote, this.codec.asciiOnly));
  }

  /** Parses the token of `kind` starting at p (its trigger at q); >= 0 is where it ends, -1 means wait for more input. */
  private run(kind: number, text: string, p: number, q: number, end: number, final: boolean): number {
    const limit = Math.min(p + MAX_TOKEN, end);
    const eof = final && limit === end;
    const mark = this.edits.length;
    let r: number;
    switch (kind) {
      case 0:
        r = comment(text, q, limit, eof);
        break;
      case 1:
        r = this.string(text, q, limit, eof, false);
        break;
      case 2:
        r = escapeEnd(text, q, limit, eof);
        break;
      case 3:
        r = this.url(text, q, limit, eof);
        break;
      case 4:
        r = this.imageSet(text, q, limit, eof);
        break;
      case 5:
        r = this.importRule(text, q, limit, eof);
        break;
      default:
        r = this.namespaceRule(text, q, limit, eof);
    }
    if (r >= 0) return r;
    this.edits.length = mark;
    return limit < end ? limit : -1;
  }

  private string(text: string, p: number, limit: number, eof: boolean, isUrl: boolean): number {
    const quote = text.charCodeAt(p);
    let j = p + 1;
    while (j < limit) {
      const c = text.charCodeAt(j);
      if (c === quote) {
        if (isUrl) this.edits.push(p + 1, j, quote);
        return j + 1;
      }
      if (c === BACKSLASH) {
        const e = escapeEnd(text, j, limit, eof);
        if (e < 0) return -1;
        j = e;
        continue;
      }
      if (isNewline(c)) return j;
      j++;
    }
    if (!eof) return -1;
    if (isUrl) this.edits.push(p + 1, limit, quote);
    return limit;
  }

  /** `url(` at q: a quoted string argument or an unquoted URL up to `)`. */
  private url(text: string, q: number, limit: number, eof: boolean): number {
    let j = q + 1;
    while (j < limit && isWs(text.charCodeAt(j))) j++;
    if (j >= limit) return eof ? limit : -1;
    const first = text.charCodeAt(j);
    if (first === DQUOTE || first === SQUOTE) {
      this.urlQuoted = true;
      return this.string(text, j, limit, eof, true);
    }
    this.urlQuoted = false;
    const us = j;
    while (j < limit) {
      const c = text.charCodeAt(j);
      if (c === RPAREN) {
        if (j > us) this.edits.push(us, j, KIND_UNQUOTED);
        return j + 1;
      }
      if (isWs(c)) {
        const ue = j;
        while (j < limit && isWs(text.charCodeAt(j))) j++;
        if (j >= limit) {
          if (!eof) return -1;
          this.edits.push(us, ue, KIND_UNQUOTED);
          return limit;
        }
        if (text.charCodeAt(j) === RPAREN) {
          this.edits.push(us, ue, KIND_UNQUOTED);
          return j + 1;
        }
        return badUrl(text, j, limit, eof);
      }
      if (c === DQUOTE || c === SQUOTE || c === LPAREN || isNonPrintable(c)) return badUrl(text, j, limit, eof);
      if (c === BACKSLASH) {
        if (j + 1 < limit && isNewline(text.charCodeAt(j + 1))) return badUrl(text, j, limit, eof);
        const e = escapeEnd(text, j, limit, eof);
        if (e < 0) return -1;
        j = e;
        continue;
      }
      j++;
    }
    if (!eof) return -1;
    this.edits.push(us, limit, KIND_UNQUOTED);
    return limit;
  }

  /** `image-set(` at q: strings directly inside are URLs, and so are url() arguments. */
  private imageSet(text: string, q: number, limit: number, eof: boolean): number {
    let depth = 1;
    let j = q + 1;
    while (j < limit) {
      const c = text.charCodeAt(j);
      if (c === DQUOTE || c === SQUOTE) {
        const r = this.string(text, j, limit, eof, depth === 1);
        if (r < 0) return -1;
        j = r;
      } else if (c === SLASH && text.charCodeAt(j + 1) === STAR && j + 1 < limit) {
        const r = comment(text, j, limit, eof);
        if (r < 0) return -1;
        j = r;
      } else if (c === BACKSLASH) {
        const r = escapeEnd(text, j, limit, eof);
        if (r < 0) return -1;
        j = r;
      } else if (c === LPAREN) {
        const k = identStart(text, j, q + 1);
        if (k >= 0 && keyword(text, k, j) === 3) {
          const r = this.url(text, j, limit, eof);
          if (r < 0) return -1;
          if (this.urlQuoted) depth++;
          j = r;
        } else {
          depth++;
          j++;
        }
      } else if (c === RPAREN) {
        j++;
        if (--depth === 0) return j;
      } else j++;
    }
    return eof ? limit : -1;
  }

  /** `@import` ending at q: a string URL right after it (a url() is handled as one anywhere). */
  private importRule(text: string, q: number, limit: number, eof: boolean): number {
    let j = q;
    for (;;) {
      while (j < limit && isWs(text.charCodeAt(j))) j++;
      if (j + 1 < limit && text.charCodeAt(j) === SLASH && text.charCodeAt(j + 1) === STAR) {
        const r = comment(text, j, limit, eof);
        if (r < 0) return -1;
        j = r;
        continue;
      }
      break;
    }
    if (j >= limit || (j + 1 >= limit && text.charCodeAt(j) === SLASH)) return eof ? limit : -1;
    const c = text.charCodeAt(j);
    if (c === DQUOTE || c === SQUOTE) return this.string(text, j, limit, eof, true);
    return j;
  }

  /** `@namespace` ending at q: its prelude names a namespace, not a resource, so it is skipped whole. */
  private namespaceRule(text: string, q: number, limit: number, eof: boolean): number {
    let j = q;
    while (j < limit) {
      const c = text.charCodeAt(j);
      if (c === SEMI || c === LBRACE || c === RBRACE) return j + 1;
      if (c === DQUOTE || c === SQUOTE) {
        const r = this.string(text, j, limit, eof, false);
        if (r < 0) return -1;
        j = r;
      } else if (c === SLASH && j + 1 < limit && text.charCodeAt(j + 1) === STAR) {
        const r = comment(text, j, limit, eof);
        if (r < 0) return -1;
        j = r;
      } else if (c === BACKSLASH) {
        const r = escapeEnd(text, j, limit, eof);
        if (r < 0) return -1;
        j = r;
      } else j++;
    }
    return eof ? limit : -1;
  }
}

function comment(text: string, p: number, limit: number, eof: boolean): number {
  const e = text.indexOf('*/', p + 2);
  if (e >= 0 && e + 2 <= limit) return e + 2;
  return eof ? limit : -1;
}

/** End of the escape whose backslash is at j. */
function escapeEnd(text: string, j: number, limit: number, eof: boolean): number {
  if (j + 1 >= limit) return eof ? limit : -1;
  const c = text.charCodeAt(j + 1);
  if (c === CR) {
    if (j + 2 >= limit) return eof ? limit : -1;
    return text.charCodeAt(j + 2) === LF ? j + 3 : j + 2;
  }
  if (!isHex(c)) return j + 2;
  let k = j + 1;
  while (k < limit && k - j <= 6 && isHex(text.charCodeAt(k))) k++;
  if (k >= limit) return eof ? limit : -1;
  const w = text.charCodeAt(k);
  if (w === CR) {
    if (k + 1 >= limit) return eof ? limit : -1;
    return text.charCodeAt(k + 1) === LF ? k + 2 : k + 1;
  }
  return isWs(w) ? k + 1 : k;
}

function badUrl(text: string, j: number, limit: number, eof: boolean): number {
  while (j < limit) {
    const c = text.charCodeAt(j);
    if (c === RPAREN) return j + 1;
    if (c === BACKSLASH && j + 1 < limit && !isNewline(text.charCodeAt(j + 1))) {
      const e = escapeEnd(text, j, limit, eof);
      if (e < 0) return -1;
      j = e;
    } else j++;
  }
  return eof ? limit : -1;
}

/** Start of the identifier right before the `(` at i, or -1 if it is too long to be a keyword. */
function identStart(text: string, i: number, start: number): number {
  let k = i;
  while (k > start && i - k <= KEYWORD_MAX && isIdent(text.charCodeAt(k - 1))) k--;
  return i - k > KEYWORD_MAX ? -1 : k;
}

/** 3 for url, 4 for image-set and -webkit-image-set, -1 otherwise. */
function keyword(text: string, k: number, i: number): number {
  const n = i - k;
  if (n !== 3 && n !== 9 && n !== 17) return -1;
  const name = text.slice(k, i).toLowerCase();
  if (name === 'url') return 3;
  if (name === 'image-set' || name === '-webkit-image-set') return 4;
  return -1;
}

/** Maps the URLs of url(...), @import strings and image-set() strings in `css`; comments and other strings stay as they are. */
export function rewriteCss(css: string, mapUrl: (url: string) => string | null): string {
  const out: string[] = [];
  new CssScanner(safe(mapUrl), UNICODE_CODEC).scan(css, 0, css.length, true, out);
  return out.length === 1 ? out[0]! : out.join('');
}

/** Options of CssRewriteStream. */
export interface CssRewriteStreamOptions {
  /** Charset of the stylesheet's bytes (default UTF-8); URLs are decoded with it before mapping. */
  charset?: string;
}

/** A Transform (bytes in, bytes out) that rewrites a stylesheet's URLs as rewriteCss does, never splitting a token across chunks. */
export class CssRewriteStream extends Transform {
  private readonly scanner: CssScanner | null;
  private tail: Buffer | null = null;

  constructor(mapUrl: (url: string) => string | null, options: CssRewriteStreamOptions = {}) {
    super();
    const codec = byteCodec(options.charset);
    this.scanner = codec ? new CssScanner(safe(mapUrl), codec) : null;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (!this.scanner) {
      done(null, chunk);
      return;
    }
    try {
      this.process(this.tail === null ? chunk : Buffer.concat([this.tail, chunk]), false);
    } catch (err) {
      done(err as Error);
      return;
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    try {
      if (this.scanner && this.tail !== null) this.process(this.tail, true);
    } catch (err) {
      done(err as Error);
      return;
    }
    done();
  }

  private process(bytes: Buffer, final: boolean): void {
    const scanner = this.scanner!;
    const out: string[] = [];
    scanner.changed = false;
    const consumed = scanner.scan(bytes.toString('latin1'), 0, bytes.length, final, out);
    this.tail = consumed < bytes.length ? Buffer.from(bytes.subarray(consumed)) : null;
    if (consumed === 0) return;
    this.push(scanner.changed ? Buffer.from(out.length === 1 ? out[0]! : out.join(''), 'latin1') : bytes.subarray(0, consumed));
  }
}

// The CSS URL scanner: finds url(...), @import strings and image-set() strings in a region of a
// string and records their replacements; every other byte is left where it is. It works on any
// string whose ASCII characters are the CSS ones: Unicode text or bytes held as latin1. Its
// token helpers are in this file so that the loops read no imported bindings (see html-syntax.ts).

import { cssEscapeUrl, cssUnescape } from './css-escapes.js';
import type { Edits } from './edits.js';
import { mayBeAbsolute } from './relative-url.js';
import type { TextCodec } from './text-codec.js';

/** Longest token held back across chunks; a longer one is copied through unmodified. */
export const MAX_TOKEN = 1 << 20;

/** Maps one URL: the replacement, or null to leave it as it is. */
export type CssMapUrl = (url: string) => string | null;

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

/** Longest function name the scanner looks for (-webkit-image-set). */
const KEYWORD_MAX = 17;

/** CSS whitespace. */
function isWs(c: number): boolean {
  return c === SPACE || c === LF || c === TAB || c === CR || c === FF;
}

/** CSS newline (LF, CR, FF). */
function isNewline(c: number): boolean {
  return c === LF || c === CR || c === FF;
}

/** ASCII hex digit. */
function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** A character that may continue an identifier (escapes and non-ASCII included). */
function isIdent(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f || c === BACKSLASH || c >= 0x80;
}

/** A non-printable code point, which makes an unquoted url() a bad URL. */
function isNonPrintable(c: number): boolean {
  return c <= 0x08 || c === 0x0b || (c >= 0x0e && c <= 0x1f) || c === 0x7f;
}

const KIND_UNQUOTED = 0;

/** Incremental CSS URL rewriter over a region of a string; the core of rewriteCss, CssRewriteStream and <style> rewriting. */
export class CssScanner {
  /** Set when a scan replaced a URL; the caller resets it. */
  changed = false;
  private found: number[] = [];
  private urlQuoted = false;

  /** With `relativeUrlsStay`, `map` is known to keep every URL that is not absolute, and is not asked about those. */
  constructor(
    private readonly map: CssMapUrl,
    private readonly codec: TextCodec,
    private readonly relativeUrlsStay = false,
  ) {}

  /**
   * Adds the replacements in text[start, end) to `edits` and returns how far it got: the rest starts
   * a token that may continue in the next chunk (never when final).
   */
  scan(text: string, start: number, end: number, final: boolean, edits: Edits): number {
    const found = this.found;
    found.length = 0;
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
    for (let e = 0; e < found.length; e += 3) {
      const s = found[e]!;
      const t = found[e + 1]!;
      if (t > consumed) break;
      if (this.relativeUrlsStay && !mayBeAbsolute(text, s, t)) continue;
      const rep = this.mapRaw(text.slice(s, t), found[e + 2]!);
      if (rep === null) continue;
      edits.add(s, t, rep);
      this.changed = true;
    }
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
    const mark = this.found.length;
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
    this.found.length = mark;
    return limit < end ? limit : -1;
  }

  private string(text: string, p: number, limit: number, eof: boolean, isUrl: boolean): number {
    const quote = text.charCodeAt(p);
    let j = p + 1;
    while (j < limit) {
      const c = text.charCodeAt(j);
      if (c === quote) {
        if (isUrl) this.found.push(p + 1, j, quote);
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
    if (isUrl) this.found.push(p + 1, limit, quote);
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
        if (j > us) this.found.push(us, j, KIND_UNQUOTED);
        return j + 1;
      }
      if (isWs(c)) {
        const ue = j;
        while (j < limit && isWs(text.charCodeAt(j))) j++;
        if (j >= limit) {
          if (!eof) return -1;
          this.found.push(us, ue, KIND_UNQUOTED);
          return limit;
        }
        if (text.charCodeAt(j) === RPAREN) {
          this.found.push(us, ue, KIND_UNQUOTED);
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
    this.found.push(us, limit, KIND_UNQUOTED);
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

/** End of the comment whose `/*` is at p. */
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

/** End of a bad URL token (its remnants consumed up to `)`). */
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

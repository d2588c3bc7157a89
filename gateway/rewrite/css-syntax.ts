// CSS syntax the URL scanner needs (CSS Syntax Module Level 3): character classes, where comments,
// escapes and bad URLs end, the url()/image-set() keywords, and escaping and unescaping of URLs.

const TAB = 0x09;
const LF = 0x0a;
const FF = 0x0c;
const CR = 0x0d;
const SPACE = 0x20;
const DQUOTE = 0x22;
const SQUOTE = 0x27;
const LPAREN = 0x28;
const RPAREN = 0x29;
const BACKSLASH = 0x5c;

/** Longest function name the scanner looks for (-webkit-image-set). */
export const KEYWORD_MAX = 17;

/** CSS whitespace. */
export function isWs(c: number): boolean {
  return c === SPACE || c === LF || c === TAB || c === CR || c === FF;
}

/** CSS newline (LF, CR, FF). */
export function isNewline(c: number): boolean {
  return c === LF || c === CR || c === FF;
}

/** ASCII hex digit. */
export function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** A character that may continue an identifier (escapes and non-ASCII included). */
export function isIdent(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f || c === BACKSLASH || c >= 0x80;
}

/** A non-printable code point, which makes an unquoted url() a bad URL. */
export function isNonPrintable(c: number): boolean {
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

/** End of the comment whose `/*` is at p. */
export function comment(text: string, p: number, limit: number, eof: boolean): number {
  const e = text.indexOf('*/', p + 2);
  if (e >= 0 && e + 2 <= limit) return e + 2;
  return eof ? limit : -1;
}

/** End of the escape whose backslash is at j. */
export function escapeEnd(text: string, j: number, limit: number, eof: boolean): number {
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
export function badUrl(text: string, j: number, limit: number, eof: boolean): number {
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
export function identStart(text: string, i: number, start: number): number {
  let k = i;
  while (k > start && i - k <= KEYWORD_MAX && isIdent(text.charCodeAt(k - 1))) k--;
  return i - k > KEYWORD_MAX ? -1 : k;
}

/** 3 for url, 4 for image-set and -webkit-image-set, -1 otherwise. */
export function keyword(text: string, k: number, i: number): number {
  const n = i - k;
  if (n !== 3 && n !== 9 && n !== 17) return -1;
  const name = text.slice(k, i).toLowerCase();
  if (name === 'url') return 3;
  if (name === 'image-set' || name === '-webkit-image-set') return 4;
  return -1;
}
